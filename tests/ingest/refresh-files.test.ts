import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterEach, describe, expect, test } from 'vitest';
import type { SourceConfig } from '../../src/config.js';
import { refreshSource, stableGuid } from '../../src/ingest/refresh.js';
import { createTestApp, FIXTURES, type TestApp } from '../helpers/app.js';

const PNG = readFileSync(path.join(FIXTURES, 'media', 'bild-ohne-endung'));
const JPEG = readFileSync(path.join(FIXTURES, 'sites', 'rathaus', 'bilder', 'juelicher-strasse.jpg'));
const FILES = readdirSync(path.join(FIXTURES, 'files')).filter((name) => /\.(txt|md)$/.test(name)).sort();
const SOURCE = 'ordner';

const apps: TestApp[] = [];
const dirs: string[] = [];
afterEach(() => {
  while (apps.length) apps.pop()!.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * A temporary folder of release files: copies of tests/fixtures/files/*.txt and *.md, and the picture the seed-shape
 * release names ("kommunales-Integrationszentrum_1", without extension) as a real PNG beside it. The other text
 * releases' pictures are not there: they stay references.
 */
function releaseFolder(): string {
  const parent = mkdtempSync(path.join(tmpdir(), 'herold-files-'));
  dirs.push(parent);
  const folder = path.join(parent, 'mitteilungen');
  mkdirSync(folder);
  for (const name of FILES) cpSync(path.join(FIXTURES, 'files', name), path.join(folder, name));
  writeFileSync(path.join(folder, 'kommunales-Integrationszentrum_1.png'), PNG);
  return folder;
}

/** A test app with one `files` source reading `folder`; its config file lives in the app's own folder. */
function appWith(folder: string): TestApp {
  const dir = mkdtempSync(path.join(tmpdir(), 'herold-refresh-files-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'herold.json'), JSON.stringify({
    sources: [{ id: SOURCE, type: 'files', schedule: '*/10 * * * *', path: folder, topics: ['Stadt'] }],
  }));
  const t = createTestApp({ dir });
  apps.push(t);
  return t;
}

function deps(t: TestApp) {
  return { config: t.config, store: t.store, clock: () => t.now, log: (line: string) => t.logs.push(line) };
}

function source(t: TestApp): SourceConfig {
  return t.config.sources.find((candidate) => candidate.id === SOURCE)!;
}

function release(t: TestApp, ref: string) {
  return t.store.releaseByGuid(stableGuid(SOURCE, ref));
}

/** The RSS item whose title is `title`, as text. */
function rssItem(rss: string, title: string): string {
  const item = rss.split('<item>').find((part) => part.includes(`<title><![CDATA[${title}]]></title>`) || part.includes(`<title>${title}</title>`));
  if (!item) throw new Error(`no RSS item titled ${title}`);
  return item.slice(0, item.indexOf('</item>'));
}

describe('a files source', () => {
  test('the first refresh stores every release file; the seed-shape release exactly, with its picture copied and served', async () => {
    const folder = releaseFolder();
    const t = appWith(folder);
    const report = await refreshSource(source(t), deps(t));
    expect(report).toMatchObject({ ok: true, new: FILES.length, changed: 0, unchanged: 0, rejected: [], error: null });
    expect(FILES).toHaveLength(8);

    const seed = release(t, 'seed-shape-aachen.txt')!;
    expect(seed).toMatchObject({
      sourceId: SOURCE,
      sourceRef: 'seed-shape-aachen.txt',
      title: 'Serap Güler zu Besuch',
      subtitle: 'NRW- Staatssekretärin Güler besuchte das Kommunale Integrationszentrum',
      publishedAt: '2017-08-01T22:00:00.000Z',
      updatedAt: null,
      organisation: 'Stadt Aachen',
      department: { name: 'Fachbereich Presse und Marketing' },
      contact: {
        name: 'Bernd Büttgens', organisation: 'Stadt Aachen', street: 'Markt 39', postcode: '52062', city: 'Aachen',
        phone: '0241/432-1309', fax: '0241/28-121', email: 'presse.marketing@mail.aachen.de',
      },
      language: 'de',
      status: 'published',
    });
    expect(seed.topics.map((topic) => topic.name)).toEqual(['Stadt']);
    expect(seed.bodyHtml.match(/<p>/g)).toHaveLength(4);
    expect(seed.bodyText.split('\n\n')).toHaveLength(4);
    expect(seed.bodyText).toMatch(/^Zum Auftakt ihrer Sommertour/);
    expect(seed.bodyText).toMatch(/vor Ort unterstützen\.$/);
    expect(JSON.stringify(seed)).not.toMatch(/Pressekontakt|Twitter|Facebook|Herausgegeben|"Inhalt/);

    // The picture named without extension was found as .png, measured, copied under the media folder and served.
    expect(seed.images).toHaveLength(1);
    const image = seed.images[0]!;
    expect(image).toMatchObject({ mime: 'image/png', bytes: PNG.length, width: 40, height: 30, alt: null, caption: null, credit: null });
    expect(image.url).toMatch(new RegExp(`^/media/sources/${SOURCE}/[^/]*kommunales-integrationszentrum_1\\.png$`));
    expect(readFileSync(path.join(t.config.mediaDir, image.url.slice('/media/'.length)))).toEqual(PNG);
    const served = await request(t.app).get(image.url).buffer(true).expect(200);
    expect(served.headers['content-type']).toBe('image/png');
    expect(Buffer.from(served.body as Buffer)).toEqual(PNG);

    const feed = JSON.parse((await request(t.app).get('/feeds/all.json').expect(200)).text) as {
      items: Array<{ id: string; title: string; image?: string; content_html: string }>;
    };
    const item = feed.items.find((candidate) => candidate.id === seed.guid)!;
    expect(item).toMatchObject({ title: 'Serap Güler zu Besuch', image: `http://herold.test${image.url}` });
    expect(item.content_html).toContain('Nordrhein-Westfalen ist das einzige Bundesland');
    expect(feed.items).toHaveLength(FILES.length);
  });

  test('a picture that is not there stays a reference: stored, but not published as an image', async () => {
    const t = appWith(releaseFolder());
    await refreshSource(source(t), deps(t));
    const radweg = release(t, 'lindenau-radweg.txt')!;
    expect(radweg.title).toBe('Neuer Radweg an der Jülicher Straße freigegeben');
    expect(radweg.images).toEqual([{
      url: 'radweg-juelicher-strasse_2.jpg', title: null, alt: null, caption: null, credit: '© Stadt Lindenau / Foto: Anna Beispiel',
      width: null, height: null, mime: null, bytes: null,
    }]);
    expect(existsSync(path.join(t.config.mediaDir, 'sources', SOURCE))).toBe(true);
    expect(readdirSync(path.join(t.config.mediaDir, 'sources', SOURCE)).join(' ')).not.toContain('radweg');

    const rss = (await request(t.app).get('/feeds/all.rss').expect(200)).text;
    const item = rssItem(rss, radweg.title);
    expect(item).toContain(radweg.guid);
    expect(item).not.toMatch(/<enclosure|<media:content|<img|radweg-juelicher-strasse_2/);
    // The release whose picture was found has one, so the check above can tell the two apart.
    const seedItem = rssItem(rss, 'Serap Güler zu Besuch');
    expect(seedItem).toMatch(/<enclosure [^>]*url="http:\/\/herold\.test\/media\/sources\/ordner\/[^"]+\.png"/);
    expect(seedItem).toMatch(/<enclosure [^>]*type="image\/png"/);
    const json = JSON.parse((await request(t.app).get('/feeds/all.json').expect(200)).text) as { items: Array<{ id: string; image?: string; content_html: string }> };
    const jsonItem = json.items.find((candidate) => candidate.id === radweg.guid)!;
    expect(jsonItem.image).toBeUndefined();
    expect(jsonItem.content_html).not.toContain('radweg-juelicher-strasse_2');
  });

  test('Markdown with front matter: its GUID, topics, contact and rendered body', async () => {
    const t = appWith(releaseFolder());
    await refreshSource(source(t), deps(t));
    const gruen = release(t, 'tag:lindenau.example,2026:gruenflaeche')!;
    expect(gruen).toMatchObject({
      title: 'Neue Grünfläche am Rathausplatz', subtitle: 'Bürgerinnen und Bürger können ab Juni mitgestalten',
      publishedAt: '2026-03-02T08:30:00.000Z', updatedAt: '2026-03-04T11:00:00.000Z', department: { name: 'Fachbereich Umwelt und Grün' },
      contact: { name: 'Anna Beispiel', organisation: 'Stadt Lindenau', postcode: '01099', email: 'umwelt@lindenau.example' },
    });
    expect(gruen.topics.map((topic) => topic.name)).toEqual(['Stadt', 'Umwelt', 'Stadtentwicklung']);
    expect(gruen.bodyHtml).toContain('<strong>verwandelt</strong>');
    expect(gruen.bodyHtml).toContain('<a href="https://lindenau.example/gruen">');
    expect(release(t, 'lindenau-buergerbuero.md')!.title).toBe('Bürgerbüro am Freitag geschlossen');
  });

  test('a second refresh of unchanged files writes nothing', async () => {
    const t = appWith(releaseFolder());
    await refreshSource(source(t), deps(t));
    const seed = release(t, 'seed-shape-aachen.txt')!;
    const generation = t.store.generation();
    t.now = new Date('2026-11-25T13:00:00Z');
    const report = await refreshSource(source(t), deps(t));
    expect(report).toMatchObject({ ok: true, new: 0, changed: 0, unchanged: FILES.length, rejected: [] });
    expect(t.store.generation()).toBe(generation);
    expect(release(t, 'seed-shape-aachen.txt')).toEqual(seed);
    expect(t.store.revisionsOf(seed.id)).toEqual([]);
    expect(t.store.sourceState(SOURCE)).toMatchObject({ runs: 2, lastNew: 0, lastChanged: 0, lastUnchanged: FILES.length });
  });

  test('an edited file is updated in place: same GUID, new updated time, a revision', async () => {
    const folder = releaseFolder();
    const t = appWith(folder);
    await refreshSource(source(t), deps(t));
    const original = release(t, 'lindenau-stadtfest.txt')!;
    const file = path.join(folder, 'lindenau-stadtfest.txt');
    writeFileSync(file, readFileSync(file, 'utf8').replace('mehr als 40 Bands', 'mehr als 45 Bands'));

    t.now = new Date('2026-11-26T08:00:00Z');
    const report = await refreshSource(source(t), deps(t));
    expect(report).toMatchObject({ ok: true, new: 0, changed: 1, unchanged: FILES.length - 1 });
    expect(report.outcomes).toContainEqual({ ref: 'lindenau-stadtfest.txt', file, outcome: 'changed' });
    expect(report.outcomes).toContainEqual({ ref: 'tag:lindenau.example,2026:gruenflaeche', file: path.join(folder, 'lindenau-gruenflaeche.md'), outcome: 'unchanged' });
    const updated = release(t, 'lindenau-stadtfest.txt')!;
    expect(updated).toMatchObject({ id: original.id, guid: original.guid, slug: original.slug, updatedAt: '2026-11-26T08:00:00.000Z' });
    expect(updated.bodyText).toContain('mehr als 45 Bands');
    expect(t.store.revisionsOf(original.id).map((revision) => revision.previous)).toEqual([{ bodyHtml: original.bodyHtml }]);
  });

  test('a broken file is rejected with its path and the reason; the others are stored', async () => {
    const folder = releaseFolder();
    const noDate = path.join(folder, 'kaputt-ohne-datum.txt');
    const noTitle = path.join(folder, 'kaputt-ohne-titel.md');
    writeFileSync(noDate, 'Ein Titel\n\nEin Absatz, aber keine Zeile mit dem Datum.\n');
    writeFileSync(noTitle, '---\ndate: 2026-03-02\n---\nText ohne Titel.\n');
    const t = appWith(folder);
    const report = await refreshSource(source(t), deps(t));
    expect(report).toMatchObject({ ok: true, new: FILES.length, error: null });
    expect(report.rejected).toEqual([
      { ref: noDate, reason: 'text release kaputt-ohne-datum.txt: no date (no line "Herausgegeben am … von:")' },
      { ref: noTitle, reason: 'markdown release kaputt-ohne-titel.md: key "title" is missing' },
    ]);
    expect(t.logs).toContain(`refresh: source ${SOURCE}: rejected ${noDate}: ${report.rejected[0]!.reason}`);
    expect(t.store.sourceState(SOURCE)).toMatchObject({ lastNew: FILES.length, lastRejected: 2, errorCount: 0 });
    expect(release(t, 'seed-shape-aachen.txt')).toBeDefined();
  });

  test('a picture outside the release file\'s folder is not copied or served', async () => {
    const folder = releaseFolder();
    const secret = path.join(path.dirname(folder), 'geheim.png');
    writeFileSync(secret, PNG);
    writeFileSync(path.join(folder, 'ausbruch.md'), '---\ntitle: Ausbruch\ndate: 2026-03-02\nimage: ../geheim\n---\nText.\n');
    writeFileSync(path.join(folder, 'absolut.md'), `---\ntitle: Absolut\ndate: 2026-03-02\nimage: ${JSON.stringify(secret)}\n---\nText.\n`);
    const t = appWith(folder);
    expect(await refreshSource(source(t), deps(t))).toMatchObject({ ok: true, new: FILES.length + 2 });
    expect(release(t, 'ausbruch.md')!.images).toMatchObject([{ url: '../geheim', mime: null, bytes: null }]);
    expect(release(t, 'absolut.md')!.images).toMatchObject([{ url: secret, mime: null, bytes: null }]);
    expect(readdirSync(path.join(t.config.mediaDir, 'sources', SOURCE)).join(' ')).not.toContain('geheim');
  });

  test('two releases in different folders, each with its own "bild.jpg": each keeps its own picture', async () => {
    const folder = releaseFolder();
    for (const [name, bytes] of [['a', JPEG], ['b', PNG]] as const) {
      mkdirSync(path.join(folder, name));
      writeFileSync(path.join(folder, name, 'bild.jpg'), bytes);
      writeFileSync(path.join(folder, name, 'mitteilung.md'), `---\ntitle: Mitteilung ${name}\ndate: 2026-03-0${name === 'a' ? 2 : 3}\nimage: bild.jpg\n---\nText ${name}.\n`);
    }
    const t = appWith(folder);
    expect(await refreshSource(source(t), deps(t))).toMatchObject({ ok: true, new: FILES.length + 2 });
    const a = release(t, path.join('a', 'mitteilung.md'))!.images[0]!;
    const b = release(t, path.join('b', 'mitteilung.md'))!.images[0]!;
    expect(a).toMatchObject({ mime: 'image/jpeg', width: 64, height: 48 });
    expect(b).toMatchObject({ mime: 'image/png', width: 40, height: 30 });
    expect(Buffer.from((await request(t.app).get(a.url).buffer(true).expect(200)).body as Buffer)).toEqual(JPEG);
    expect(Buffer.from((await request(t.app).get(b.url).buffer(true).expect(200)).body as Buffer)).toEqual(PNG);
  });
});
