import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import request from 'supertest';
import { afterEach, describe, expect, test } from 'vitest';
import { openApiDocument } from '../../src/api/openapi.js';
import { checkReleaseRequest, RELEASE_PATCH_SCHEMA, RELEASE_SCHEMA } from '../../src/release-object.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

const TOKEN = 'press-office-token-0001';
const ADMIN = 'operations-admin-token-01';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
type Method = (typeof METHODS)[number];

interface Parameter { name: string; in: 'path' | 'query' | 'header'; required?: boolean; example?: unknown; schema?: object }
interface Operation {
  operationId: string;
  security?: Array<Record<string, string[]>>;
  parameters?: Array<Parameter | { $ref: string }>;
  requestBody?: { required?: boolean; content: Record<string, { schema: { $ref?: string }; example?: unknown }> };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: object }> }>;
}
type PathItem = Partial<Record<Method, Operation>> & { parameters?: Array<Parameter | { $ref: string }> };
interface Document {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, PathItem>;
  components: { securitySchemes: Record<string, { type: string; scheme?: string }>; schemas: Record<string, unknown> } & Record<string, Record<string, unknown>>;
}

const apps: TestApp[] = [];
afterEach(() => {
  while (apps.length) apps.pop()!.close();
});

/** An app with API and admin tokens and one (empty) files source, so that every documented operation can succeed. */
function app(): TestApp {
  const dir = mkdtempSync(path.join(tmpdir(), 'herold-openapi-'));
  mkdirSync(path.join(dir, 'presse'));
  writeFileSync(path.join(dir, 'herold.json'), JSON.stringify({
    sources: [{ id: 'pressestelle', type: 'files', schedule: '*/15 * * * *', path: 'presse' }],
  }));
  const t = createTestApp({ dir, env: { HEROLD_API_TOKENS: TOKEN, HEROLD_ADMIN_TOKEN: ADMIN } });
  apps.push(t);
  return t;
}

async function servedDocument(t: TestApp): Promise<Document> {
  const res = await request(t.app).get('/api/v1/openapi.json').expect(200);
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  return JSON.parse(res.text) as Document;
}

/** Follows a local $ref ("#/components/…") through the document. */
function resolve<T>(doc: Document, value: T | { $ref: string }): T {
  const target = (value as { $ref?: string }).$ref;
  if (!target) return value as T;
  expect(target).toMatch(/^#\//);
  const found = target.slice(2).split('/').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
  expect(found, `${target} resolves`).toBeDefined();
  return resolve(doc, found as T | { $ref: string });
}

function operations(doc: Document): Array<{ path: string; method: Method; op: Operation; parameters: Parameter[] }> {
  return Object.entries(doc.paths).flatMap(([route, item]) => METHODS.filter((method) => item[method]).map((method) => ({
    path: route,
    method,
    op: item[method]!,
    parameters: [...(item.parameters ?? []), ...(item[method]!.parameters ?? [])].map((parameter) => resolve<Parameter>(doc, parameter)),
  })));
}

interface Layer {
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every route registered in the Express app, as "METHOD /path/{param}", walking mounted routers. */
function registeredRoutes(stack: Layer[]): string[] {
  return stack.flatMap((layer): string[] => {
    if (layer.route) {
      expect(typeof layer.route.path, 'route paths are strings').toBe('string');
      const route = (layer.route.path as string).replace(/:(\w+)/g, '{$1}');
      // `all` handlers answer 405 with Allow for methods a path does not have; they are no operation.
      return Object.keys(layer.route.methods).filter((method) => method !== '_all').map((method) => `${method.toUpperCase()} ${route}`);
    }
    return layer.handle?.stack ? registeredRoutes(layer.handle.stack) : [];
  });
}

function walk(value: unknown, visit: (node: Record<string, unknown>) => void): void {
  if (Array.isArray(value)) value.forEach((item) => walk(item, visit));
  else if (value && typeof value === 'object') {
    visit(value as Record<string, unknown>);
    Object.values(value).forEach((item) => walk(item, visit));
  }
}

describe('GET /api/v1/openapi.json', () => {
  test('is an OpenAPI 3.1 document: info, paths, operations with responses, a bearer security scheme, resolvable refs', async () => {
    const t = app();
    const doc = await servedDocument(t);
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.title).toEqual(expect.any(String));
    expect(doc.info.version).toEqual(expect.any(String));
    expect(doc.components.securitySchemes.apiToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.adminToken).toMatchObject({ type: 'http', scheme: 'bearer' });

    const ids = new Set<string>();
    for (const { path: route, method, op, parameters } of operations(doc)) {
      const name = `${method.toUpperCase()} ${route}`;
      expect(route, name).toMatch(/^\/api\/v1\//);
      expect(ids.has(op.operationId), `${name}: operationId unique`).toBe(false);
      ids.add(op.operationId);
      expect(Object.keys(op.responses).some((status) => /^2\d\d$/.test(status)), `${name}: a success response`).toBe(true);
      // Every path template is a required path parameter, and every path parameter is in the template.
      const templated = [...route.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      expect(parameters.filter((parameter) => parameter.in === 'path').map((parameter) => parameter.name).sort(), name).toEqual(templated.sort());
      for (const parameter of parameters.filter((item) => item.in === 'path')) expect(parameter.required, name).toBe(true);
      for (const requirement of op.security ?? []) {
        for (const scheme of Object.keys(requirement)) expect(doc.components.securitySchemes[scheme], `${name}: ${scheme}`).toBeDefined();
      }
      for (const [status, reply] of Object.entries(op.responses)) {
        const resolved = resolve<{ content?: Record<string, unknown> }>(doc, reply);
        // Errors are RFC 9457 problem details; a refresh that found a run under way answers that run's report instead.
        if (/^[45]/.test(status) && !(op.operationId === 'refreshSource' && status === '409')) expect(Object.keys(resolved.content ?? {}), `${name} ${status}`).toEqual(['application/problem+json']);
      }
    }
    walk(doc, (node) => {
      if (typeof node.$ref === 'string') resolve(doc, node);
    });
  });

  test('documents every /api/v1 route the app registers, and nothing it does not', async () => {
    const t = app();
    const doc = await servedDocument(t);
    const registered = registeredRoutes((t.express as unknown as { router: { stack: Layer[] } }).router.stack)
      .filter((route) => route.split(' ')[1]!.startsWith('/api/v1'));
    const documented = operations(doc).map(({ method, path: route }) => `${method.toUpperCase()} ${route}`);
    expect(new Set(registered).size).toBe(registered.length);
    expect([...registered].sort()).toEqual([...documented].sort());
    expect(documented).toEqual(expect.arrayContaining([
      'GET /api/v1/releases', 'POST /api/v1/releases', 'GET /api/v1/releases/{id}', 'PUT /api/v1/releases/{id}',
      'PATCH /api/v1/releases/{id}', 'DELETE /api/v1/releases/{id}', 'GET /api/v1/openapi.json', 'GET /api/v1/sources',
      'POST /api/v1/sources/{id}/refresh', 'GET /api/v1/headlines',
    ]));
  });

  test('the request schemas are the validator\'s own schema objects', async () => {
    const t = app();
    const built = openApiDocument(t.config) as unknown as Document;
    const post = built.paths['/api/v1/releases']!.post!;
    expect(resolve(built, post.requestBody!.content['application/json']!.schema)).toBe(RELEASE_SCHEMA);
    expect(resolve(built, built.paths['/api/v1/releases/{id}']!.put!.requestBody!.content['application/json']!.schema)).toBe(RELEASE_SCHEMA);
    expect(resolve(built, built.paths['/api/v1/releases/{id}']!.patch!.requestBody!.content['application/merge-patch+json']!.schema)).toBe(RELEASE_PATCH_SCHEMA);

    // What is served is that object, and a validator compiled from the served schema judges as the API does.
    const served = await servedDocument(t);
    const schema = resolve<object>(served, served.paths['/api/v1/releases']!.post!.requestBody!.content['application/json']!.schema);
    expect(schema).toEqual(JSON.parse(JSON.stringify(RELEASE_SCHEMA)));
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const validate = ajv.compile(schema);
    const example = post.requestBody!.content['application/json']!.example as Record<string, unknown>;
    const bodies: unknown[] = [example, {}, { ...example, title: 5 }, { ...example, published_at: 'gestern' }, { ...example, unknown: 1 },
      { ...example, image: { url: 'https://bilder.example/a.png', alt: 'A' } }, { ...example, image: { alt: 'ohne URL' } }, [example]];
    for (const body of bodies) {
      expect(validate(body), JSON.stringify(body).slice(0, 80)).toBe(checkReleaseRequest(body, 'full').length === 0);
    }
    expect(checkReleaseRequest(example, 'full')).toEqual([]);
  });

  test('example requests built from the document succeed, and their answers match the documented schemas', async () => {
    const t = app();
    const doc = await servedDocument(t);
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema(doc, 'openapi.json');

    // Creation first, withdrawal last: the other operations need the release to exist.
    const order = (method: Method, route: string) => (method === 'post' && route === '/api/v1/releases' ? 0 : method === 'delete' ? 2 : 1);
    const planned = operations(doc).sort((a, b) => order(a.method, a.path) - order(b.method, b.path));
    expect(planned[0]!.op.operationId).toBe('createRelease');
    let releaseId: string | null = null;

    for (const { path: route, method, op, parameters } of planned) {
      const name = `${method.toUpperCase()} ${route}`;
      let url = route;
      const query = new URLSearchParams();
      const headers: Record<string, string> = {};
      for (const parameter of parameters) {
        if (parameter.in === 'path') {
          const value = route.startsWith('/api/v1/releases/') ? releaseId : parameter.example;
          expect(value, `${name}: a value for {${parameter.name}}`).toBeTruthy();
          url = url.replace(`{${parameter.name}}`, encodeURIComponent(String(value)));
        } else if (parameter.name === 'If-Match') {
          // The one value no document can hold: the current ETag, from the documented GET.
          headers['If-Match'] = (await request(t.app).get(`/api/v1/releases/${releaseId}`).set('Authorization', `Bearer ${TOKEN}`).expect(200)).headers.etag!;
        } else if (parameter.example !== undefined) {
          if (parameter.in === 'query') query.set(parameter.name, String(parameter.example));
          else headers[parameter.name] = String(parameter.example);
        } else {
          expect(parameter.required ?? false, `${name}: required ${parameter.name} has an example`).toBe(false);
        }
      }
      const schemes = new Set((op.security ?? []).flatMap((requirement) => Object.keys(requirement)));
      if (schemes.has('apiToken')) headers.Authorization = `Bearer ${TOKEN}`;
      if (schemes.has('adminToken')) headers.Authorization = `Bearer ${ADMIN}`;

      let call = request(t.app)[method](`${url}${query.size ? `?${query}` : ''}`).set(headers);
      if (op.requestBody) {
        const [type, media] = Object.entries(op.requestBody.content).find(([, item]) => item.example !== undefined)!;
        call = call.set('Content-Type', type).send(JSON.stringify(media.example));
      }
      const res = await call;
      const documented = Object.keys(op.responses).filter((status) => /^2\d\d$/.test(status));
      expect(documented, `${name} answered ${res.status}: ${res.text.slice(0, 300)}`).toContain(String(res.status));

      const content = resolve<{ content?: Record<string, { schema: { $ref?: string } }> }>(doc, op.responses[String(res.status)]!).content;
      if (content) {
        const [type, { schema }] = Object.entries(content)[0]!;
        expect(res.headers['content-type'], name).toContain(type);
        const validate = schema.$ref ? ajv.getSchema(`openapi.json${schema.$ref}`)! : ajv.compile(schema);
        expect(validate(res.body), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
      }
      if (op.operationId === 'createRelease') {
        releaseId = res.body.id as string;
        expect(res.headers.location).toBe(`/api/v1/releases/${releaseId}`);
      }
      if (op.operationId === 'listReleases') expect(res.body.items.map((item: { id: string }) => item.id)).toEqual([releaseId]);
    }
    expect(t.store.releaseById(Number(releaseId))!.status).toBe('withdrawn');
  });
});
