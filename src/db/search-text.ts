import type { Database } from 'better-sqlite3';

const TRANSLITERATED: Readonly<Record<string, string>> = { ä: 'ae', ö: 'oe', ü: 'ue', ß: 'ss' };
const DOTLESS: Readonly<Record<string, string>> = { ä: 'a', ö: 'o', ü: 'u' };
/** A word (letters, digits and their marks) that holds an umlaut. */
const UMLAUT_WORD = /[\p{L}\p{N}\p{M}]*[äöü][\p{L}\p{N}\p{M}]*/gu;
/** A word of folded text: letters, digits and private-use characters (the token characters of FTS5's unicode61). */
const WORD = /[\p{L}\p{N}\p{Co}]+/gu;
/** At most this many words are matched in one query: a longer query is cut there. */
const WORDS_PER_QUERY = 20;
/**
 * At most this many indexed words are searched for one word typed, each read newest first; a word typed
 * that begins more of them is searched as an FTS5 prefix (which merges all their lists first).
 */
export const WORDS_PER_PREFIX = 32;

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
 * The indexed form of a text: the words of its folding, then each word with an umlaut once more with the
 * dots dropped instead ("Güler" → "gueler guler"), one space between words. The transliteration cannot
 * be undone at query time (the "ue" of "Gueler" may or may not be an "ü"), so both spellings are indexed:
 * a query folded by foldGerman then finds "Güler" whether it was typed "Güler", "Gueler" or "Guler".
 * Extra words go at the end, where they cannot break a phrase: Herold's queries match words, never
 * phrases. Words alone are indexed, so that the index and the list of its words (indexWords) split a
 * text the same way.
 */
export function searchableText(text: string): string {
  const lower = text.normalize('NFC').toLowerCase();
  const dotless = new Set<string>();
  for (const word of lower.match(UMLAUT_WORD) ?? []) {
    for (const part of foldGerman(word.replace(/[äöü]/g, (letter) => DOTLESS[letter]!)).match(WORD) ?? []) dotless.add(part);
  }
  return [...(foldGerman(text).match(WORD) ?? []), ...dotless].join(' ');
}

/** The distinct words of indexed texts (searchableText's results), as kept in the table search_words. */
export function indexWords(texts: readonly string[]): string[] {
  const words = new Set<string>();
  for (const text of texts) for (const word of text.split(' ')) if (word) words.add(word);
  return [...words];
}

/**
 * Registers `herold_searchable(text)` (searchableText in SQL) and `herold_index_words(text, …)` (indexWords
 * of searchable texts, as a JSON array) on a connection, so that the migrations that build the search
 * index fold and split text as the store that keeps it current does.
 */
export function registerSearchFunctions(db: Database): void {
  db.function('herold_searchable', { deterministic: true }, (value: unknown) => (typeof value === 'string' ? searchableText(value) : ''));
  db.function('herold_index_words', { deterministic: true, varargs: true },
    (...texts: unknown[]) => JSON.stringify(indexWords(texts.filter((text): text is string => typeof text === 'string'))));
}

/**
 * The FTS5 query for what a person typed, on a connection whose database holds the search index: every
 * word must occur, as a word or a word's beginning. Each word typed is folded like the index (foldGerman)
 * and matched as the indexed words that begin with it (from search_words), each quoted, so no word is read
 * as FTS syntax; FTS5 reads such a list newest first and stops after the page, where a prefix query would
 * first merge the lists of every word that begins so (its cost growing with the matches). Null when
 * nothing can match: no word typed, or one that begins no indexed word.
 */
export function createSearchMatch(db: Database): (text: string) => string | null {
  // U+10FFFF is no word's character and the greatest: the words from the prefix to prefix + U+10FFFF begin with it.
  const beginningWith = db.prepare(`SELECT word FROM search_words WHERE word >= :prefix AND word < :prefix || char(1114111)
    ORDER BY word LIMIT ${WORDS_PER_PREFIX + 1}`).pluck();
  return (text) => {
    const typed = [...new Set(foldGerman(text).match(WORD) ?? [])].slice(0, WORDS_PER_QUERY);
    if (typed.length === 0) return null;
    const groups: string[] = [];
    for (const prefix of typed) {
      const words = beginningWith.all({ prefix }) as string[];
      if (words.length === 0) return null;
      groups.push(words.length > WORDS_PER_PREFIX ? `"${prefix}"*` : words.map((word) => `"${word}"`).join(' OR '));
    }
    return groups.map((group) => `(${group})`).join(' AND ');
  };
}
