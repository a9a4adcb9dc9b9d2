import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(path.join(dir, entry.name)) : entry.name.endsWith('.ts') ? [path.join(dir, entry.name)] : []);
}

test('everything src/ imports is a production dependency (the image installs with --omit=dev)', () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const imported = new Set<string>();
  for (const file of sources(path.join(ROOT, 'src'))) {
    for (const match of readFileSync(file, 'utf8').matchAll(/^import(?!\s+type\b)[^'"]*from\s+'([^'.][^']*)'/gm)) {
      const specifier = match[1]!;
      if (specifier.startsWith('node:')) continue;
      imported.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!);
    }
  }
  expect(imported.size).toBeGreaterThan(5);
  expect([...imported].filter((name) => !(name in pkg.dependencies))).toEqual([]);
});
