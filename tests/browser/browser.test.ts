/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadSamples } from '../../src/samples.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { listenOnLoopback } from '../helpers/cli.js';

const CHROMIUM = process.env.HEROLD_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = path.resolve(import.meta.dirname, '../../test-output/screenshots');
const DATA = path.resolve(import.meta.dirname, '../../data');
// CI installs Chromium (.ci/run); elsewhere the browser tests run where it is installed.
const available = existsSync(CHROMIUM) || process.env.CI === 'true';

let t: TestApp;
let herold: Server;
let host: Server;
let heroldUrl: string;
let hostUrl: string;
let browser: Browser;


/** A page on the host site: two widgets and an iframe, plus host styles that must not reach them. */
function hostPage(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host</title><link rel="icon" href="data:,">
<style>li, a, section { color: rgb(255, 0, 0) !important; font-size: 50px !important; } a { text-decoration: line-through !important; }</style></head>
<body><h1>Lokalzeitung</h1>
<div id="w1" data-herold-headlines data-topic="verkehr" data-limit="2"></div>
<div id="w2" data-herold-headlines data-department="fachbereich-kultur-und-weiterbildung" data-limit="3" data-theme="dark"></div>
<iframe id="frame" title="Schlagzeilen" src="${heroldUrl}/embed/headlines?limit=4&theme=light" width="400" height="300"></iframe>
<script src="${heroldUrl}/embed.js" defer></script>
</body></html>`;
}

describe.runIf(available)('in a real browser (Chromium)', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    herold = createServer();
    heroldUrl = await listenOnLoopback(herold);
    t = createTestApp({ env: { HEROLD_BASE_URL: heroldUrl, HEROLD_CONFIG: path.join(DATA, 'herold.json') } });
    await loadSamples(t.store, { samplesDir: t.config.samplesDir, mediaDir: t.config.mediaDir, baseUrl: heroldUrl });
    herold.on('request', t.app);
    host = createServer((req, res) => {
      if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(hostPage());
      else res.writeHead(404).end();
    });
    hostUrl = await listenOnLoopback(host);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--disable-quic'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    herold?.close();
    host?.close();
    t?.close();
  });

  /** Opens a page recording console errors and every requested origin. */
  async function open(url: string, width: number): Promise<{ page: Page; errors: string[]; origins: Set<string> }> {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    const origins = new Set<string>();
    page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('request', (request) => origins.add(new URL(request.url()).origin));
    await page.goto(url, { waitUntil: 'networkidle' });
    return { page, errors, origins };
  }

  test('a host page on another origin embeds two widgets and an iframe: headlines appear, isolated, with no other requests', async () => {
    const { page, errors, origins } = await open(`${hostUrl}/`, 1280);
    const first = page.locator('#w1 a');
    const second = page.locator('#w2 a');
    await expect.poll(() => first.count()).toBe(2);
    const kultur = t.store.departmentBySlug('fachbereich-kultur-und-weiterbildung')!;
    const kulturCount = Math.min(3, t.store.countReleases({ kind: 'department', id: kultur.id }, t.now));
    expect(kulturCount).toBeGreaterThanOrEqual(2);
    await expect.poll(() => second.count()).toBe(kulturCount);
    const verkehr = t.store.newestReleases({ kind: 'topic', id: t.store.topicBySlug('verkehr')!.id }, { now: t.now, limit: 2 });
    expect(await first.allTextContents()).toEqual(verkehr.map((release) => expect.stringContaining(release.title)));
    expect(await first.first().getAttribute('href')).toBe(`${heroldUrl}/releases/${verkehr[0]!.slug}`);
    // Host styles do not cross into the shadow root.
    const style = await first.first().evaluate((link) => {
      const computed = getComputedStyle(link);
      return { color: computed.color, size: computed.fontSize, decoration: computed.textDecorationLine };
    });
    expect(style.color).not.toBe('rgb(255, 0, 0)');
    expect(style.size).not.toBe('50px');
    expect(style.decoration).not.toContain('line-through');
    // The widgets' markup stays in their shadow roots; the host's DOM holds no list of theirs.
    expect(await page.evaluate(() => document.querySelectorAll('li').length)).toBe(0);
    expect(await page.evaluate(() => Object.keys(window).filter((key) => key.toLowerCase().includes('herold')))).toEqual(['HeroldHeadlines']);
    const frame = page.frameLocator('#frame');
    await expect.poll(() => frame.locator('a').count()).toBe(4);
    expect(errors).toEqual([]);
    expect([...origins].sort()).toEqual([heroldUrl, hostUrl].sort());
    expect(await page.context().cookies()).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, 'host-embeds.png'), fullPage: true });
    await page.context().close();
  });

  test.each([360, 1280])('the home page and a release page fit %i px without horizontal scrolling, with no console error', async (width) => {
    const release = t.store.newestReleases({ kind: 'all' }, { now: t.now, limit: 1 })[0]!;
    for (const [name, url] of [['home', `${heroldUrl}/`], ['release', `${heroldUrl}/releases/${release.slug}`]] as const) {
      const { page, errors, origins } = await open(url, width);
      await page.screenshot({ path: path.join(SHOTS, `${name}-${width}.png`), fullPage: true });
      const wider = await page.evaluate(() => {
        const limit = document.documentElement.clientWidth;
        return [...document.querySelectorAll('body *')].filter((element) => element.getBoundingClientRect().right > limit + 0.5)
          .map((element) => `${element.tagName.toLowerCase()}.${element.className}`);
      });
      expect(wider, `${name} at ${width}px: elements wider than the viewport`).toEqual([]);
      expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
      expect(errors).toEqual([]);
      expect([...origins]).toEqual([heroldUrl]);
      await page.context().close();
    }
  });

  test('the copy-link button copies the release URL and says so', async () => {
    const release = t.store.newestReleases({ kind: 'all' }, { now: t.now, limit: 1 })[0]!;
    const { page, errors } = await open(`${heroldUrl}/releases/${release.slug}`, 1280);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: heroldUrl });
    await page.getByRole('button', { name: /Link kopieren/ }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(`${heroldUrl}/releases/${release.slug}`);
    await expect.poll(() => page.locator('[aria-live]').first().textContent()).toContain('kopiert');
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
