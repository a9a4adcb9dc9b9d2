import path from 'node:path';
import { measureFile } from '../../src/media.js';
import type { Media, ReleaseInput } from '../../src/model.js';
import { htmlToText, sanitizeBody } from '../../src/text.js';
import { BASE_URL, FIXTURES } from './app.js';

/** A word list to build long German bodies from. */
const WORDS = 'Stadt Bürgerinnen Bürger Straße Grünfläche Verkehr Haushalt Sitzung Rat Ausschuss Beschluss Förderung Schule Jugend Kultur Umwelt Baum Brücke Sanierung Öffnung'.split(' ');

/** A body of `words` words in paragraphs of 100 words. */
export function longBody(words: number): string {
  const paragraphs: string[] = [];
  for (let start = 0; start < words; start += 100) {
    const count = Math.min(100, words - start);
    paragraphs.push(`<p>${Array.from({ length: count }, (_, index) => WORDS[(start + index) % WORDS.length]).join(' ')}.</p>`);
  }
  return paragraphs.join('');
}

/** Measures a fixture file and returns it as media served by a fixture URL. */
export async function fixtureMedia(file: string, extra: Partial<Media> = {}): Promise<Media> {
  const size = await measureFile(path.join(FIXTURES, 'media', file));
  return {
    url: `/media/${file}`, title: null, alt: null, caption: null, credit: null,
    width: size.width, height: size.height, mime: size.mime, bytes: size.bytes, ...extra,
  };
}

/** Builds store input the way ingest does: sanitized HTML and its plain text. */
export function input(fields: Partial<ReleaseInput> & { guid: string; title: string; publishedAt: string; body?: string }): ReleaseInput {
  const bodyHtml = sanitizeBody(fields.body ?? '<p>Text.</p>', `${BASE_URL}/`);
  return {
    sourceId: 'test',
    bodyHtml,
    bodyText: htmlToText(bodyHtml),
    organisation: 'Stadt Lindenau',
    ...fields,
  };
}

/** Releases that exercise every hard case of the outputs: markup characters, control characters, "]]>", emoji, length. */
export async function nastyReleases(): Promise<ReleaseInput[]> {
  const image = await fixtureMedia('bild-ohne-endung', {
    alt: 'Ein Farbverlauf in Blau & Grün', caption: 'Die „neue“ Straße <bald> fertig', credit: '© Stadt Lindenau / Jörg Müßig',
  });
  const pdf = await fixtureMedia('anlage.pdf', { title: 'Anlage: Plan & Zeitplan (PDF)' });
  return [
    input({
      guid: 'tag:lindenau.example,2026:nasty-1',
      title: 'Tempo <30 & „Ruhe“ für die Jülicher Straße 🚲 ]]> und ]]> zweimal',
      subtitle: 'Anwohner\u000B fragen: "Wann?" – \'Bald\' & <sicher>',
      body: '<p>Erster Absatz mit ]]> und noch einmal ]]> darin, Steuerzeichen \u0001\u0008\u000B\u000C und Emoji 🎉.</p>'
        + '<p onclick="alert(1)">Zweiter <script>alert(1)</script>Absatz <a href="javascript:alert(1)">Link</a> '
        + '<a href="/releases/anderes">relativ</a>.</p>',
      topics: ['Verkehr', 'Straßenbau'],
      department: 'Fachbereich Mobilität und Verkehr',
      contact: { name: 'Jörg Müßig', organisation: 'Stadt Lindenau', street: 'Markt 1', postcode: '52999', city: 'Lindenau',
        phone: '02461/123-45', fax: '02461/123-46', email: 'presse@lindenau.example' },
      images: [image],
      attachments: [pdf],
      publishedAt: '2026-11-20T09:30:00.000Z',
    }),
    input({
      guid: 'tag:lindenau.example,2026:long-1',
      title: 'Haushalt 2027: der ausführliche Bericht',
      body: longBody(3000),
      topics: ['Finanzen'],
      department: 'Fachbereich Finanzen',
      publishedAt: '2026-10-02T07:00:00.000Z',
    }),
    input({
      guid: 'urn:uuid:6f1c1d0e-8d0c-4a7e-9a53-0d7c1b2e3f40',
      title: 'Öffnungszeiten der Bürgerbüros über die Feiertage',
      subtitle: 'Geänderte Zeiten vom 24. Dezember bis 2. Januar',
      body: '<p>Die Bürgerbüros haben geänderte Öffnungszeiten.</p><ul><li>24.12.: geschlossen</li><li>27.12.: 8–12 Uhr</li></ul>',
      topics: ['Verwaltung', 'Verkehr'],
      department: 'Fachbereich Bürgerservice',
      publishedAt: '2026-06-15T08:00:00.000Z',
    }),
  ];
}
