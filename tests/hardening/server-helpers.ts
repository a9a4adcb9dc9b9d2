import { connect, type Socket } from 'node:net';

export { BASE_URL, dataDir, environment } from '../helpers/cli.js';

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

export { until } from '../helpers/wait.js';
