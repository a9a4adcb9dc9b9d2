import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { cleanUpAfterEach, freePort, requireBuild, spawnCli, waitForOutput } from '../helpers/cli.js';
import { dataDir, environment, rawClient, until, type RawClient } from './server-helpers.js';

const { runs, dirs } = cleanUpAfterEach();
const sockets: RawClient[] = [];

beforeAll(requireBuild);

// Registered after the clean-up, so run before it: the sockets go before the servers they talk to.
afterEach(() => {
  for (const client of sockets.splice(0)) client.socket.destroy();
});

const TOKEN = 'press-office-token-0123456789';

function release(title: string) {
  return {
    title,
    body: '<p>Die Stadt baut einen Radweg.</p>',
    topics: ['Verkehr'],
    department: 'Fachbereich Mobilität und Verkehr',
    organisation: 'Stadt Lindenau',
    published_at: '2026-11-24T09:30:00+01:00',
  };
}

describe('graceful shutdown on SIGTERM', () => {
  test('stops accepting, closes idle connections, finishes the request in flight, closes the database cleanly, exits 0', async () => {
    const dir = dataDir(dirs);
    const port = await freePort();
    const server = spawnCli(['serve'], environment(dir, port, { HEROLD_API_TOKENS: TOKEN, HEROLD_SHUTDOWN_TIMEOUT_MS: '8000' }), dir);
    runs.push(server);
    await waitForOutput(server, /listening/);

    // A release written before SIGTERM (it goes to the WAL first).
    const before = await fetch(`http://127.0.0.1:${port}/api/v1/releases`, {
      method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(release('Vor dem Herunterfahren geschrieben')),
    });
    expect(before.status, await before.clone().text()).toBe(201);
    await before.arrayBuffer();

    // An idle keep-alive connection: one answered request, then nothing.
    const idle = await rawClient(port);
    sockets.push(idle);
    idle.socket.write('GET /healthz HTTP/1.1\r\nHost: herold.test\r\n\r\n');
    await until(() => /\r\n\r\n\{.*\}$/s.test(idle.received()), 5000, 'the idle connection\'s first answer');
    expect(idle.received()).toMatch(/^HTTP\/1\.1 200/);

    // A request in flight: headers and half of the body sent, the server waits for the rest.
    const body = JSON.stringify(release('Während des Herunterfahrens geschrieben'));
    const bytes = Buffer.from(body, 'utf8');
    const busy = await rawClient(port);
    sockets.push(busy);
    busy.socket.write(`POST /api/v1/releases HTTP/1.1\r\nHost: herold.test\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${bytes.length}\r\n\r\n`);
    busy.socket.write(bytes.subarray(0, 20));
    await new Promise((resolve) => setTimeout(resolve, 300));

    server.child.kill('SIGTERM');
    await waitForOutput(server, /SIGTERM: closing/);
    // The idle connection is closed at once; new connections are refused; the process waits for the busy one.
    await idle.closed;
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.child.exitCode).toBeNull();
    expect(busy.isClosed()).toBe(false);

    // The rest of the body arrives; the request completes normally, and the connection is then closed.
    busy.socket.write(bytes.subarray(20));
    await busy.closed;
    expect(busy.received()).toMatch(/^HTTP\/1\.1 201/);
    expect(busy.received().toLowerCase()).toContain('connection: close');

    const exit = await server.exit;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(server.stdout()).toContain('herold: closed');

    // The database was closed cleanly: the WAL was checkpointed, nothing is lost, the file is intact.
    const file = path.join(dir, 'herold.db');
    const wal = `${file}-wal`;
    expect(!existsSync(wal) || statSync(wal).size === 0).toBe(true);
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const titles = (db.prepare('SELECT title FROM releases').all() as Array<{ title: string }>).map((row) => row.title);
      expect(titles).toContain('Vor dem Herunterfahren geschrieben');
      expect(titles).toContain('Während des Herunterfahrens geschrieben');
    } finally {
      db.close();
    }
  }, 20_000);

  test('a request that does not finish within the shutdown timeout is cut, and the process still exits 0', async () => {
    const dir = dataDir(dirs);
    const port = await freePort();
    const server = spawnCli(['serve'], environment(dir, port, { HEROLD_API_TOKENS: TOKEN, HEROLD_SHUTDOWN_TIMEOUT_MS: '1000' }), dir);
    runs.push(server);
    await waitForOutput(server, /listening/);
    const busy = await rawClient(port);
    sockets.push(busy);
    busy.socket.write(`POST /api/v1/releases HTTP/1.1\r\nHost: herold.test\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const at = Date.now();
    server.child.kill('SIGTERM');
    const exit = await server.exit;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - at).toBeGreaterThanOrEqual(900);
    expect(Date.now() - at).toBeLessThan(5000);
    expect(server.stderr()).toContain('still running after 1000 ms');
    await busy.closed;
    const db = new Database(path.join(dir, 'herold.db'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  }, 20_000);
});
