import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseTextRelease } from '../../src/ingest/text-release.js';
import type { ParsedRelease } from '../../src/ingest/types.js';
import { FIXTURES } from '../helpers/app.js';

const SEED = '/work/shared/seed/000_51c65a33aa2528db.txt';

/** A fixture of the files source as text. */
function fixture(name: string): string {
  return readFileSync(path.join(FIXTURES, 'files', name), 'utf8');
}

/** What the seed and its copy must give, whatever ref they are read under. */
function seedRelease(ref: string): ParsedRelease {
  return {
    ref,
    url: null,
    title: 'Serap Güler zu Besuch',
    subtitle: 'NRW- Staatssekretärin Güler besuchte das Kommunale Integrationszentrum',
    bodyHtml: [
      '<p>Zum Auftakt ihrer Sommertour, auf der sie sich in 14 Kommunalen Integrationszentren (KI) über die Arbeit vor Ort '
      + 'informieren möchte, besuchte NRW-Integrationsstaatssekretärin Serap Güler heute (2. August) die Kommunalen '
      + 'Integrationszentren der Stadt Aachen und der Städteregion Aachen.</p>',
      '<p>Staatssekretärin Güler lobte die Arbeit der Einrichtungen: „Für die bessere Vernetzung der Integrationsarbeit vor '
      + 'Ort sind die Kommunalen Integrationszentren mittlerweile unverzichtbar. Die neue Landesregierung will deshalb den '
      + 'Austausch mit den Einrichtungen intensivieren und sich einen Überblick über die Schwerpunkte verschaffen, die sich '
      + 'die Kommunalen Integrationszentren selbst ausgesucht haben.“</p>',
      '<p>In der Stadt Aachen liegen die Schwerpunkte aktuell in der Stärkung der Willkommenskultur und Vernetzung aller '
      + 'Akteure der Integrationsarbeit sowie der interkulturellen Schulentwicklung und durchgängigen sprachlichen Bildung '
      + 'im Grundschulbereich. Rolf Frankenberger, Leiter des städtischen Fachbereichs Wohnen, Soziales und Integration und '
      + 'Sevim Dogan, Leiterin des Kommunalen Integrationszentrums der Stadt Aachen, begrüßten Serap Güler und informierten '
      + 'die Staatssekretärin entsprechend in einem Arbeitsgespräch über die Themen „Frühe Bildung/Elementarbereich“, '
      + '„KOMM-AN“ sowie über das „Bündnis für Geflüchtete“ in Aachen.</p>',
      '<p>Nordrhein-Westfalen ist das einzige Bundesland überhaupt, in dem es Kommunale Integrationszentren gibt. Die '
      + 'Einrichtungen bieten Angebote für Kinder und Jugendliche mit Einwanderungsgeschichte, die die Bildungschancen '
      + 'verbessern sollen. Daneben koordinieren sie die Aktivitäten und Angebote der Kommunen und freien Träger in Bezug '
      + 'auf Integration und das Zusammenleben in Vielfalt. Seit 2015 unterstützen die Kommunalen Integrationszentren '
      + 'Bürgerinnen und Bürger, die Geflüchtete vor Ort unterstützen.</p>',
    ].join('\n'),
    publishedAt: '2017-08-01T22:00:00.000Z',
    organisation: 'Stadt Aachen',
    department: 'Fachbereich Presse und Marketing',
    contact: {
      name: 'Bernd Büttgens', organisation: 'Stadt Aachen', street: 'Markt 39', postcode: '52062', city: 'Aachen',
      phone: '0241/432-1309', fax: '0241/28-121', email: 'presse.marketing@mail.aachen.de',
    },
    topics: [],
    images: [{ url: 'kommunales-Integrationszentrum_1', alt: null, caption: null, credit: null }],
    attachments: [],
  };
}

describe('the seed shape', () => {
  test('the copy of the seed gives exactly its release', () => {
    expect(parseTextRelease(fixture('seed-shape-aachen.txt'), 'seed-shape-aachen.txt')).toStrictEqual(seedRelease('seed-shape-aachen.txt'));
  });

  test.runIf(existsSync(SEED))('the seed itself gives exactly its release', () => {
    expect(parseTextRelease(readFileSync(SEED, 'utf8'), '000_51c65a33aa2528db.txt')).toStrictEqual(seedRelease('000_51c65a33aa2528db.txt'));
  });

  test('no page noise reaches any field', () => {
    const release = JSON.stringify(parseTextRelease(fixture('seed-shape-aachen.txt'), 'seed'));
    for (const noise of ['Inhalt"', 'Pressekontakt', 'Twitter', 'Facebook', 'Logo', '"Mail"', '<p>Mail</p>', 'Herausgegeben']) {
      expect(release).not.toContain(noise);
    }
  });
});

describe('other releases of that shape', () => {
  test('one paragraph, an image with a credit line under it, a Pressekontakt footer', () => {
    expect(parseTextRelease(fixture('lindenau-radweg.txt'), 'lindenau-radweg.txt')).toStrictEqual({
      ref: 'lindenau-radweg.txt',
      url: null,
      title: 'Neuer Radweg an der Jülicher Straße freigegeben',
      subtitle: 'Zwei Kilometer sicherer Weg zwischen Innenstadt und Gewerbegebiet Nord',
      bodyHtml: '<p>Oberbürgermeisterin Petra Beispiel hat heute den neuen Radweg an der Jülicher Straße freigegeben. Der Weg '
        + 'ist 2,1 Kilometer lang, durchgehend 2,50 Meter breit und kostete 1,8 Millionen Euro, von denen das Land 70 Prozent trägt.</p>',
      publishedAt: '2026-11-13T23:00:00.000Z',
      organisation: 'Stadt Lindenau',
      department: 'Fachbereich Mobilität und Verkehr',
      contact: {
        name: 'Jörg Müßig', organisation: 'Stadt Lindenau', street: 'Rathausplatz 1', postcode: '52999', city: 'Lindenau',
        phone: '02461 99-2100', fax: '02461 99-2109', email: 'presse@lindenau.example',
      },
      topics: [],
      images: [{ url: 'radweg-juelicher-strasse_2.jpg', alt: null, caption: null, credit: '© Stadt Lindenau / Foto: Anna Beispiel' }],
      attachments: [],
    });
  });

  test('three paragraphs, no image, a date with a time, markup characters escaped, a line break kept', () => {
    expect(parseTextRelease(fixture('lindenau-haushalt.txt'), 'lindenau-haushalt.txt')).toStrictEqual({
      ref: 'lindenau-haushalt.txt',
      url: null,
      title: 'Haushalt 2027: Rat beschließt Entwurf',
      subtitle: 'Investitionen in Schulen & Brücken haben Vorrang',
      bodyHtml: [
        '<p>Der Rat der Stadt Lindenau hat in seiner Sitzung am Dienstag den Entwurf des Haushalts 2027 beschlossen. Er umfasst '
        + 'Erträge von 412 Millionen Euro und Aufwendungen von 418 Millionen Euro.</p>',
        '<p>Kämmerin Dr. Anna-Lena von der Heide: &quot;Wir investieren, wo es nötig ist: in Schulen &lt;und&gt; in Brücken.&quot;'
        + '<br>Die Einzelheiten stehen im Ratsinformationssystem.</p>',
        '<p>Der Haushalt liegt vom 10. bis 24. März im Bürgerbüro aus; Einwendungen sind bis zum 7. April möglich.</p>',
      ].join('\n'),
      publishedAt: '2026-03-03T09:30:00.000Z',
      organisation: 'Stadt Lindenau',
      department: 'Dezernat II – Finanzen und Beteiligungen',
      contact: {
        name: 'Dr. Anna-Lena von der Heide', organisation: 'Stadt Lindenau', street: 'Markt 1a', postcode: '52999', city: 'Lindenau',
        phone: '02461 99-1000', fax: '02461 99-1009', email: 'anna-lena.vonderheide@lindenau.example',
      },
      topics: [],
      images: [],
      attachments: [],
    });
  });

  test('six paragraphs, a weekday before the date, a department that names no office type, no Pressekontakt footer', () => {
    expect(parseTextRelease(fixture('lindenau-stadtfest.txt'), 'lindenau-stadtfest.txt')).toStrictEqual({
      ref: 'lindenau-stadtfest.txt',
      url: null,
      title: 'Stadtfest 2026: drei Tage Musik auf dem Marktplatz',
      subtitle: 'Programm steht fest – Vorverkauf beginnt am Montag',
      bodyHtml: [
        '<p>Vom 19. bis 21. Juni feiert Lindenau sein Stadtfest.</p>',
        '<p>Auf drei Bühnen spielen mehr als 40 Bands, Chöre und Ensembles aus der Region.</p>',
        '<p>Am Samstag lädt der Kinderflohmarkt von 10 bis 16 Uhr auf den Kirchplatz ein.</p>',
        '<p>Die Busse der Linien 3 und 7 fahren an allen drei Tagen bis 1 Uhr nachts.</p>',
        '<p>Für Menschen mit Behinderung gibt es eine barrierefreie Zuschauerfläche vor der Hauptbühne.</p>',
        '<p>Der Eintritt ist frei; für die Konzerte am Abend werden Bändchen für 5 Euro verkauft.</p>',
      ].join('\n'),
      publishedAt: '2026-05-31T22:00:00.000Z',
      organisation: 'Stadt Lindenau',
      department: 'Büro der Oberbürgermeisterin',
      contact: {
        name: 'Petra Beispiel', organisation: 'Stadt Lindenau', street: 'Rathausplatz 1', postcode: '52999', city: 'Lindenau',
        phone: '02461 99-1100', fax: null, email: 'buero.ob@lindenau.example',
      },
      topics: [],
      images: [{ url: 'stadtfest_2026', alt: null, caption: null, credit: null }],
      attachments: [],
    });
  });

  test('Windows line endings and a BOM, no teaser, a credit after a blank line, a two-digit year', () => {
    const text = fixture('lindenau-winterdienst.txt');
    expect(text.startsWith('\uFEFF') && text.includes('\r\n')).toBe(true);
    expect(parseTextRelease(text, 'lindenau-winterdienst.txt')).toStrictEqual({
      ref: 'lindenau-winterdienst.txt',
      url: null,
      title: 'Winterdienst: Räumpflicht für Anliegerinnen und Anlieger',
      subtitle: null,
      bodyHtml: [
        '<p>Wer an einer Straße wohnt, muss den Gehweg vor dem Haus werktags von 7 bis 20 Uhr von Schnee und Eis befreien.</p>',
        '<p>Streusalz ist auf Gehwegen verboten; erlaubt sind Sand, Splitt und Granulat.</p>',
      ].join('\n'),
      publishedAt: '2027-01-04T23:00:00.000Z',
      organisation: 'Stadt Lindenau',
      department: 'Presseamt',
      contact: {
        name: 'Jörg Müßig', organisation: 'Stadt Lindenau', street: 'Rathausplatz 1', postcode: '52999', city: 'Lindenau',
        phone: '+49 2461 99-2100', fax: null, email: 'presse@lindenau.example',
      },
      topics: [],
      images: [{ url: 'winterdienst-2027-01.png', alt: null, caption: null, credit: 'Foto: Max Mustermann' }],
      attachments: [],
    });
  });

  test('a release that ends with its date has no issuer and no contact', () => {
    const release = parseTextRelease('Titel\n\nEin Absatz.\n\nHerausgegeben am 2. Aug. 2017 von:\n', 'kurz.txt');
    expect(release).toMatchObject({ title: 'Titel', subtitle: null, bodyHtml: '<p>Ein Absatz.</p>', publishedAt: '2017-08-01T22:00:00.000Z',
      organisation: null, department: null, contact: null });
  });

  test('a lone no-break space stays; beside ordinary spaces it is part of the run that collapses', () => {
    const release = parseTextRelease('Titel\n\nTempo\u00A030 auf  \u00A0 2\u00A0km.\n\nHerausgegeben am 02.08.2017 von:\n', 'nbsp.txt');
    expect(release.bodyHtml).toBe('<p>Tempo\u00A030 auf 2\u00A0km.</p>');
  });

  test('"Bild:" under an image name is its credit; the same line elsewhere is text', () => {
    const release = parseTextRelease('Titel\n\nrathaus_1.jpg\nBild: Anna Beispiel\n\nBild: so sah es aus.\n\nHerausgegeben am 02.08.2017 von:\n', 'bild.txt');
    expect(release.images).toStrictEqual([{ url: 'rathaus_1.jpg', alt: null, caption: null, credit: 'Bild: Anna Beispiel' }]);
    expect(release.bodyHtml).toBe('<p>Bild: so sah es aus.</p>');
  });

  test('a sentence that starts like the date line is text; "Veröffentlicht am" with a time is the date line', () => {
    const release = parseTextRelease(
      'Titel\n\nHerausgegeben am 1. Juli wurde der erste Bericht.\n\nVeröffentlicht am 02.08.2017, 9:05 Uhr\n\nStadt Lindenau\n', 'v.txt');
    expect(release).toMatchObject({ subtitle: null, bodyHtml: '<p>Herausgegeben am 1. Juli wurde der erste Bericht.</p>',
      publishedAt: '2017-08-02T07:05:00.000Z', organisation: 'Stadt Lindenau', contact: null });
  });
});

describe('what it cannot read', () => {
  test('a text of only noise has no title', () => {
    expect(() => parseTextRelease('Inhalt\n\nTwitter Logo\n', 'leer.txt')).toThrow('text release leer.txt: no title');
  });

  test('a text without "Herausgegeben am" has no date', () => {
    expect(() => parseTextRelease('Titel\n\nEin Absatz.\n', 'ohne-datum.txt')).toThrow(/ohne-datum\.txt: no date/);
  });

  test('an impossible date is refused, naming the line', () => {
    expect(() => parseTextRelease('Titel\n\nEin Absatz.\n\nHerausgegeben am 31.02.2017 von:\n', 'falsch.txt'))
      .toThrow('text release falsch.txt: no valid date in "Herausgegeben am 31.02.2017 von:"');
  });
});
