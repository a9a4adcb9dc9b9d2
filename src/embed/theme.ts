/** Colours of the embeds, the same as the pages' so an embed looks like Herold wherever it is. */
const LIGHT = 'color-scheme:light;--fg:#1b1f24;--bg:#fff;--muted:#4d5560;--accent:#0b5394;--line:#d5d9de';
const DARK = 'color-scheme:dark;--fg:#e8eaed;--bg:#15181c;--muted:#b3bac2;--accent:#8cc4ff;--line:#39414a';

/**
 * The theme rules for an element carrying `data-theme` (light, dark or auto): auto follows the
 * reader's system setting. Shared by the iframe documents and the script widget's shadow root.
 */
export function themeCss(selector: string): string {
  return `${selector},${selector}[data-theme=light]{${LIGHT}}`
    + `${selector}[data-theme=dark]{${DARK}}`
    + `@media (prefers-color-scheme:dark){${selector}[data-theme=auto]{${DARK}}}`;
}

/** The headline list's own look: compact, readable, visible focus, no external font or image. */
export const LIST_CSS = 'ul{list-style:none;margin:0;padding:0}'
  + 'li{padding:.5rem 0;border-top:1px solid var(--line)}li:first-child{border-top:0}'
  + 'a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}'
  + 'a:focus-visible{outline:3px solid var(--accent);outline-offset:2px}'
  + 'time{display:block;color:var(--muted);font-size:.85em}'
  + '.title{font-size:1.05em;margin:0 0 .5rem}.title a{color:inherit}'
  + '.note{color:var(--muted);margin:0}';
