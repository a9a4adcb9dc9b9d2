import fc from 'fast-check';

// One seed for every run, so that CI is repeatable; FC_SEED explores others by hand.
fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261126) });

/** Characters that break parsers, XML or HTML: controls, XML-forbidden, lone surrogates, BOM, markup. */
const NASTY_PIECES = [
  '\u0000', '\u0001', '\u0008', '\u000B', '\u000C', '\u001F', '\u007F', '\u0085', '\u00A0', '\u2028', '\u2029',
  '\uD800', '\uDFFF', '\uDBFF\uDFFF', '\uFEFF', '\uFFFE', '\uFFFF', '\r', '\n', '\r\n', '\t', ' ',
  ']]>', '<![CDATA[', '</script>', '<script>', '<!--', '-->', '&', '&amp;', '&#0;', '&#x1;', '&#xD800;', '&bogus;',
  '<', '>', '"', "'", '`', '\\', '%', '%00', '%ZZ', '+', '#', '?', '=', '/', '..', '*', '"*', '(', ')', ':', ';',
  'NEAR', 'AND', 'OR', 'NOT', '^', '{', '}', 'ß', 'Ä', 'ö', 'ü', 'ẞ', 'ﬀ', 'İ', 'ı', '😀', '👩‍👩‍👧', 'e\u0301', 'ǅ',
  '<p>', '</p>', '<a href="javascript:alert(1)">', '<img src=x onerror=alert(1)>', '<?xml version="1.0"?>',
  '<!DOCTYPE x [<!ENTITY e "e">]>', 'Herausgegeben am 02.08.2017 von:', '---', '\n---\n', 'title: x', 'date: 2026-01-01',
];

/** Nasty fragments and arbitrary strings mixed: bounded length, so nothing is slow for size alone. */
export const nastyString = (maxLength = 60): fc.Arbitrary<string> =>
  fc.array(
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...NASTY_PIECES) },
      { weight: 2, arbitrary: fc.string({ maxLength: 8 }) },
      { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
      { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
      { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)), maxLength: 4 }) },
      { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), maxLength: 3 }) },
    ),
    { maxLength: Math.max(1, Math.ceil(maxLength / 4)) },
  ).map((parts) => parts.join(''));

/** Anything a string parameter can be, including very long strings. */
export const anyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: nastyString() },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('a', 'ä', '<', ']]>', '\u0000', '\uD800', ' ', '9'), fc.integer({ min: 200, max: 5000 })).map(([c, n]) => c.repeat(n)) },
);

/** Dates in odd formats: German, ISO, RFC 2822, nonsense numbers, overflowing fields. */
export const oddDate: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.integer({ min: -5, max: 99 }), fc.integer({ min: -5, max: 99 }), fc.integer({ min: 0, max: 99999 }), fc.constantFrom('', ', 14:30 Uhr', ' um 25.61 Uhr', ' 99:99:99', ' 14 Uhr'))
    .map(([d, m, y, t]) => `${d}.${m}.${y}${t}`),
  fc.tuple(fc.integer({ min: 0, max: 99 }), fc.constantFrom('August', 'Aug.', 'Sept', 'Mär', 'März', 'Ma', 'Jux', 'Dezember', 'mai', 'ÄÖÜ'), fc.integer({ min: 0, max: 99999 }))
    .map(([d, m, y]) => `${d}. ${m} ${y}`),
  fc.tuple(fc.integer({ min: 0, max: 99999 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.constantFrom('', 'T25:61', 'T14:30:00+99:99', ' 14:30:00.123456789Z', 'T00:00Z', 'T12:00:00-0230'))
    .map(([y, m, d, t]) => `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}${t}`),
  fc.tuple(fc.constantFrom('Mon, ', 'Xyz, ', 'Montag, ', ''), fc.integer({ min: 0, max: 40 }), fc.constantFrom('Jan', 'Feb', 'Foo', 'Mai'), fc.integer({ min: 0, max: 99999 }), fc.constantFrom(' 10:00:00', ' 25:00', ''), fc.constantFrom(' GMT', ' MESZ', ' CET', ' +0200', ' ZZZ', ''))
    .map(([w, d, m, y, t, z]) => `${w}${d} ${m} ${y}${t}${z}`),
  fc.date({ noInvalidDate: false }).map((date) => (Number.isNaN(date.getTime()) ? 'Invalid Date' : date.toISOString())),
  nastyString(30),
);

const TAGS = ['p', 'a', 'img', 'script', 'style', 'div', 'span', 'b', 'br', 'table', 'td', 'iframe', 'svg', 'math', 'template', 'figure', 'h2', 'textarea', 'noscript', 'x:y'];
const ATTRS = ['href', 'src', 'onclick', 'style', 'alt', 'title', 'class', 'datetime', 'width', 'xmlns'];
const ATTR_VALUES = fc.oneof(
  fc.constantFrom('javascript:alert(1)', 'http://a/b', '//evil', 'data:image/png;base64,AA', '/relativ', '../x', 'mailto:a@b', 'http://[::1', 'http://ä.example/ü?x=1&y=2', '%', ''),
  nastyString(12),
);

/** HTML fragments built from tag templates around nasty text, nested a little. */
export const htmlFragment: fc.Arbitrary<string> = fc.letrec<{ node: string }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    nastyString(20),
    fc.tuple(fc.constantFrom(...TAGS), fc.array(fc.tuple(fc.constantFrom(...ATTRS), ATTR_VALUES, fc.constantFrom('"', "'", '')), { maxLength: 3 }),
      fc.array(tie('node'), { maxLength: 3 }), fc.boolean())
      .map(([tag, attrs, children, close]) =>
        `<${tag}${attrs.map(([name, value, q]) => ` ${name}=${q}${value}${q}`).join('')}>${children.join('')}${close ? `</${tag}>` : ''}`),
    fc.constantFrom('<!-- x', '<![CDATA[ ]]>', '</p></p>', '<p', '<a href="', '&#xFFFF;', '&#1114112;', '<br/>', '<?php ?>'),
  ),
})).node;

/** An arbitrary or nasty string; sometimes a fragment of HTML. */
export const textOrHtml: fc.Arbitrary<string> = fc.oneof(anyString, htmlFragment);

/** Runs `fn` and lets it throw only a plain Error with a message (the parsers' documented failure). */
export function throwsOnlyPlainError(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (error) {
    if (!(error instanceof Error) || error.constructor !== Error || !error.message) throw error;
    return true;
  }
}

/** XML 1.0 forbidden characters, including lone surrogates. */
export const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
