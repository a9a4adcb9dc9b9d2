import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { cleanUpAfterEach, freePort, requireBuild, spawnCli, waitForOutput } from '../helpers/cli.js';
import { dataDir, environment, rawClient, type RawClient } from './server-helpers.js';

const { runs, dirs } = cleanUpAfterEach();
const sockets: RawClient[] = [];

beforeAll(requireBuild);

// Registered after the clean-up, so run before it: the sockets go before the servers they talk to.
afterEach(() => {
  for (const client of sockets.splice(0)) client.socket.destroy();
});

const HEADERS_TIMEOUT_MS = 1500;
const SLOW_SOCKETS = 200;

describe('slow clients (slowloris)', () => {
  test('sockets trickling a request line are cut after the headers timeout while normal requests keep being answered', async () => {
    const dir = dataDir(dirs);
    const port = await freePort();
    const server = spawnCli(['serve'], environment(dir, port, {
      HEROLD_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), HEROLD_REQUEST_TIMEOUT_MS: '3000',
    }), dir);
    runs.push(server);
    await waitForOutput(server, /listening/);

    const opened = Date.now();
    for (let i = 0; i < SLOW_SOCKETS; i += 1) sockets.push(await rawClient(port));
    // Each socket sends one more byte of a request line every 100 ms and never finishes its headers.
    const line = 'GET /feeds/all.rss HTTP/1.1\r\nHost: herold.test\r\nX-Padding: ' + 'a'.repeat(200);
    let position = 0;
    const trickle = setInterval(() => {
      const byte = line[position % line.length]!;
      position += 1;
      for (const client of sockets) if (!client.isClosed()) client.socket.write(byte);
    }, 100);
    try {
      // Meanwhile, ordinary clients are answered promptly.
      for (let i = 0; i < 5; i += 1) {
        const started = Date.now();
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        expect(res.status).toBe(200);
        await res.arrayBuffer();
        expect(Date.now() - started).toBeLessThan(1000);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(sockets.every((client) => !client.isClosed())).toBe(true);

      // Every slow socket is closed by the server: after the headers timeout, and well before the trickle would end.
      const closedAt = await Promise.all(sockets.map((client) => client.closed));
      for (const at of closedAt) {
        expect(at - opened).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
        expect(at - opened).toBeLessThan(HEADERS_TIMEOUT_MS + 3000);
      }
      // Node answers 408 before it closes.
      expect(sockets.filter((client) => client.received().startsWith('HTTP/1.1 408')).length).toBe(SLOW_SOCKETS);
    } finally {
      clearInterval(trickle);
    }

    // And the server is still fine afterwards.
    const after = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(after.status).toBe(200);
    expect(server.child.exitCode).toBeNull();
  }, 20_000);

  test('a headers timeout above the request timeout is rejected at start', async () => {
    const dir = dataDir(dirs);
    const port = await freePort();
    const server = spawnCli(['serve'], environment(dir, port, { HEROLD_HEADERS_TIMEOUT_MS: '5000', HEROLD_REQUEST_TIMEOUT_MS: '1000' }), dir);
    runs.push(server);
    const exit = await server.exit;
    expect(exit.code).not.toBe(0);
    expect(server.stderr()).toContain('HEROLD_HEADERS_TIMEOUT_MS');
  });
});
