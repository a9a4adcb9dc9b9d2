import * as cheerio from 'cheerio';
import request from 'supertest';
import { afterEach, describe, expect, test } from 'vitest';
import type { Media, Release } from '../../src/model.js';
import { fileSize, longDate } from '../../src/pages/release-page.js';
import { mastodonInstance } from '../../src/pages/share.js';
import { escapeVCardText, foldLine, renderVCard } from '../../src/pages/vcard.js';
import { BASE_URL, createTestApp, type TestApp } from '../helpers/app.js';
import { input, nastyReleases } from '../helpers/fixtures.js';

const NASTY = 'tag:lindenau.example,2026:nasty-1';
const REMOTE_IMAGE = 'https://bilder.lindenau.example/2026/markt.jpg';

const apps: TestApp[] = [];
afterEach(() => {
  while (apps.length) apps.pop()!.close();
});

function app(): TestApp {
  const t = createTestApp();
  apps.push(t);
  return t;
}

async function seeded(): Promise<TestApp> {
  const t = app();
  t.store.upsertReleases(await nastyReleases(), { now: new Date('2026-11-21T00:00:00Z') });
  return t;
}

function media(fields: Partial<Media> & { url: string }): Media {
  return { title: null, alt: null, caption: null, credit: null, width: null, height: null, mime: null, bytes: null, ...fields };
}

function byGuid(t: TestApp, guid: string): Release {
  return t.store.releaseByGuid(guid)!;
}

async function get(t: TestApp, path: string, status = 200) {
  return request(t.app).get(path).expect(status);
}

describe('GET /releases/{slug}', () => {
  test('an HTML page through the cached responder: validators, 304, Cache-Control from the feed max-age, HEAD', async () => {
    const t = await seeded();
    const path = `/releases/${byGuid(t, NASTY).slug}`;
    const res = await get(t, path);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.headers.vary).toBe('Accept-Encoding');
    expect(res.headers['last-modified']).toBe('Sat, 21 Nov 2026 00:00:00 GMT');
    const etag = res.headers.etag!;
    expect(etag).toMatch(/^"[^"]+"$/);
    await request(t.app).get(path).set('If-None-Match', etag).expect(304);
    const again = await get(t, path);
    expect(again.text).toBe(res.text);
    const identity = await request(t.app).get(path).set('Accept-Encoding', 'identity').expect(200);
    const head = await request(t.app).head(path).set('Accept-Encoding', 'identity').expect(200);
    expect(head.headers.etag).toBe(identity.headers.etag);
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(res.text)));
  });

  test('frame: lang="de", one h1 with the title, the landmarks, headings in order h1 then h2', async () => {
    const t = await seeded();
    const release = byGuid(t, NASTY);
    const $ = cheerio.load((await get(t, `/releases/${release.slug}`)).text);
    expect($('html').attr('lang')).toBe('de');
    expect($('h1')).toHaveLength(1);
    expect($('h1').text()).toBe(release.title);
    expect($('body > header')).toHaveLength(1);
    expect($('body > main')).toHaveLength(1);
    expect($('body > footer')).toHaveLength(1);
    expect($('header, footer').length).toBe(2);
    const levels = $('main h1, main h2, main h3, main h4, main h5, main h6').toArray().map((element) => Number(element.tagName.slice(1)));
    expect(levels[0]).toBe(1);
    expect(levels.slice(1).every((level) => level === 2)).toBe(true);
    expect($('main h2').toArray().map((element) => $(element).text())).toEqual([
      'Anhänge', 'Themen', 'Pressekontakt', 'Teilen', 'Feeds zu dieser Pressemitteilung',
    ]);
    // Every section is named by its heading.
    for (const section of $('main section').toArray()) {
      expect($(`#${$(section).attr('aria-labelledby')}`).prop('tagName')).toBe('H2');
    }
  });

  test('subtitle, issuer linking to its department, German date in Europe/Berlin, figure, body, attachments, topics', async () => {
    const t = await seeded();
    const release = byGuid(t, NASTY);
    const $ = cheerio.load((await get(t, `/releases/${release.slug}`)).text);
    expect($('.subtitle').text()).toBe('Anwohner\u000B fragen: "Wann?" – \'Bald\' & <sicher>');
    const issuer = $('.issuer a');
    expect(issuer.text()).toBe('Stadt Lindenau – Fachbereich Mobilität und Verkehr');
    expect(issuer.attr('href')).toBe(`${BASE_URL}/departments/fachbereich-mobilitaet-und-verkehr`);
    // 09:30 UTC on 20 November is 10:30 in Berlin (CET).
    const published = $('.dates time').first();
    expect(published.text()).toBe('20. November 2026, 10:30 Uhr');
    expect(published.attr('datetime')).toBe('2026-11-20T10:30:00+01:00');
    expect($('.dates').text()).not.toContain('korrigiert');
    const img = $('main figure img');
    expect(img.attr('src')).toBe(`${BASE_URL}/media/bild-ohne-endung`);
    expect(img.attr('alt')).toBe('Ein Farbverlauf in Blau & Grün');
    expect([img.attr('width'), img.attr('height')]).toEqual(['40', '30']);
    expect($('main figcaption').text()).toBe('Die „neue“ Straße <bald> fertig © Stadt Lindenau / Jörg Müßig');
    expect($('main .e-content').html()!.trim()).toBe(release.bodyHtml);
    const attachment = $('main .attachments li');
    expect(attachment.find('a').attr('href')).toBe(`${BASE_URL}/media/anlage.pdf`);
    expect(attachment.find('a').text()).toBe('Anlage: Plan & Zeitplan (PDF)');
    expect(attachment.find('.muted').text()).toBe('(PDF, 142 Bytes)');
    expect($('main .topics a').toArray().map((element) => [$(element).text(), $(element).attr('href')])).toEqual([
      ['Verkehr', `${BASE_URL}/topics/verkehr`], ['Straßenbau', `${BASE_URL}/topics/strassenbau`],
    ]);
  });

  test('a date without a time shows no time; sizes read "PDF, 2,7 KB"; a remote image is shown as it is', async () => {
    const t = app();
    t.store.upsertReleases([input({
      guid: 'g-date', title: 'Serap Güler zu Besuch', publishedAt: '2017-08-01T22:00:00Z',
      images: [media({ url: REMOTE_IMAGE, alt: 'Der Markt', width: 1600, height: 900, mime: 'image/jpeg', bytes: 200000 })],
      attachments: [media({ url: '/media/plan.pdf', title: 'Plan', mime: 'application/pdf', bytes: 2765 }),
        media({ url: 'nur-ein-dateiname.pdf', title: 'Unveröffentlicht', mime: 'application/pdf', bytes: 10 })],
    })]);
    const $ = cheerio.load((await get(t, `/releases/${byGuid(t, 'g-date').slug}`)).text);
    const published = $('.dates time').first();
    expect(published.text()).toBe('2. August 2017');
    expect(published.attr('datetime')).toBe('2017-08-02');
    expect($('main .attachments li').toArray().map((element) => $(element).text())).toEqual(['Plan (PDF, 2,7 KB)']);
    expect($('main figure img').attr('src')).toBe(REMOTE_IMAGE);
    expect($('main figcaption')).toHaveLength(0);
  });

  test('autodiscovery of every feed holding the release and feed links for its topics, department and all', async () => {
    const t = await seeded();
    const $ = cheerio.load((await get(t, `/releases/${byGuid(t, NASTY).slug}`)).text);
    const feeds = ['/feeds/all', '/feeds/topics/verkehr', '/feeds/topics/strassenbau', '/feeds/departments/fachbereich-mobilitaet-und-verkehr'];
    const alternates = $('head link[rel="alternate"]').toArray().map((element) => [$(element).attr('type'), $(element).attr('href')]);
    for (const feed of feeds) {
      expect(alternates).toContainEqual(['application/rss+xml', `${BASE_URL}${feed}.rss`]);
      expect(alternates).toContainEqual(['application/atom+xml', `${BASE_URL}${feed}.atom`]);
      expect(alternates).toContainEqual(['application/feed+json', `${BASE_URL}${feed}.json`]);
    }
    expect(alternates.filter(([type]) => type !== 'application/json+oembed')).toHaveLength(feeds.length * 3);
    const links = $('#feeds').parent().find('a').toArray().map((element) => $(element).attr('href'));
    expect(links.sort()).toEqual(feeds.flatMap((feed) => ['rss', 'atom', 'json'].map((format) => `${BASE_URL}${feed}.${format}`)).sort());
    // Every linked feed exists.
    for (const href of links) await get(t, href!.slice(BASE_URL.length));
  });

  test('the press contact as an h-card with a vCard link', async () => {
    const t = await seeded();
    const release = byGuid(t, NASTY);
    const $ = cheerio.load((await get(t, `/releases/${release.slug}`)).text);
    const card = $('main .h-card');
    expect(card).toHaveLength(1);
    const field = (name: string) => card.find(`.${name}`).toArray().map((element) => $(element).text());
    expect(field('p-name')).toEqual(['Jörg Müßig']);
    expect(field('p-org')).toEqual(['Stadt Lindenau']);
    expect(field('p-street-address')).toEqual(['Markt 1']);
    expect(field('p-postal-code')).toEqual(['52999']);
    expect(field('p-locality')).toEqual(['Lindenau']);
    expect(field('p-tel')).toEqual(['02461/123-45', '02461/123-46']);
    expect(card.find('.p-tel').last().prev('.label').text()).toBe('Fax:');
    expect(card.find('a.p-tel').attr('href')).toBe('tel:0246112345');
    expect(card.find('a.u-email').attr('href')).toBe('mailto:presse@lindenau.example');
    expect(card.find('a.u-email').text()).toBe('presse@lindenau.example');
    expect($(`main a[href="${BASE_URL}/releases/${release.slug}/contact.vcf"]`)).toHaveLength(1);
  });

  test('share links are plain links with encoded URLs, no tracking; the copy button degrades to a read-only field', async () => {
    const t = await seeded();
    const release = byGuid(t, NASTY);
    const canonical = `${BASE_URL}/releases/${release.slug}`;
    const $ = cheerio.load((await get(t, `/releases/${release.slug}`)).text);
    const links = $('main .share a').toArray().map((element) => $(element));
    expect(links.map((link) => link.text())).toEqual(['E-Mail', 'Mastodon', 'Bluesky', 'LinkedIn', 'Facebook', 'X', 'WhatsApp']);
    for (const link of links) {
      expect(link.attr('rel')).toBe('noopener');
      expect(Object.keys(link.attr()!).sort()).toEqual(['class', 'href', 'rel']);
      expect(link.attr('href')).not.toMatch(/utm_|fbclid|ref=/);
    }
    const url = (index: number) => new URL(links[index]!.attr('href')!);
    const both = `${release.title} ${canonical}`;

    const mail = url(0);
    expect(mail.protocol).toBe('mailto:');
    expect(mail.searchParams.get('subject')).toBe(release.title);
    expect(mail.searchParams.get('body')).toBe(`${release.title}\r\n\r\n${canonical}`);
    // RFC 6068: spaces as %20, never "+".
    expect(mail.href).not.toContain('+');

    const mastodon = url(1);
    expect(`${mastodon.origin}${mastodon.pathname}`).toBe(`${BASE_URL}/share/mastodon`);
    expect(Object.fromEntries(mastodon.searchParams)).toEqual({ url: canonical, text: release.title });

    expect(`${url(2).origin}${url(2).pathname}`).toBe('https://bsky.app/intent/compose');
    expect(Object.fromEntries(url(2).searchParams)).toEqual({ text: both });
    expect(`${url(3).origin}${url(3).pathname}`).toBe('https://www.linkedin.com/sharing/share-offsite/');
    expect(Object.fromEntries(url(3).searchParams)).toEqual({ url: canonical });
    expect(`${url(4).origin}${url(4).pathname}`).toBe('https://www.facebook.com/sharer/sharer.php');
    expect(Object.fromEntries(url(4).searchParams)).toEqual({ u: canonical });
    expect(`${url(5).origin}${url(5).pathname}`).toBe('https://x.com/intent/post');
    expect(Object.fromEntries(url(5).searchParams)).toEqual({ url: canonical, text: release.title });
    expect(`${url(6).origin}${url(6).pathname}`).toBe('https://wa.me/');
    expect(Object.fromEntries(url(6).searchParams)).toEqual({ text: both });

    const field = $('main .copy input');
    expect(field.attr('value')).toBe(canonical);
    expect(field.attr('readonly')).toBeDefined();
    expect($(`label[for="${field.attr('id')}"]`).text()).toBe('Link zu dieser Pressemitteilung');
    const button = $('main .copy button');
    expect(button.text()).toBe('Link kopieren');
    expect(button.attr('hidden')).toBeDefined();
    expect(button.attr('data-copy-link')).toBe(field.attr('id'));
    expect(button.attr('data-copied')).toBe('Link kopiert');
    expect($('main .copy [role="status"][aria-live="polite"]')).toHaveLength(1);
  });

  test('scripts: only the JSON-LD and Herold\'s own copy-link script, which is served same-origin', async () => {
    const t = await seeded();
    const $ = cheerio.load((await get(t, `/releases/${byGuid(t, NASTY).slug}`)).text);
    const scripts = $('script').toArray().map((element) => ({ type: $(element).attr('type'), src: $(element).attr('src'), defer: $(element).is('[defer]') }));
    expect(scripts).toEqual([
      { type: 'application/ld+json', src: undefined, defer: false },
      { type: undefined, src: `${BASE_URL}/assets/copy-link.js`, defer: true },
    ]);
    expect($('[onclick], [onload], [onerror]')).toHaveLength(0);
    const script = await get(t, '/assets/copy-link.js');
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.text).toContain('navigator.clipboard');
    expect(script.text).toContain('data-copy-link');
    expect(script.text).not.toMatch(/https?:\/\//);
    await request(t.app).get('/assets/copy-link.js').set('If-None-Match', script.headers.etag!).expect(304);
  });

  test('no src or href leads to another host but the share targets and a remote release image', async () => {
    const t = await seeded();
    t.store.upsertReleases([input({
      guid: 'g-remote', title: 'Wochenmarkt', publishedAt: '2026-11-19T08:00:00Z', topics: ['Wirtschaft'],
      images: [media({ url: REMOTE_IMAGE, alt: 'Marktstände', width: 1600, height: 900, mime: 'image/jpeg', bytes: 1000 })],
      contact: { name: 'Anna Beispiel', organisation: null, street: null, postcode: null, city: null, phone: '+49 (0)2461 99-1', fax: null, email: 'anna@lindenau.example' },
    })]);
    for (const guid of [NASTY, 'g-remote']) {
      const $ = cheerio.load((await get(t, `/releases/${byGuid(t, guid).slug}`)).text);
      const share = new Set($('main .share a').toArray().map((element) => $(element).attr('href')));
      const foreign = $('[src], [href]').toArray()
        .map((element) => $(element).attr('src') ?? $(element).attr('href')!)
        .filter((value) => /^[a-z][a-z0-9+.-]*:/i.test(value))
        .filter((value) => !value.startsWith(`${BASE_URL}/`) && !/^(mailto|tel):/.test(value))
        .filter((value) => !share.has(value) && value !== REMOTE_IMAGE);
      expect(foreign).toEqual([]);
      // No protocol-relative address either.
      expect($('[src^="//"], [href^="//"]')).toHaveLength(0);
    }
  });
});

describe('old, withdrawn, unknown and embargoed releases', () => {
  test('a corrected title gets a new slug; the old one answers 301 to it; the page says when and why it was corrected', async () => {
    const t = await seeded();
    const before = byGuid(t, NASTY);
    const [first] = await nastyReleases();
    t.store.upsertReleases([{ ...first!, title: 'Tempo 30 für die Jülicher Straße' }], { now: new Date('2026-11-23T15:45:00Z'), note: 'Titel berichtigt' });
    const after = byGuid(t, NASTY);
    expect(after.slug).not.toBe(before.slug);
    expect(t.store.currentSlugFor(before.slug)).toBe(after.slug);

    const moved = await request(t.app).get(`/releases/${before.slug}`).expect(301);
    expect(moved.headers.location).toBe(`${BASE_URL}/releases/${after.slug}`);
    const movedCard = await request(t.app).get(`/releases/${before.slug}/contact.vcf`).expect(301);
    expect(movedCard.headers.location).toBe(`${BASE_URL}/releases/${after.slug}/contact.vcf`);

    const $ = cheerio.load((await get(t, `/releases/${after.slug}`)).text);
    expect($('h1').text()).toBe('Tempo 30 für die Jülicher Straße');
    expect($('.dates').text()).toBe('Veröffentlicht am 20. November 2026, 10:30 Uhr, korrigiert am 23. November 2026, 16:45 Uhr');
    expect($('.dates time').last().attr('datetime')).toBe('2026-11-23T16:45:00+01:00');
    expect($('.corrections li').toArray().map((element) => $(element).text())).toEqual([
      // The office's note, then what changed (revision-text.ts).
      'Korrektur vom 23. November 2026, 16:45 Uhr: Titel berichtigt – '
        + 'Titel geändert: „Tempo <30 & „Ruhe“ für die Jülicher Straße 🚲 ]]> und ]]> zweimal“ → „Tempo 30 für die Jülicher Straße“',
    ]);
  });

  test('a withdrawn release answers 410 with an HTML page that is not indexed', async () => {
    const t = await seeded();
    const release = byGuid(t, NASTY);
    const [first] = await nastyReleases();
    t.store.upsertReleases([{ ...first!, status: 'withdrawn' }], { now: new Date('2026-11-24T00:00:00Z') });
    const res = await get(t, `/releases/${release.slug}`, 410);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const $ = cheerio.load(res.text);
    expect($('html').attr('lang')).toBe('de');
    expect($('meta[name="robots"]').attr('content')).toBe('noindex');
    expect($('main p').first().text()).toBe('Diese Pressemitteilung wurde zurückgezogen.');
    expect($(`main a[href="${BASE_URL}/"]`)).toHaveLength(1);
    expect($('h1')).toHaveLength(1);
    expect(res.text).not.toContain('Jülicher');
    await get(t, `/releases/${release.slug}/contact.vcf`, 404);
  });

  test('unknown and malformed slugs answer 404 as an HTML page', async () => {
    const t = await seeded();
    for (const path of ['/releases/gibt-es-nicht', '/releases/Gross', '/releases/mit_unterstrich', `/releases/${'a'.repeat(121)}`,
      '/releases/%3Cscript%3E', '/releases/gibt-es-nicht/contact.vcf']) {
      const res = await get(t, path, 404);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-store');
      const $ = cheerio.load(res.text);
      expect($('h1').text()).toBe('Seite nicht gefunden');
      expect($('meta[name="robots"]').attr('content')).toBe('noindex');
      expect($('script')).toHaveLength(0);
    }
  });

  test('an embargoed release is exactly like an unknown one until its time, then appears', async () => {
    const t = await seeded();
    t.store.upsertReleases([input({
      guid: 'g-embargo', title: 'Neuer Bürgermeister gewählt', publishedAt: '2026-11-25T12:00:00Z', embargoUntil: '2026-11-25T14:00:00Z',
      contact: { name: 'Anna Beispiel', organisation: 'Stadt Lindenau', street: null, postcode: null, city: null, phone: null, fax: null, email: 'anna@lindenau.example' },
    })]);
    const slug = byGuid(t, 'g-embargo').slug;
    const unknown = await get(t, '/releases/neuer-buergermeister-gewaehl', 404);
    const embargoed = await get(t, `/releases/${slug}`, 404);
    expect(embargoed.text).toBe(unknown.text.replace('neuer-buergermeister-gewaehl', slug));
    expect(embargoed.headers['cache-control']).toBe(unknown.headers['cache-control']);
    expect(embargoed.text).not.toContain('Bürgermeister gewählt');
    await get(t, `/releases/${slug}/contact.vcf`, 404);

    t.now = new Date('2026-11-25T14:00:01Z');
    const res = await get(t, `/releases/${slug}`);
    expect(cheerio.load(res.text)('h1').text()).toBe('Neuer Bürgermeister gewählt');
    await get(t, `/releases/${slug}/contact.vcf`);
  });
});

describe('GET /releases/{slug}/contact.vcf', () => {
  test('a vCard 4.0 with CRLF lines, escaped values and lines folded at 75 octets', async () => {
    const t = app();
    const street = 'Straße der Deutschen Einheit, Gebäude C; Eingang über den Hof\\Rückseite, Zimmer 4711 bis 4720 (bitte klingeln)';
    t.store.upsertReleases([input({
      guid: 'g-card', title: 'Sprechstunde', publishedAt: '2026-11-20T09:00:00Z', organisation: 'Stadt Lindenau', department: 'Fachbereich Presse, Marketing',
      contact: { name: 'Jörg Müßig', organisation: 'Stadt Lindenau', street, postcode: '52999', city: 'Lindenau',
        phone: '02461/123-45', fax: '02461/123-46', email: 'presse@lindenau.example' },
    })]);
    const slug = byGuid(t, 'g-card').slug;
    const res = await get(t, `/releases/${slug}/contact.vcf`);
    expect(res.headers['content-type']).toBe('text/vcard; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="pressekontakt-${slug}.vcf"`);
    const text = res.text;
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const physical = text.slice(0, -2).split('\r\n');
    for (const line of physical) expect(Buffer.byteLength(line, 'utf8')).toBeLessThanOrEqual(75);
    expect(physical.some((line) => line.startsWith(' '))).toBe(true);
    // Unfolding (RFC 6350 3.2) gives back the logical lines.
    const lines = text.replace(/\r\n /g, '').slice(0, -2).split('\r\n');
    expect(lines).toEqual([
      'BEGIN:VCARD',
      'VERSION:4.0',
      'FN:Jörg Müßig',
      'ORG:Stadt Lindenau;Fachbereich Presse\\, Marketing',
      'ADR;TYPE=work:;;Straße der Deutschen Einheit\\, Gebäude C\\; Eingang über den Hof\\\\Rückseite\\, Zimmer 4711 bis 4720 (bitte klingeln);Lindenau;;52999;',
      'TEL;TYPE=work,voice:02461/123-45',
      'TEL;TYPE=work,fax:02461/123-46',
      'EMAIL;TYPE=work:presse@lindenau.example',
      'END:VCARD',
    ]);
    // Unescaping the street component gives back the street.
    const adr = lines[4]!.slice('ADR;TYPE=work:'.length).split(/(?<!\\);/);
    expect(adr[2]!.replace(/\\([\\,;])/g, '$1')).toBe(street);
  });

  test('404 when the release has no contact', async () => {
    const t = await seeded();
    await get(t, `/releases/${byGuid(t, 'tag:lindenau.example,2026:long-1').slug}/contact.vcf`, 404);
  });
});

describe('the Mastodon share step', () => {
  const url = `${BASE_URL}/releases/tempo-30`;
  const path = `/share/mastodon?url=${encodeURIComponent(url)}&text=${encodeURIComponent('Tempo 30 & mehr')}`;

  test('asks for the instance with a plain GET form, and may send there', async () => {
    const t = app();
    const res = await get(t, path);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toContain("form-action 'self' https:");
    const $ = cheerio.load(res.text);
    const form = $('main form');
    expect(form.attr('action')).toBe(`${BASE_URL}/share/mastodon`);
    expect(form.attr('method')).toBe('get');
    expect(form.find('input[name="url"]').attr('value')).toBe(url);
    expect(form.find('input[name="text"]').attr('value')).toBe('Tempo 30 & mehr');
    const instance = form.find('input[name="instance"]');
    expect($(`label[for="${instance.attr('id')}"]`).text()).toBe('Ihre Mastodon-Instanz');
    expect($('script')).toHaveLength(0);
  });

  test('redirects 303 to the instance\'s share form with the text and link', async () => {
    const t = app();
    for (const [typed, host] of [['mastodon.social', 'mastodon.social'], [' https://Chaos.Social/ ', 'chaos.social'], ['@anna@norden.social', 'norden.social'], ['bürger.example', 'xn--brger-kva.example']]) {
      const res = await request(t.app).get(`${path}&instance=${encodeURIComponent(typed!)}`).expect(303);
      const location = new URL(res.headers.location!);
      expect(`${location.origin}${location.pathname}`).toBe(`https://${host}/share`);
      expect(Object.fromEntries(location.searchParams)).toEqual({ text: `Tempo 30 & mehr ${url}` });
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  test('a bad instance answers 400 with the form and a message; a foreign link 400', async () => {
    const t = app();
    for (const typed of ['', 'localhost', '127.0.0.1', 'evil.example/phish', 'host.example:8080', 'a b.example', '-bad.example', 'x'.repeat(64) + '.example']) {
      const res = await request(t.app).get(`${path}&instance=${encodeURIComponent(typed)}`).expect(400);
      const $ = cheerio.load(res.text);
      expect($('[role="alert"]').text()).toBe('Bitte geben Sie den Namen einer Instanz an, zum Beispiel mastodon.social.');
      expect($('input[name="instance"]').attr('aria-invalid')).toBe('true');
      expect($('input[name="instance"]').attr('value')).toBe(typed);
    }
    await request(t.app).get(`/share/mastodon?url=${encodeURIComponent('https://evil.example/')}&text=x&instance=mastodon.social`).expect(400);
    await request(t.app).get('/share/mastodon').expect(400);
  });
});

describe('pure parts', () => {
  test('longDate: Berlin wall clock, no time at midnight, summer time', () => {
    expect(longDate('2017-08-01T22:00:00.000Z', 'de')).toEqual({ text: '2. August 2017', datetime: '2017-08-02' });
    expect(longDate('2026-07-01T07:05:00.000Z', 'de')).toEqual({ text: '1. Juli 2026, 09:05 Uhr', datetime: '2026-07-01T09:05:00+02:00' });
    expect(longDate('2026-03-02T08:30:00.000Z', 'en').text).toBe('2 March 2026, 09:30');
  });

  test('fileSize in the site\'s number format', () => {
    expect(fileSize(142, 'de')).toBe('142 Bytes');
    expect(fileSize(2765, 'de')).toBe('2,7 KB');
    expect(fileSize(1258291, 'de')).toBe('1,2 MB');
    expect(fileSize(2765, 'en')).toBe('2.7 KB');
  });

  test('vCard escaping and folding never split a character', () => {
    expect(escapeVCardText('a,b;c\\d\r\ne\nf')).toBe('a\\,b\\;c\\\\d\\ne\\nf');
    const folded = foldLine(`NOTE:${'ä'.repeat(100)}`);
    for (const line of folded.split('\r\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
    expect(folded.replace(/\r\n /g, '')).toBe(`NOTE:${'ä'.repeat(100)}`);
    expect(renderVCard({ name: null, organisation: 'Stadt Lindenau', street: null, postcode: null, city: null, phone: null, fax: null, email: null }))
      .toBe('BEGIN:VCARD\r\nVERSION:4.0\r\nKIND:org\r\nFN:Stadt Lindenau\r\nORG:Stadt Lindenau\r\nEND:VCARD\r\n');
  });

  test('mastodonInstance accepts host names only', () => {
    expect(mastodonInstance('mastodon.social')).toBe('mastodon.social');
    expect(mastodonInstance('HTTPS://Mastodon.Social/')).toBe('mastodon.social');
    expect(mastodonInstance('@me@chaos.social')).toBe('chaos.social');
    for (const bad of ['', 'localhost', '10.0.0.1', 'a..b', 'host.example:1', 'host.example/x', 'javascript:alert(1)', 'host.example?x', 'exa mple.org']) {
      expect(mastodonInstance(bad)).toBeNull();
    }
  });
});
