/**
 * The baseline the benchmark compares Herold with: a bare node:http server answering from memory
 * with the very status, header fields (in Herold's order, a repeated field repeated) and bytes Herold
 * answered (recorded by the benchmark, which checks the replay), so that its figures
 * are the runtime's limit for the same responses. Started by bench/run.ts as
 * `node baseline.js <recorded.json>`; prints its port.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Recorded } from './run.js';

/** The lookup key of a request: its URL and the headers that choose the answer. */
function requestKey(url: string, acceptEncoding: string | undefined, ifNoneMatch: string | undefined): string {
  return `${url}\n${acceptEncoding ?? ''}\n${ifNoneMatch ?? ''}`;
}

function main(file: string): void {
  const recorded = JSON.parse(readFileSync(file, 'utf8')) as Recorded[];
  const answers = new Map(recorded.map((entry) => [
    requestKey(entry.url, entry.headers['accept-encoding'], entry.headers['if-none-match']),
    { status: entry.status, headers: [...entry.responseHeaders], body: Buffer.from(entry.body, 'base64') },
  ]));
  const server = createServer((req, res) => {
    const answer = answers.get(requestKey(req.url!, req.headers['accept-encoding'], req.headers['if-none-match']));
    if (!answer) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(answer.status, answer.headers);
    res.end(req.method === 'HEAD' ? undefined : answer.body);
  });
  server.listen(0, '127.0.0.1', () => console.log(String((server.address() as AddressInfo).port)));
}

main(process.argv[2]!);
