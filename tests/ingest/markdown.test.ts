import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseMarkdownRelease } from '../../src/ingest/markdown.js';
import { FIXTURES } from '../helpers/app.js';

/** A fixture of the files source as text. */
function fixture(name: string): string {
  return readFileSync(path.join(FIXTURES, 'files', name), 'utf8');
}

/** A Markdown release of the given front matter lines and a one-line body. */
function release(...front: string[]): string {
  return ['---', ...front, '---', 'Text.'].join('\n');
}

describe('parseMarkdownRelease', () => {
  test('every key', () => {
    expect(parseMarkdownRelease(fixture('lindenau-gruenflaeche.md'), 'lindenau-gruenflaeche.md')).toStrictEqual({
      ref: 'tag:lindenau.example,2026:gruenflaeche',
      url: null,
      title: 'Neue Grünfläche am Rathausplatz',
      subtitle: 'Bürgerinnen und Bürger können ab Juni mitgestalten',
      bodyHtml: [
        '<p>Die Stadt Lindenau <strong>verwandelt</strong> den Parkplatz am Rathaus in eine Grünfläche mit Bäumen &amp; Bänken.</p>',
        '<h2>Wie geht es weiter?</h2>',
        '<ul>',
        '<li>Bürgerwerkstatt am 12. März</li>',
        '<li>Entwurf im April</li>',
        '</ul>',
        '<p>Mehr unter <a href="https://lindenau.example/gruen">lindenau.example/gruen</a>.</p>',
      ].join('\n'),
      publishedAt: '2026-03-02T08:30:00.000Z',
      updatedAt: '2026-03-04T11:00:00.000Z',
      embargoUntil: null,
      organisation: 'Stadt Lindenau',
      department: 'Fachbereich Umwelt und Grün',
      contact: {
        name: 'Anna Beispiel', organisation: 'Stadt Lindenau', street: 'Rathausplatz 1', postcode: '01099', city: 'Lindenau',
        phone: '02461 99-3100', fax: '02461 99-3109', email: 'umwelt@lindenau.example',
      },
      topics: ['Umwelt', 'Stadtentwicklung'],
      images: [{
        url: 'bilder/gruenflaeche.jpg', alt: 'Skizze der geplanten Grünfläche', caption: 'So könnte der Platz im Sommer aussehen.',
        credit: '© Stadt Lindenau / Foto: Anna Beispiel',
      }],
      attachments: [
        { url: 'anlagen/lageplan.pdf', title: 'Lageplan (PDF)' },
        { url: 'https://lindenau.example/anlagen/zeitplan.pdf', title: 'Zeitplan' },
        { url: 'anlagen/faltblatt.pdf', title: null },
      ],
      language: 'de',
    });
  });

  test('only title and date', () => {
    expect(parseMarkdownRelease(fixture('lindenau-buergerbuero.md'), 'lindenau-buergerbuero.md')).toStrictEqual({
      ref: 'lindenau-buergerbuero.md',
      url: null,
      title: 'Bürgerbüro am Freitag geschlossen',
      subtitle: null,
      bodyHtml: '<p>Das Bürgerbüro bleibt am Freitag wegen einer Schulung geschlossen.</p>',
      publishedAt: '2026-04-09T22:00:00.000Z',
      updatedAt: null,
      embargoUntil: null,
      organisation: null,
      department: null,
      contact: null,
      topics: [],
      images: [],
      attachments: [],
      language: null,
    });
  });

  test('an embargo, a German date, topics as one string, umlauts, Windows line endings and a BOM', () => {
    const text = fixture('lindenau-jugendzentren.md');
    expect(text.startsWith('\uFEFF') && text.includes('\r\n')).toBe(true);
    expect(parseMarkdownRelease(text, 'lindenau-jugendzentren.md')).toStrictEqual({
      ref: 'lindenau-jugendzentren.md',
      url: null,
      title: 'Größere Förderung für Jugendzentren: Übersicht',
      subtitle: 'Ältere Häuser werden zuerst saniert',
      bodyHtml: [
        '<p>Die Stadt fördert die <strong>fünf</strong> Jugendzentren mit zusätzlichen 250.000 Euro im Jahr.</p>',
        '<blockquote>',
        '<p>„Endlich können wir die Heizung erneuern“, sagt Jürgen Öztürk vom Jugendzentrum Süd.</p>',
        '</blockquote>',
      ].join('\n'),
      publishedAt: '2026-11-13T15:00:00.000Z',
      updatedAt: null,
      embargoUntil: '2026-11-14T09:00:00.000Z',
      organisation: 'Stadt Lindenau',
      department: 'Amt für Jugend und Familie',
      contact: {
        name: 'Jörg Müßig', organisation: 'Jugendring Lindenau e. V.', street: null, postcode: null, city: null,
        phone: null, fax: null, email: 'jugendring@lindenau.example',
      },
      topics: ['Kultur', 'Jugend', 'Öffentlichkeit'],
      images: [{ url: 'jugendzentrum-süd.jpg', alt: null, caption: null, credit: null }],
      attachments: [],
      language: 'de',
    });
  });

  test('YAML nulls are absent values', () => {
    expect(parseMarkdownRelease(release('title: T', 'date: 2026-04-10', 'subtitle: null', 'embargo: ~', 'topics:', 'contact:'), 'n.md'))
      .toMatchObject({ subtitle: null, embargoUntil: null, topics: [], contact: null });
  });

  test('an image mapping may name its file as url', () => {
    expect(parseMarkdownRelease(release('title: T', 'date: 2026-04-10', 'image:', '  url: https://lindenau.example/b.jpg', '  alt: Ein Bild'), 'i.md').images)
      .toStrictEqual([{ url: 'https://lindenau.example/b.jpg', alt: 'Ein Bild', caption: null, credit: null }]);
  });
});

describe('what it refuses, naming the key', () => {
  test.each([
    [release('title: T', 'date: 31.02.2026'), 'markdown release x.md: key "date" is not a valid date: "31.02.2026"'],
    [release('title: T', 'date: bald'), 'markdown release x.md: key "date" is not a valid date: "bald"'],
    [release('title: T', 'date: 2026-04-10', 'embargo: morgen früh'), 'key "embargo" is not a valid date: "morgen früh"'],
    [release('title: T', 'date: 2026-04-10', 'updated: 2026-02-30'), 'key "updated" is not a valid date'],
    [release('title: T'), 'markdown release x.md: key "date" is missing'],
    [release('date: 2026-04-10'), 'markdown release x.md: key "title" is missing'],
    [release('title:   ', 'date: 2026-04-10'), 'key "title" is missing'],
    [release('title: [a, b]', 'date: 2026-04-10'), 'key "title" must be text'],
    [release('title: T', 'date: 2026-04-10', 'embargo_until: 2026-05-01'), 'front matter has unknown key "embargo_until"'],
    [release('title: T', 'date: 2026-04-10', 'contact:', '  mail: a@b.example'), 'key "contact" has unknown key "mail"'],
    [release('title: T', 'date: 2026-04-10', 'contact: Anna'), 'key "contact" must be a mapping'],
    [release('title: T', 'date: 2026-04-10', 'image:', '  alt: Ein Bild'), 'key "image.url" is missing'],
    [release('title: T', 'date: 2026-04-10', 'attachments: plan.pdf'), 'key "attachments" must be a list'],
    [release('title: T', 'date: [2026]'), 'key "date" must be text'],
    [release('title: "T', 'date: 2026-04-10'), 'front matter is not valid YAML'],
    ['# Titel\n\nText.', 'markdown release x.md: no front matter'],
  ])('%j', (text, message) => {
    expect(() => parseMarkdownRelease(text, 'x.md')).toThrow(message);
  });
});
