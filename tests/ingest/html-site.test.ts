import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseListing, parseReleasePage, type HtmlSiteSettings } from '../../src/ingest/html-site.js';
import type { ParsedRelease } from '../../src/ingest/types.js';
import type { Contact } from '../../src/model.js';
import { FIXTURES } from '../helpers/app.js';
import { KREIS, RATHAUS, SITE_ORIGINS } from '../helpers/sites.js';

/** Where each fixture site would be served: its folder under tests/fixtures/sites is the site's root. */
const ORIGINS = { rathaus: `${SITE_ORIGINS.rathaus}/`, kreis: `${SITE_ORIGINS.kreis}/` } as const;
type Site = keyof typeof ORIGINS;

const SETTINGS: Record<Site, HtmlSiteSettings> = { rathaus: RATHAUS, kreis: KREIS };

/** The one page not in UTF-8; the fetcher decodes it by its declared charset, as the test does here. */
const LATIN1_PAGE = 'mitteilungen/2017-08-01-juelicher-strasse.html';

/** A fixture page as the parser receives it: decoded text and the URL it was fetched from. */
function page(site: Site, file: string): [html: string, url: string] {
  const bytes = readFileSync(path.join(FIXTURES, 'sites', site, file));
  // WHATWG maps the label "iso-8859-1" to windows-1252, and so do browsers.
  const html = new TextDecoder(file === LATIN1_PAGE ? 'windows-1252' : 'utf-8').decode(bytes);
  return [html, `${ORIGINS[site]}${file}`];
}

function release(site: Site, file: string): ParsedRelease {
  return parseReleasePage(...page(site, file), SETTINGS[site]);
}

const PRESSEAMT: Contact = {
  name: 'Jörg Müßig', organisation: 'Stadt Lindenau', street: 'Markt 1', postcode: '52999', city: 'Lindenau',
  phone: '02461/123-45', fax: '02461/123-46', email: 'presse@lindenau.example',
};
const KREISPRESSE: Contact = {
  name: 'Anna Beispiel', organisation: 'Kreis Lindenau', street: 'Kreishausstraße 1', postcode: '52998', city: 'Lindenau-Nord',
  phone: '02461 97-1020', fax: null, email: 'presse@kreis-lindenau.example',
};

const RATHAUS_RELEASES: Array<[string, ParsedRelease]> = [
  ['mitteilungen/2017-08-02-serap-gueler-zu-besuch.html', {
    ref: 'https://rathaus.lindenau.example/mitteilungen/2017-08-02-serap-gueler-zu-besuch.html',
    url: 'https://rathaus.lindenau.example/mitteilungen/2017-08-02-serap-gueler-zu-besuch.html',
    title: 'Serap Güler zu Besuch',
    subtitle: 'NRW-Staatssekretärin Güler besuchte das Kommunale Integrationszentrum',
    bodyHtml: '<p>Zum Auftakt ihrer Sommertour besuchte NRW-Integrationsstaatssekretärin Serap Güler heute (2. August) das '
      + '<a href="https://rathaus.lindenau.example/themen/integration.html">Kommunale Integrationszentrum</a> der Stadt Lindenau.</p>\n'
      + '<p>Staatssekretärin Güler lobte die Arbeit der Einrichtung: „Für die bessere Vernetzung der Integrationsarbeit vor Ort '
      + 'sind die Kommunalen Integrationszentren unverzichtbar.“</p>',
    publishedAt: '2017-08-01T22:00:00.000Z',
    organisation: 'Stadt Lindenau',
    department: 'Fachbereich Presse und Marketing',
    contact: PRESSEAMT,
    topics: [],
    // The alt text is only the file's name: noise, so none.
    images: [{
      url: 'https://rathaus.lindenau.example/bilder/kommunales-Integrationszentrum_1.jpg', alt: null,
      caption: 'Serap Güler (Mitte) mit Rolf Frankenberger und Sevim Dogan', credit: '© Stadt Lindenau / Jörg Müßig',
    }],
    attachments: [],
  }],
  [LATIN1_PAGE, {
    ref: 'https://rathaus.lindenau.example/mitteilungen/2017-08-01-juelicher-strasse.html',
    url: 'https://rathaus.lindenau.example/mitteilungen/2017-08-01-juelicher-strasse.html',
    title: 'Sanierung der Jülicher Straße beginnt',
    subtitle: 'Ab Montag gilt eine neue Verkehrsführung für Fußgänger, Radfahrer und Autofahrer',
    bodyHtml: '<p>Die Stadt Lindenau saniert ab Montag die Jülicher Straße zwischen Kreisverkehr und Brückenstraße. '
      + 'Die Arbeiten kosten 1,2 Mio. €.</p>\n'
      + '<p>„Wir bitten die Anwohnerinnen und Anwohner um Verständnis“, sagt Baudezernentin Dr. Gülay Öztürk. '
      + 'Der <a href="https://rathaus.lindenau.example/verkehr/umleitungen.html">Umleitungsplan</a> hängt im Bürgerbüro aus.</p>',
    publishedAt: '2017-07-31T22:00:00.000Z',
    organisation: 'Stadt Lindenau',
    department: 'Fachbereich Presse und Marketing',
    contact: PRESSEAMT,
    topics: [],
    images: [{
      url: 'https://rathaus.lindenau.example/bilder/juelicher-strasse.jpg', alt: 'Baustelle an der Jülicher Straße, Höhe Grünfläche',
      caption: 'Die Bauarbeiten beginnen am Kreisverkehr.', credit: '© Stadt Lindenau / Jörg Müßig',
    }],
    attachments: [],
  }],
  ['mitteilungen/2017-07-28-freibad-hitzeferien.html', {
    ref: 'https://rathaus.lindenau.example/mitteilungen/2017-07-28-freibad-hitzeferien.html',
    url: 'https://rathaus.lindenau.example/mitteilungen/2017-07-28-freibad-hitzeferien.html',
    title: 'Freibad öffnet an Hitzetagen länger & „Mondscheinschwimmen“ am Freitag',
    subtitle: 'Bis 21 Uhr schwimmen',
    bodyHtml: '<p>An Tagen mit mehr als 28&nbsp;Grad bleibt das Freibad Am Weiher bis 21&nbsp;Uhr geöffnet.</p>\n\n'
      + '<p class="hinweis">Die aktuellen Zeiten stehen auf der '
      + '<a href="https://rathaus.lindenau.example/baeder/freibad.html#zeiten">Seite des Freibads</a>.</p>',
    publishedAt: '2017-07-27T22:00:00.000Z',
    organisation: 'Stadt Lindenau',
    department: 'Fachbereich Sport',
    contact: {
      name: null, organisation: 'Stadt Lindenau', street: 'Markt 1', postcode: '52999', city: 'Lindenau',
      phone: '02461/123-70', fax: null, email: null,
    },
    topics: [],
    images: [],
    attachments: [],
  }],
  ['mitteilungen/2017-07-20-stadtbibliothek-ferienprogramm.html', {
    ref: 'https://rathaus.lindenau.example/mitteilungen/2017-07-20-stadtbibliothek-ferienprogramm.html',
    url: 'https://rathaus.lindenau.example/mitteilungen/2017-07-20-stadtbibliothek-ferienprogramm.html',
    title: 'Ferienprogramm der Stadtbibliothek',
    subtitle: 'Lesen, basteln, spielen',
    bodyHtml: '<p>Die Stadtbibliothek lädt in den Sommerferien zu Lesungen und Bastelnachmittagen ein.</p>\n'
      + '<p><img src="https://rathaus.lindenau.example/bilder/programm-vorschau.jpg" alt="Das Programmheft"></p>\n'
      + '<p>Das ganze Programm steht im '
      + '<a href="https://rathaus.lindenau.example/dokumente/ferienprogramm-2017.pdf">Programmheft (PDF)</a>.</p>',
    publishedAt: '2017-07-19T22:00:00.000Z',
    organisation: 'Stadt Lindenau',
    department: 'Fachbereich Kultur',
    // The mail link reads only "Mail": the address comes from its href.
    contact: {
      name: 'Anna von der Heide', organisation: 'Stadt Lindenau', street: 'Markt 5', postcode: '52999', city: 'Lindenau',
      phone: '02461/123-80', fax: null, email: 'bibliothek@lindenau.example',
    },
    topics: [],
    images: [{
      url: 'https://rathaus.lindenau.example/bilder/bibliothek.jpg', alt: 'Kinder lesen in der Stadtbibliothek',
      caption: 'Im Lesesommer ist die Kinderbibliothek gut besucht.', credit: '© Stadt Lindenau',
    }],
    attachments: [{ url: 'https://rathaus.lindenau.example/dokumente/ferienprogramm-2017.pdf', title: 'Programmheft (PDF)' }],
  }],
  ['mitteilungen/2017-07-14-ratssitzung.html', {
    ref: 'https://rathaus.lindenau.example/mitteilungen/2017-07-14-ratssitzung.html',
    url: 'https://rathaus.lindenau.example/mitteilungen/2017-07-14-ratssitzung.html',
    title: 'Rat beschließt Radverkehrskonzept',
    subtitle: 'Einstimmiger Beschluss',
    bodyHtml: '<p>Der Rat der Stadt Lindenau hat in seiner Sitzung am Freitag das Radverkehrskonzept einstimmig beschlossen.</p>\n'
      + '<p>Bis 2025 sollen 40 Kilometer neue Radwege entstehen.</p>',
    // "Herausgegeben am 14.07.2017, 15:30 Uhr von:" does not fit date_format; the time is read all the same.
    publishedAt: '2017-07-14T13:30:00.000Z',
    organisation: 'Stadt Lindenau',
    department: 'Fachbereich Presse und Marketing',
    // The press-contact block wins over the issuer's person for the contact.
    contact: {
      name: 'Eva Muster', organisation: 'Stadt Lindenau', street: 'Markt 1', postcode: '52999', city: 'Lindenau',
      phone: '02461/123-60', fax: '02461/123-61', email: 'eva.muster@lindenau.example',
    },
    topics: [],
    images: [{
      url: 'https://rathaus.lindenau.example/bilder/radweg.jpg', alt: 'Ein neuer Radweg an der Jülicher Straße',
      caption: 'Der erste Abschnitt ist schon fertig.', credit: '© Stadt Lindenau / Eva Muster',
    }],
    attachments: [],
  }],
];

const KREIS_RELEASES: Array<[string, ParsedRelease]> = [
  ['presse/meldungen/kreistag-beschliesst-haushalt-2027.html', {
    ref: 'https://www.kreis-lindenau.example/presse/meldungen/kreistag-beschliesst-haushalt-2027.html',
    url: 'https://www.kreis-lindenau.example/presse/meldungen/kreistag-beschliesst-haushalt-2027.html',
    title: 'Kreistag beschließt Haushalt 2027',
    subtitle: 'Investitionen in Schulen und Radwege',
    bodyHtml: '<p>Der Kreistag hat den Haushalt für das Jahr 2027 mit großer Mehrheit beschlossen. '
      + 'Er sieht Investitionen von 48 Millionen Euro vor.</p>\n'
      + '<p>Schwerpunkte sind die Sanierung der '
      + '<a href="https://www.kreis-lindenau.example/presse/meldungen/berufskolleg-saniert.html">Berufskollegs</a> '
      + 'und der Ausbau der Radwege, über den die <a href="https://www.lindenau.example/rad">Stadt Lindenau</a> mitentscheidet.</p>',
    // The datetime attribute (10:00 +01:00) wins over the text, which has no time.
    publishedAt: '2026-11-14T09:00:00.000Z',
    organisation: 'Kreis Lindenau',
    department: 'Amt für Presse- und Öffentlichkeitsarbeit',
    contact: KREISPRESSE,
    topics: ['Finanzen', 'Kreistag'],
    // data-src, not the placeholder in src.
    images: [{
      url: 'https://www.kreis-lindenau.example/fileadmin/bilder/presse/kreistag-sitzung.jpg',
      alt: 'Der Kreistag im Sitzungssaal des Kreishauses',
      caption: 'Der Kreistag bei der Abstimmung am Freitag.',
      credit: 'Foto: Kreis Lindenau / Anna Beispiel',
    }],
    attachments: [{ url: 'https://www.kreis-lindenau.example/files/haushaltsplan-2027.pdf', title: 'Haushaltsplan 2027 (PDF, 2 MB)' }],
  }],
  ['presse/meldungen/neue-buslinie-gewerbegebiet.html', {
    ref: 'https://www.kreis-lindenau.example/presse/meldungen/neue-buslinie-gewerbegebiet.html',
    url: 'https://www.kreis-lindenau.example/presse/meldungen/neue-buslinie-gewerbegebiet.html',
    title: 'Neue Buslinie ins GE Nord ab 1. September',
    subtitle: 'Linie 42 fährt im Halbstundentakt',
    bodyHtml: '<p>Ab dem 1. September verbindet die neue Linie 42 den Bahnhof mit dem Gewerbegebiet Nord.</p>\n'
      + '<p>Den Fahrplan gibt es <a href="https://www.kreis-lindenau.example/fahrplan/linie-42.html">online</a> und in den Bürgerbüros.</p>',
    // "2. August 2017" as text only: midnight in Berlin (summer time).
    publishedAt: '2017-08-01T22:00:00.000Z',
    organisation: 'Kreis Lindenau',
    department: 'Amt für Presse- und Öffentlichkeitsarbeit',
    contact: KREISPRESSE,
    topics: ['Verkehr', 'ÖPNV'],
    // Only a srcset: its first candidate. No figure: the image, its caption and credit are separate elements.
    images: [{
      url: 'https://www.kreis-lindenau.example/fileadmin/bilder/presse/bus-42-1200.jpg', alt: 'Ein Bus der Linie 42',
      caption: 'Die Linie 42 am Bahnhof Lindenau.', credit: 'Foto: Verkehrsverbund Lindenau',
    }],
    attachments: [],
  }],
  ['presse/meldungen/winterdienst-startet.html', {
    ref: 'https://www.kreis-lindenau.example/presse/meldungen/winterdienst-startet.html',
    url: 'https://www.kreis-lindenau.example/presse/meldungen/winterdienst-startet.html',
    title: 'Winterdienst startet',
    subtitle: null,
    bodyHtml: '<p>Ab dem 1. November sind die Streufahrzeuge der Kreisstraßenmeisterei in Bereitschaft.</p>\n'
      + '<p>Die Streupläne stehen unter <a href="https://www.kreis-lindenau.example/strassen/winterdienst.html">Winterdienst</a>.</p>',
    // datetime="2026-10-30", a date alone: midnight in Berlin (winter time).
    publishedAt: '2026-10-29T23:00:00.000Z',
    organisation: 'Kreis Lindenau',
    department: 'Straßenverkehrsamt',
    contact: {
      name: 'Tom Beispiel-Meyer', organisation: 'Kreis Lindenau', street: 'Kreishausstraße 1', postcode: '52998', city: 'Lindenau-Nord',
      phone: '02461 97-2040', fax: null, email: null,
    },
    topics: ['Straßen', 'Winter'],
    images: [],
    // The same PDF twice (once with a fragment) is one attachment; the mailto: link is none.
    attachments: [{ url: 'https://www.kreis-lindenau.example/files/streuplan-2026.pdf', title: 'Streuplan 2026/27' }],
  }],
];

const ALL_RELEASES: Array<[Site, string]> = [
  ...RATHAUS_RELEASES.map(([file]): [Site, string] => ['rathaus', file]),
  ...KREIS_RELEASES.map(([file]): [Site, string] => ['kreis', file]),
];

/** What must not reach a title or body: skip links, share buttons, the issuer and contact blocks, the picked image and its credit. */
const NOISE = /Inhalt|Twitter|Facebook|Logo|<script|<style|<figure|<img[^>]*(?:Integrationszentrum|bibliothek\.jpg)|Herausgegeben|Pressekontakt|Foto:|©/;

describe('parseListing', () => {
  test('rathaus: release links once each, without fragments or mailto:, and the "Weiter »" page', () => {
    expect(parseListing(...page('rathaus', 'index.html'), RATHAUS)).toStrictEqual({
      links: [
        'https://rathaus.lindenau.example/mitteilungen/2017-08-02-serap-gueler-zu-besuch.html',
        'https://rathaus.lindenau.example/mitteilungen/2017-08-01-juelicher-strasse.html',
        'https://rathaus.lindenau.example/mitteilungen/2017-07-28-freibad-hitzeferien.html',
      ],
      next: 'https://rathaus.lindenau.example/seite-2.html',
    });
  });

  test('rathaus: the last page has no next page ("« Zurück" is not one)', () => {
    expect(parseListing(...page('rathaus', 'seite-2.html'), RATHAUS)).toStrictEqual({
      links: [
        'https://rathaus.lindenau.example/mitteilungen/2017-07-20-stadtbibliothek-ferienprogramm.html',
        'https://rathaus.lindenau.example/mitteilungen/2017-07-14-ratssitzung.html',
      ],
      next: null,
    });
  });

  test('kreis: links resolved against <base href="/">, an absolute duplicate dropped, rel="next" followed', () => {
    expect(parseListing(...page('kreis', 'presse/index.html'), KREIS)).toStrictEqual({
      links: [
        'https://www.kreis-lindenau.example/presse/meldungen/kreistag-beschliesst-haushalt-2027.html',
        'https://www.kreis-lindenau.example/presse/meldungen/neue-buslinie-gewerbegebiet.html',
      ],
      next: 'https://www.kreis-lindenau.example/presse/seite-2.html',
    });
  });

  test('kreis: the last page has no next page', () => {
    expect(parseListing(...page('kreis', 'presse/seite-2.html'), KREIS)).toStrictEqual({
      links: ['https://www.kreis-lindenau.example/presse/meldungen/winterdienst-startet.html'],
      next: null,
    });
  });

  test('following next from listing_url reaches every release of both sites', () => {
    for (const site of ['rathaus', 'kreis'] as const) {
      const links: string[] = [];
      let next: string | null = SETTINGS[site].listing_url;
      while (next) {
        const listing = parseListing(...page(site, next.slice(ORIGINS[site].length)), SETTINGS[site]);
        links.push(...listing.links);
        next = listing.next;
      }
      const releases = site === 'rathaus' ? RATHAUS_RELEASES : KREIS_RELEASES;
      expect(links).toStrictEqual(releases.map(([, expected]) => expected.url));
    }
  });
});

describe('parseReleasePage', () => {
  test.each(RATHAUS_RELEASES)('rathaus %s', (file, expected) => {
    expect(release('rathaus', file)).toStrictEqual(expected);
  });

  test.each(KREIS_RELEASES)('kreis %s', (file, expected) => {
    expect(release('kreis', file)).toStrictEqual(expected);
  });

  test('the ISO-8859-1 page, decoded by its declared charset, keeps its umlauts', () => {
    const bytes = readFileSync(path.join(FIXTURES, 'sites', 'rathaus', LATIN1_PAGE));
    expect(bytes.includes(Buffer.from('Jülicher', 'latin1'))).toBe(true);
    expect(bytes.includes(Buffer.from('Jülicher', 'utf8'))).toBe(false);
    expect(page('rathaus', LATIN1_PAGE)[0]).toContain('<meta charset="iso-8859-1">');
    const parsed = release('rathaus', LATIN1_PAGE);
    expect(parsed.title).toBe('Sanierung der Jülicher Straße beginnt');
    expect(parsed.bodyHtml).toContain('Dr. Gülay Öztürk');
    expect(parsed.bodyHtml).toContain('„Wir bitten');
    expect(JSON.stringify(parsed)).not.toContain('\uFFFD');
  });

  test('ref and url are the canonical URL, not the URL the page was fetched with', () => {
    const [html, url] = page('rathaus', 'mitteilungen/2017-08-02-serap-gueler-zu-besuch.html');
    const parsed = parseReleasePage(html, `${url}?pk_campaign=liste`, RATHAUS);
    expect(parsed.ref).toBe(url);
    expect(parsed.url).toBe(url);
  });

  test('every URL in bodies, images and attachments is absolute', () => {
    for (const [site, file] of ALL_RELEASES) {
      const parsed = release(site, file);
      const bodyUrls = [...parsed.bodyHtml.matchAll(/\s(?:href|src)="([^"]*)"/g)].map((match) => match[1]);
      const urls = [...bodyUrls, ...parsed.images.map((image) => image.url), ...parsed.attachments.map((file) => file.url)];
      expect(urls.length).toBeGreaterThan(0);
      for (const url of urls) expect(url, `${file}: ${url}`).toMatch(/^https:\/\/[a-z.-]+\.example\//);
    }
  });

  test('noise reaches no title, subtitle or body', () => {
    for (const [site, file] of ALL_RELEASES) {
      const parsed = release(site, file);
      for (const text of [parsed.title, parsed.subtitle ?? '', parsed.bodyHtml]) {
        expect(text, file).not.toMatch(NOISE);
      }
      // The title is not repeated as the body's first line.
      expect(parsed.bodyHtml.startsWith('<p>'), file).toBe(true);
    }
  });

  test('a page without a title is an error naming the field and the URL', () => {
    expect(() => release('rathaus', 'kaputt/ohne-titel.html')).toThrow(
      'html page https://rathaus.lindenau.example/kaputt/ohne-titel.html: no title: title_selector "article.pressemitteilung h1" finds no text',
    );
  });

  test('a page whose date cannot be read is an error naming the field, the URL and what it found', () => {
    expect(() => release('kreis', 'kaputt/datum-unlesbar.html')).toThrow(
      'html page https://www.kreis-lindenau.example/kaputt/datum-unlesbar.html: no date: date_selector "#content time" finds no readable date in "31. Februar 2026"',
    );
    const [html, url] = page('kreis', 'presse/meldungen/winterdienst-startet.html');
    expect(() => parseReleasePage(html, url, { ...KREIS, date_selector: '#content .datum' })).toThrow(
      `html page ${url}: no date: date_selector "#content .datum" matches nothing`,
    );
  });

  test('a page without the body element is an error naming the field and the URL', () => {
    const [html, url] = page('kreis', 'presse/meldungen/winterdienst-startet.html');
    expect(() => parseReleasePage(html, url, { ...KREIS, body_selector: '#content div.bodytext' })).toThrow(
      `html page ${url}: no body: body_selector "#content div.bodytext" matches nothing`,
    );
  });
});
