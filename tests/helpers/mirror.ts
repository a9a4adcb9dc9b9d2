import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { Config } from '../../src/config.js';

/** The shape of Herold's copy of a remote image. */
export const MIRRORED = /^\/media\/remote\/[0-9a-f]{32}\.(jpg|png|gif|webp|avif)$/;

/** Asserts that `url` is Herold's copy of an image and holds exactly `bytes`. */
export function expectMirrored(config: Config, url: string, bytes: Buffer): void {
  expect(url).toMatch(MIRRORED);
  expect(readFileSync(path.join(config.mediaDir, 'remote', path.basename(url))).equals(bytes)).toBe(true);
}
