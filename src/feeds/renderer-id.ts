import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SiteConfig } from '../config.js';

let code: string | undefined;

/**
 * A hash of the code that writes feed items: every file of this application's source (or build)
 * directory and the `feed` package's. Any change of Herold or of the package names another renderer.
 */
function codeHash(): string {
  if (code) return code;
  const hash = createHash('sha256');
  const root = fileURLToPath(new URL('..', import.meta.url));
  const files = (readdirSync(root, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
  files.push(createRequire(import.meta.url).resolve('feed'));
  for (const file of files) hash.update(`${path.relative(root, file)}\0`).update(readFileSync(file)).update('\0');
  code = hash.digest('base64url');
  return code;
}

/**
 * Names what a rendered item depends on besides its release: the code that wrote it, the public base
 * URL and the site's settings. Items kept by another renderer are never used (feeds/handler.ts).
 */
export function rendererId(baseUrl: string, site: SiteConfig): string {
  return createHash('sha256').update(JSON.stringify([codeHash(), baseUrl, site])).digest('base64url').slice(0, 22);
}
