import { cpSync, mkdtempSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO } from '../helpers/cli.js';

export const BASE_URL = 'http://herold.test';

/** A fresh data folder holding copies of the repository's sample releases and media, and no database. */
export function dataDir(dirs: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'herold-hardening-'));
  dirs.push(dir);
  cpSync(path.join(REPO, 'data', 'samples'), path.join(dir, 'samples'), { recursive: true });
  cpSync(path.join(REPO, 'data', 'media'), path.join(dir, 'media'), { recursive: true });
  return dir;
}

/** Only what the CLI reads, so the environment of whoever runs the tests cannot leak in. */
export function environment(dir: string, port: number, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', HEROLD_DATA_DIR: dir, HOST: '127.0.0.1', HEROLD_BASE_URL: BASE_URL, PORT: String(port), ...extra };
}

/** A raw TCP connection with everything it received and whether (and when) it was closed. */
export interface RawClient {
  readonly socket: Socket;
  readonly received: () => string;
  readonly closed: Promise<number>;
  isClosed(): boolean;
}

export function rawClient(port: number): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let isClosed = false;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => { received += chunk; });
    socket.on('error', () => {});
    const closed = new Promise<number>((done) => socket.once('close', () => { isClosed = true; done(Date.now()); }));
    socket.once('connect', () => resolve({ socket, received: () => received, closed, isClosed: () => isClosed }));
    socket.once('error', reject);
  });
}

/** Resolves once `check` holds, polling; rejects after `ms`. */
export async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
