import vm from 'node:vm';
import request from 'supertest';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { widgetSource } from '../../src/embed/widget.js';
import { BASE_URL, type TestApp } from '../helpers/app.js';
import { NASTY_SLUG, SCRIPT_SLUG, SCRIPT_TITLE, seededApp } from './seed.js';

const apps: TestApp[] = [];
afterEach(() => {
  while (apps.length) apps.pop()!.close();
});

/** Just enough of the DOM for the widget: elements with attributes, children, text and a shadow root. */
class FakeNode {
  readonly attributes = new Map<string, string>();
  children: FakeNode[] = [];
  shadowRoot: FakeNode | null = null;
  shadowMode: string | null = null;
  className = '';
  private text = '';
  constructor(readonly tagName: string) {}
  get firstChild(): FakeNode | null {
    return this.children[0] ?? null;
  }
  get textContent(): string {
    return this.text + this.children.map((child) => child.textContent).join('');
  }
  set textContent(value: string) {
    this.children = [];
    this.text = value;
  }
  appendChild(child: FakeNode): FakeNode {
    this.children.push(child);
    return child;
  }
  removeChild(child: FakeNode): FakeNode {
    this.children = this.children.filter((node) => node !== child);
    return child;
  }
  setAttribute(name: string, value: string): void {
    this.attributes.set(name, String(value));
  }
  getAttribute(name: string): string | null {
    return this.attributes.get(name) ?? null;
  }
  removeAttribute(name: string): void {
    this.attributes.delete(name);
  }
  attachShadow(init: { mode: string }): FakeNode {
    if (this.shadowRoot) throw new Error('NotSupportedError: already has a shadow root');
    this.shadowMode = init.mode;
    this.shadowRoot = new FakeNode('#shadow-root');
    return this.shadowRoot;
  }
  find(tag: string): FakeNode[] {
    return this.children.flatMap((child) => [...(child.tagName === tag ? [child] : []), ...child.find(tag)]);
  }
}

function host(attributes: Record<string, string>): FakeNode {
  const element = new FakeNode('div');
  element.setAttribute('data-herold-headlines', '');
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  return element;
}

interface Page {
  readonly context: vm.Context;
  readonly requests: Array<{ url: string; init: Record<string, unknown> }>;
  readonly listeners: Array<() => void>;
  readonly globalsBefore: string[];
}

/** A page holding `elements`, whose fetch answers from `answer`; the widget runs in its own realm. */
function page(elements: FakeNode[], answer: (url: string) => Promise<unknown>, readyState = 'complete'): Page {
  const requests: Page['requests'] = [];
  const listeners: Array<() => void> = [];
  const document = {
    readyState,
    createElement: (tag: string) => new FakeNode(tag),
    querySelectorAll: (selector: string) => (selector === '[data-herold-headlines]' ? elements : []),
    addEventListener: (type: string, listener: () => void) => {
      if (type === 'DOMContentLoaded') listeners.push(listener);
    },
  };
  const sandbox: Record<string, unknown> = {
    document,
    fetch: (url: string, init: Record<string, unknown>) => {
      requests.push({ url, init });
      return answer(url);
    },
  };
  sandbox.window = sandbox;
  const context = vm.createContext(sandbox);
  return { context, requests, listeners, globalsBefore: Object.keys(sandbox) };
}

/** Waits until every element's widget has finished (its section is no longer busy). */
const settled = (elements: FakeNode[]) => vi.waitFor(() => {
  for (const element of elements) expect(element.shadowRoot?.children[1]?.getAttribute('aria-busy')).toBeNull();
}, { timeout: 5000, interval: 5 });

/** A response from the real app, in the shape fetch gives. */
function fromApp(t: TestApp) {
  return async (url: string) => {
    const res = await request(t.app).get(url.slice(BASE_URL.length));
    return { ok: res.status >= 200 && res.status < 300, status: res.status, json: async () => JSON.parse(res.text) };
  };
}

describe('GET /embed.js', () => {
  test('is JavaScript, cached for an hour, with validators and gzip', async () => {
    const t = await seededApp(apps);
    const res = await request(t.app).get('/embed.js').expect(200);
    expect(res.headers['content-type']).toBe('application/javascript; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=3600');
    expect(res.headers.vary).toBe('Accept-Encoding');
    expect(res.headers['set-cookie']).toBeUndefined();
    await request(t.app).get('/embed.js').set('If-None-Match', res.headers.etag!).expect(304);
    const gzip = await request(t.app).get('/embed.js').set('Accept-Encoding', 'gzip').expect(200);
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(res.text).toContain(`var BASE = "${BASE_URL}";`);
  });

  test('compiles, and never writes markup from data nor stores anything', async () => {
    const t = await seededApp(apps);
    const source = (await request(t.app).get('/embed.js').expect(200)).text;
    expect(() => new vm.Script(source, { filename: 'embed.js' })).not.toThrow();
    expect(() => new Function(source)).not.toThrow();
    for (const forbidden of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'localStorage',
      'sessionStorage', 'document.cookie', 'indexedDB']) {
      expect(source).not.toContain(forbidden);
    }
    expect(source).toContain("credentials: 'omit'");
    expect(source).toContain("attachShadow({ mode: 'open' })");
    expect(source.trim()).toMatch(/^\/\*![^\n]*\*\/\n\(function \(\) \{\n {2}'use strict';[\s\S]*\}\)\(\);$/);
  });

  test('inlines the base URL and texts as JSON, so no value can break out of the string', () => {
    const source = widgetSource('https://presse.example/a"b\u2028', { label: "</script>'\"", empty: '\\', error: '${x}' });
    expect(() => new vm.Script(source)).not.toThrow();
  });
});

describe('the widget in a page', () => {
  test('defines only window.HeroldHeadlines and renders every marked element into its own open shadow root', async () => {
    const t = await seededApp(apps);
    const source = (await request(t.app).get('/embed.js').expect(200)).text;
    const first = host({ 'data-topic': 'verkehr', 'data-limit': '5', 'data-theme': 'dark' });
    const second = host({ 'data-q': 'Bürgerfest', 'data-limit': '', 'data-department': '  ' });
    const p = page([first, second], fromApp(t));
    vm.runInContext(source, p.context);
    await settled([first, second]);

    const added = Object.keys(p.context).filter((key) => !p.globalsBefore.includes(key));
    expect(added).toEqual(['HeroldHeadlines']);
    const api = (p.context as { HeroldHeadlines: Record<string, unknown> }).HeroldHeadlines;
    expect(typeof api.render).toBe('function');
    expect(typeof api.renderAll).toBe('function');
    expect(Object.isFrozen(api)).toBe(true);

    expect(p.requests.map((entry) => entry.url)).toEqual([
      `${BASE_URL}/api/v1/headlines?topic=verkehr&limit=5&theme=dark`,
      `${BASE_URL}/api/v1/headlines?q=B%C3%BCrgerfest`,
    ]);
    for (const entry of p.requests) expect(entry.init).toMatchObject({ credentials: 'omit', mode: 'cors' });

    expect(first.shadowMode).toBe('open');
    const root = first.shadowRoot!;
    expect(root.children.map((child) => child.tagName)).toEqual(['style', 'section']);
    expect(root.children[0]!.textContent).toContain('prefers-color-scheme:dark');
    const section = root.children[1]!;
    expect(section.getAttribute('data-theme')).toBe('dark');
    expect(section.getAttribute('aria-busy')).toBeNull();
    const heading = section.find('h2')[0]!;
    expect(section.getAttribute('aria-labelledby')).toBe(heading.getAttribute('id'));
    expect(heading.textContent).toBe('Pressestelle Stadt Lindenau: Verkehr');
    const links = section.find('a');
    expect(links.map((link) => link.getAttribute('href'))).toEqual([
      `${BASE_URL}/releases/${NASTY_SLUG}`, `${BASE_URL}/releases/oeffnungszeiten-der-buergerbueros-ueber-die-feiertage`,
    ]);
    const times = section.find('time');
    expect(times[0]!.getAttribute('datetime')).toBe('2026-11-20T09:30:00.000Z');
    expect(times[0]!.textContent).toBe('20. November 2026');

    const other = second.shadowRoot!.children[1]!;
    expect(other.getAttribute('data-theme')).toBe('auto');
    const link = other.find('a')[0]!;
    // The title went in as text, exactly as it is.
    expect(link.textContent).toBe(SCRIPT_TITLE);
    expect(link.children).toEqual([]);
    expect(link.getAttribute('href')).toBe(`${BASE_URL}/releases/${SCRIPT_SLUG}`);
  });

  test('waits for DOMContentLoaded while the page is loading; render() re-renders into the same shadow root', async () => {
    const t = await seededApp(apps);
    const source = (await request(t.app).get('/embed.js').expect(200)).text;
    const element = host({ 'data-limit': '1' });
    const p = page([element], fromApp(t), 'loading');
    vm.runInContext(source, p.context);
    expect(p.requests).toHaveLength(0);
    expect(p.listeners).toHaveLength(1);
    p.listeners[0]!();
    await settled([element]);
    expect(element.shadowRoot!.children[1]!.find('li')).toHaveLength(1);

    element.setAttribute('data-limit', '2');
    const api = (p.context as { HeroldHeadlines: { render(element: FakeNode): Promise<boolean>; renderAll(): Promise<unknown> } }).HeroldHeadlines;
    await expect(api.render(element)).resolves.toBe(true);
    expect(element.shadowRoot!.children).toHaveLength(2);
    expect(element.shadowRoot!.children[1]!.find('li')).toHaveLength(2);
    // Already rendered elements are left alone by renderAll (e.g. when the script is included twice).
    await api.renderAll();
    expect(p.requests).toHaveLength(2);
    vm.runInContext(source, p.context);
    expect(p.requests).toHaveLength(2);
  });

  test('shows a short text when the request fails or is refused, and never links to anything but Herold', async () => {
    const failing = host({});
    const refused = host({ 'data-limit': '99' });
    const hostile = host({});
    const t = await seededApp(apps);
    const source = (await request(t.app).get('/embed.js').expect(200)).text;
    let call = 0;
    const p = page([failing, refused, hostile], async (url) => {
      call++;
      if (call === 1) throw new TypeError('Failed to fetch');
      if (call === 2) return fromApp(t)(url);
      return { ok: true, status: 200, json: async () => ({ items: [{ title: '<img src=x onerror=alert(1)>', url: 'javascript:alert(1)' }] }) };
    });
    vm.runInContext(source, p.context);
    await settled([failing, refused, hostile]);
    for (const element of [failing, refused]) {
      const note = element.shadowRoot!.children[1]!.find('p')[0]!;
      expect(note.textContent).toBe('Die Pressemitteilungen konnten nicht geladen werden.');
      expect(note.getAttribute('role')).toBe('status');
    }
    const link = hostile.shadowRoot!.children[1]!.find('a')[0]!;
    expect(link.textContent).toBe('<img src=x onerror=alert(1)>');
    expect(link.getAttribute('href')).toBeNull();
    expect(hostile.shadowRoot!.children[1]!.find('h2')[0]!.textContent).toBe('Pressemitteilungen');
  });
});
