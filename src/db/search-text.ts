import type { Database } from 'better-sqlite3';

const TRANSLITERATED: Readonly<Record<string, string>> = { ä: 'ae', ö: 'oe', ü: 'ue', ß: 'ss' };
const DOTLESS: Readonly<Record<string, string>> = { ä: 'a', ö: 'o', ü: 'u' };
/** A word (letters, digits and their marks) that holds an umlaut. */
const UMLAUT_WORD = /[\p{L}\p{N}\p{M}]*[äöü][\p{L}\p{N}\p{M}]*/gu;

/**
 * Folds text the way German is searched: lower case, ä/ö/ü/ß written as ae/oe/ue/ss (as on a keyboard
 * without umlauts), and every other diacritic dropped (é → e). "Güler", "güler" and "Gueler" all give
 * "gueler"; "Straße" and "Strasse" give "strasse". Queries are folded with this function alone.
 */
export function foldGerman(text: string): string {
  return text.normalize('NFC').toLowerCase()
    .replace(/[äöüß]/g, (letter) => TRANSLITERATED[letter]!)
    .normalize('NFD').replace(/\p{Mn}+/gu, '')
    .normalize('NFC');
}

/**
 * The indexed form of a text: its folding, then each word with an umlaut once more with the dots
 * dropped instead ("Güler" → "gueler guler"). The transliteration cannot be undone at query time
 * (the "ue" of "Gueler" may or may not be an "ü"), so both spellings are indexed: a query folded by
 * foldGerman then finds "Güler" whether it was typed "Güler", "Gueler" or "Guler". Extra words go at
 * the end, where they cannot break a phrase: Herold's queries match words, never phrases.
 */
export function searchableText(text: string): string {
  const lower = text.normalize('NFC').toLowerCase();
  const dotless = new Set<string>();
  for (const word of lower.match(UMLAUT_WORD) ?? []) dotless.add(foldGerman(word.replace(/[äöü]/g, (letter) => DOTLESS[letter]!)));
  const folded = foldGerman(text);
  return dotless.size ? `${folded} ${[...dotless].join(' ')}` : folded;
}

/**
 * Registers `herold_searchable(text)` (searchableText in SQL) on a connection, so that the migration
 * that builds the search index and the store that keeps it current fold text the same way.
 */
export function registerSearchFunctions(db: Database): void {
  db.function('herold_searchable', { deterministic: true }, (value: unknown) => (typeof value === 'string' ? searchableText(value) : ''));
}
