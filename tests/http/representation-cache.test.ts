import { describe, expect, test } from 'vitest';
import { RepresentationCache, representation } from '../../src/http/representation.js';

const now = new Date('2026-11-27T00:00:00Z');
const never = () => Infinity;

function filled(capacity: number, keys: readonly string[]): RepresentationCache {
  const cache = new RepresentationCache(capacity);
  cache.revalidate('1', now, never);
  for (const key of keys) cache.set(key, representation(`body of ${key}`, 'text/plain', null));
  return cache;
}

const held = (cache: RepresentationCache, keys: readonly string[]) => keys.filter((key) => cache.get(key) !== undefined);

describe('RepresentationCache', () => {
  test('when full, the oldest entry not read since it was added goes first; an entry read gets a second chance', () => {
    const cache = filled(3, ['a', 'b', 'c']);
    expect(cache.get('a')?.body.toString()).toBe('body of a');
    cache.set('d', representation('body of d', 'text/plain', null));
    // a was read, so b (the oldest not read) went, not a.
    expect(cache.get('b')).toBeUndefined();
    expect(held(cache, ['a', 'c', 'd'])).toEqual(['a', 'c', 'd']);
  });

  test('an entry just added is not the one to go, even when every other one was read', () => {
    const cache = filled(3, ['a', 'b', 'c']);
    for (const key of ['a', 'b', 'c']) cache.get(key);
    cache.set('d', representation('body of d', 'text/plain', null));
    expect(cache.get('d')?.body.toString()).toBe('body of d');
    // Every one had its second chance; the oldest of them went.
    expect(held(cache, ['a', 'b', 'c'])).toEqual(['b', 'c']);
  });

  test('holds at most its capacity, whatever is read and added', () => {
    const cache = filled(5, []);
    for (let i = 0; i < 200; i++) {
      cache.set(`k${i}`, representation(String(i), 'text/plain', null));
      if (i % 3 === 0) cache.get(`k${i - 2}`);
    }
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
    expect(held(cache, keys).length).toBe(5);
    expect(cache.get('k199')?.body.toString()).toBe('199');
  });

  test('a new generation or a passed expiry drops every entry', () => {
    const cache = filled(3, ['a']);
    expect(cache.revalidate('1', now, never)).toBe(false);
    expect(cache.get('a')).toBeDefined();
    expect(cache.revalidate('2', now, never)).toBe(true);
    expect(cache.get('a')).toBeUndefined();
    cache.set('b', representation('b', 'text/plain', null));
    cache.revalidate('3', now, () => now.getTime() + 1000);
    cache.set('c', representation('c', 'text/plain', null));
    expect(cache.revalidate('3', new Date(now.getTime() + 999), never)).toBe(false);
    expect(cache.revalidate('3', new Date(now.getTime() + 1000), never)).toBe(true);
    expect(cache.get('c')).toBeUndefined();
  });
});
