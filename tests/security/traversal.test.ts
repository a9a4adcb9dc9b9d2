import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { refreshSource, type RefreshReport } from '../../src/ingest/refresh.js';
import { createTestApp, FIXTURES, type TestApp } from '../helpers/app.js';
import { requireBuild, spawnCli, kill, type Run } from '../helpers/cli.js';

const apps: TestApp[] = [];
const dirs: string[] = [];
const runs: Run[] = [];
const servers: Server[] = [];

beforeAll(requireBuild);

afterEach(async () => {
  for (const run of runs.splice(0)) await kill(run);
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  for (const t of apps.splice(0)) t.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A word only the secret files hold: it must appear in no release and no answer. */
const SECRET = 'GEHEIMSACHE';
const SECRET_PNG = readFileSync(path.join(FIXTURES, 'media', 'bild-ohne-endung'));
const SECRET_TEXT = `Vertrauliche Personalakte ${SECRET}\n\nNur für den Dienstgebrauch\n\nDieser Text liegt außerhalb des Ordners: ${SECRET}.\n\n`
  + 'Herausgegeben am 19.11.2026 von:\n\nStadt Lindenau\nPersonalamt\n';
const LEGIT_IMAGE = readFileSync(path.join(FIXTURES, 'traversal', 'eingang', 'bild.jpg'));

/** The release files that are in the folder (links to outside it are not releases of it). */
const RELEASE_FILES = ['absolute.md', 'absolut-tmp.md', 'backslash.md', 'encoded.md', 'link.md', 'nul.md', 'ok.md', 'parent.md', 'verweis.txt'].sort();
/** Entries of the folder that lead outside it: a release file, an attachment name, and a folder. */
const LINKS_OUT = ['extern', 'geheim.txt', 'verlinkt.txt'];

/**
 * A temporary tree: secret files beside the data folder, and the data folder with a copy of
 * tests/fixtures/traversal/eingang plus symbolic links from inside it to the secrets.
 */
function tree(): { root: string; data: string; folder: string } {
  const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'herold-traversal-')));
  dirs.push(root);
  writeFileSync(path.join(root, 'secret.txt'), SECRET_TEXT);
  writeFileSync(path.join(root, 'secret.png'), SECRET_PNG);
  mkdirSync(path.join(root, 'outside'));
  writeFileSync(path.join(root, 'outside', 'geheim.md'), `---\ntitle: ${SECRET} außerhalb\ndate: 2026-11-19T09:00:00Z\n---\n\n${SECRET}\n`);
  const data = path.join(root, 'data');
  const folder = path.join(data, 'eingang');
  cpSync(path.join(FIXTURES, 'traversal', 'eingang'), folder, { recursive: true });
  writeFileSync(path.join(folder, 'absolut-tmp.md'), `---\ntitle: Bild mit absolutem Pfad im Temp-Ordner\ndate: 2026-11-20T16:00:00Z\n`
    + `image: ${path.join(root, 'secret.png')}\nattachments:\n  - ${path.join(root, 'secret.txt')}\n---\n\nAbsolut.\n`);
  symlinkSync('../../secret.png', path.join(folder, 'verlinkt.png'));
  symlinkSync('../../secret.png', path.join(folder, 'verlinkt_2.png'));
  symlinkSync('../../secret.txt', path.join(folder, 'verlinkt.txt'));
  symlinkSync(path.join(root, 'secret.txt'), path.join(folder, 'geheim.txt'));
  symlinkSync('../../outside', path.join(folder, 'extern'));
  // A link back to the folder itself: read once, not for ever.
  symlinkSync('.', path.join(folder, 'schleife'));
  return { root, data, folder };
}

/** Every file under a folder, following no links. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

/** Whether bytes are (or hold) one of the secrets. */
function isSecret(bytes: Buffer): boolean {
  return bytes.equals(SECRET_PNG) || bytes.includes(SECRET) || bytes.includes('root:x:0:0');
}

/** A GET through the app, its body as bytes whatever the type. */
async function getBytes(t: TestApp, url: string): Promise<{ status: number; body: Buffer }> {
  const res = await request(t.app).get(url).buffer(true).parse((stream, done) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => done(null, Buffer.concat(chunks)));
  });
  return { status: res.status, body: res.body as Buffer };
}

/** A run of the folder: every release file in it read, every link out of it rejected with its reason. */
function checkReport(report: RefreshReport, folder: string): void {
  expect(report.ok, report.error ?? '').toBe(true);
  expect(report.outcomes.map((outcome) => path.basename(outcome.file!)).sort()).toEqual(RELEASE_FILES);
  for (const outcome of report.outcomes) expect(realpathSync(outcome.file!).startsWith(`${folder}${path.sep}`)).toBe(true);
  // The links out are named, each with the reason, so the press office can see why.
  const rejected = report.rejected.map((item) => `${path.basename(item.ref)}: ${item.reason}`).sort();
  expect(rejected).toHaveLength(LINKS_OUT.length);
  rejected.forEach((line, index) => expect(line).toMatch(new RegExp(`^${LINKS_OUT[index]}: .*outside`)));
}

describe('the files source reads and publishes nothing outside its folder', () => {
  test('names with .., absolute, encoded, backslashed and NUL paths, and links out, in a source with plain, ".." and absolute configured paths', { timeout: 30_000 }, async () => {
    const { data, folder } = tree();
    writeFileSync(path.join(data, 'herold.json'), JSON.stringify({ sources: [
      { id: 'archiv', type: 'files', schedule: '0 * * * *', path: 'eingang' },
      { id: 'umweg', type: 'files', schedule: '0 * * * *', path: 'eingang/../../data/eingang' },
      { id: 'absolut', type: 'files', schedule: '0 * * * *', path: folder },
    ] }));
    const t = createTestApp({ dir: data, env: { HEROLD_CONFIG: path.join(data, 'herold.json') } });
    apps.push(t);
    for (const source of t.config.sources) {
      checkReport(await refreshSource(source, { config: t.config, store: t.store, clock: () => t.now, log: (line) => t.logs.push(line) }), folder);
    }

    // Nothing of the secrets is stored: no release text, and no media file copied from them.
    const releases = t.db.prepare('SELECT title, subtitle, body_html FROM releases').all();
    expect(releases).toHaveLength(RELEASE_FILES.length * 3);
    expect(JSON.stringify(releases)).not.toContain(SECRET);
    for (const file of filesUnder(t.config.mediaDir)) expect(isSecret(readFileSync(file)), file).toBe(false);
    // Only the files that really are in the folder were measured and copied under /media/.
    const measured = t.db.prepare(`SELECT DISTINCT url FROM media WHERE mime IS NOT NULL`).pluck().all() as string[];
    expect([...new Set(measured.map((url) => url.replace(/^\/media\/sources\/[a-z]+\/[0-9a-f]{12}-/, '')))].sort()).toEqual(['bild.jpg', 'plan.pdf']);
    const image = t.db.prepare(`SELECT url FROM media WHERE url LIKE '%-bild.jpg' LIMIT 1`).pluck().get() as string;
    const served = await getBytes(t, image);
    expect(served.status).toBe(200);
    expect(served.body.equals(LEGIT_IMAGE)).toBe(true);

    // What Herold publishes (pages, feeds, every URL of its own that a release names) holds no secret.
    const outputs = ['/', '/feeds/all.rss', '/feeds/all.atom', '/feeds/all.json', '/api/v1/releases?limit=100', '/sitemap.xml'];
    for (const slug of t.db.prepare('SELECT slug FROM releases').pluck().all() as string[]) outputs.push(`/releases/${slug}`);
    for (const url of t.db.prepare('SELECT DISTINCT url FROM media').pluck().all() as string[]) {
      const own = new URL(url, `${t.config.baseUrl}/`);
      if (own.origin === t.config.baseUrl) outputs.push(own.pathname);
    }
    for (const url of outputs) {
      const res = await getBytes(t, url);
      expect(res.status, url).toBeLessThan(500);
      expect(isSecret(res.body), url).toBe(false);
    }
  });

  test('herold import of the folder on the command line: the links out are rejected with their reason, nothing outside is read', { timeout: 30_000 }, async () => {
    const { data, folder } = tree();
    const env = { PATH: process.env.PATH ?? '', HEROLD_DATA_DIR: data, HEROLD_BASE_URL: 'http://herold.test' };
    const run = spawnCli(['import', folder], env, data);
    runs.push(run);
    const exit = await run.exit;
    // Rejections make the exit code 1; each is named with its reason.
    expect(exit.code, run.stderr()).toBe(1);
    for (const name of LINKS_OUT) expect(run.stdout()).toMatch(new RegExp(`rejected .*${name}: .*outside`));
    expect(run.stdout()).toContain(`import: ${RELEASE_FILES.length} new, 0 changed, 0 unchanged, ${LINKS_OUT.length} rejected`);
    expect(run.stdout()).not.toContain(SECRET);
    const t = createTestApp({ dir: data });
    apps.push(t);
    expect(JSON.stringify(t.db.prepare('SELECT title, body_html FROM releases').all())).not.toContain(SECRET);
    for (const file of filesUnder(t.config.mediaDir)) expect(isSecret(readFileSync(file)), file).toBe(false);
  });
});

/** A GET with the path sent exactly as written: no client-side resolving of "..", "%2e%2e" or backslashes. */
function rawGet(port: number, rawPath: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: rawPath, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('/media/ serves only files in the media folder', () => {
  test('.., %2e%2e, %2f, backslashes, double encoding, overlong UTF-8 and NUL never reach a file outside it', async () => {
    const t = createTestApp();
    apps.push(t);
    mkdirSync(path.join(t.config.mediaDir, 'sub'), { recursive: true });
    writeFileSync(path.join(t.config.mediaDir, 'ok.txt'), 'erlaubt');
    writeFileSync(path.join(t.dir, 'secret.txt'), SECRET);
    writeFileSync(path.join(t.dir, 'secret.png'), SECRET_PNG);
    const server = t.app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;

    const ok = await rawGet(port, '/media/ok.txt');
    expect(ok.status).toBe(200);
    expect(ok.body.toString()).toBe('erlaubt');
    const attempts = [
      '/media/../secret.txt', '/media/..%2fsecret.txt', '/media/..%2Fsecret.png', '/media/%2e%2e/secret.txt', '/media/%2e%2e%2fsecret.txt',
      '/media/%2E%2E%2Fsecret.png', '/media/.%2e/secret.txt', '/media/%2e./secret.txt', '/media/sub/../../secret.txt', '/media/sub/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/media/..\\secret.txt', '/media/..%5csecret.txt', '/media/%2e%2e%5csecret.txt', '/media/sub\\..\\..\\secret.txt',
      '/media/%252e%252e%252fsecret.txt', '/media/%c0%ae%c0%ae/secret.txt', '/media/%c0%ae%c0%ae%c0%afsecret.txt',
      '/media/ok.txt%00../../secret.txt', '/media/%00/../secret.txt', '/media/..%00/secret.txt',
      '/media//etc/passwd', '/media/%2fetc%2fpasswd', '/media/%2Fetc/passwd', '/media/../../../../../../etc/passwd',
      '/media/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/media/....//....//etc/passwd', '/media/..;/secret.txt',
      `/media/${encodeURIComponent(path.join(t.dir, 'secret.txt'))}`, '/media/file:%2f%2f%2fetc%2fpasswd',
    ];
    for (const attempt of attempts) {
      const res = await rawGet(port, attempt);
      expect([400, 403, 404], `${attempt}: ${res.status}`).toContain(res.status);
      expect(isSecret(res.body), attempt).toBe(false);
    }
    expect(t.logs.filter((line) => /^error:/.test(line))).toEqual([]);
  });
});
