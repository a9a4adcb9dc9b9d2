import { escapeHtml } from '../text.js';
import { parseContactBlock } from './contact.js';
import { parseGermanDate } from './dates.js';
import type { ParsedRelease } from './types.js';

/** Skip links and icon labels a browser shows as text ("Inhalt", "Mail", "Twitter Logo"). */
const NOISE = /^(?:(?:zum|direkt zum)\s+)?inhalt(?:\s+springen)?$|^(?:mail|e-mail|drucken|teilen|nach oben)$|\blogo\b/i;
/**
 * The line that ends the text and introduces the issuer: "Herausgegeben am 02.08.2017 von:". It ends in
 * "von:", a date or a time, never in a full stop, so a sentence starting "Veröffentlicht am" stays text.
 */
const ISSUED = /^(?:Herausgegeben|Veröffentlicht)\s+am\s.*(?:\bvon:?|\d|\bUhr)$/i;
/** An image's file name standing alone, as a page shows it when the image is missing. */
const IMAGE_NAME = /^[\p{L}\d][\p{L}\d_.-]*$/u;
/** What tells a file name from a word: an underscore, a trailing number, an image extension. */
const IMAGE_NAME_MARK = /_|[-_]\d+$|\.(?:jpe?g|png|gif|webp|svg|tiff?)$/i;
const CREDIT = /^(?:©|\(c\)\s|Foto:|Bild:)/i;
/** A teaser is one short line; a sentence-ending mark means the text has begun. */
const SUBTITLE_MAX = 200;
const SENTENCE_END = /[.:;]$/;

/** An image as read from the text, before it is handed out as a MediaRef. */
interface ImageName {
  url: string;
  alt: null;
  caption: null;
  credit: string | null;
}

/** Whether a line is an image's file name rather than a (one-word) sentence. */
function isImageName(line: string): boolean {
  return IMAGE_NAME.test(line) && IMAGE_NAME_MARK.test(line);
}

/** Groups lines into blocks separated by blank lines, dropping noise lines. */
function blocks(lines: readonly string[]): string[][] {
  const found: string[][] = [[]];
  for (const line of lines) {
    if (!line) found.push([]);
    else if (!NOISE.test(line)) found.at(-1)!.push(line);
  }
  return found.filter((block) => block.length > 0);
}

/**
 * Reads a release in the plain-text shape of a release page as a browser shows it: title, teaser,
 * image file name (and credit), paragraphs, "Herausgegeben am … von:" and the issuer's contact block.
 * Page furniture after that block ("Pressekontakt", share links) is ignored.
 */
export function parseTextRelease(text: string, ref: string): ParsedRelease {
  // A run of spaces shows as one; a no-break space on its own ("10\u00A0km") is the author's and stays,
  // but one beside ordinary spaces is just more of the run (the seed's "Themen\u00A0 „Frühe").
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n?|\n/)
    .map((line) => line.replace(/[ \t\u00A0]*[ \t][ \t\u00A0]*/g, ' ').trim());
  const issued = lines.findIndex((line) => ISSUED.test(line));
  const content = blocks(issued < 0 ? lines : lines.slice(0, issued));
  const [titleBlock, ...rest] = content;
  if (!titleBlock) throw new Error(`text release ${ref}: no title`);
  if (issued < 0) throw new Error(`text release ${ref}: no date (no line "Herausgegeben am … von:")`);
  const publishedAt = parseGermanDate(lines[issued]!);
  if (!publishedAt) throw new Error(`text release ${ref}: no valid date in "${lines[issued]}"`);

  const teaser = rest[0]?.length === 1 ? rest[0][0]! : null;
  const subtitle = teaser !== null && teaser.length <= SUBTITLE_MAX && !SENTENCE_END.test(teaser) && !isImageName(teaser) ? teaser : null;
  const images: ImageName[] = [];
  const paragraphs: string[][] = [];
  let afterImage = false;
  for (const block of subtitle === null ? rest : rest.slice(1)) {
    const paragraph: string[] = [];
    for (const line of block) {
      const image = afterImage ? images.at(-1) : undefined;
      afterImage = isImageName(line);
      if (afterImage) images.push({ url: line, alt: null, caption: null, credit: null });
      else if (image && CREDIT.test(line)) image.credit = line;
      else paragraph.push(line);
    }
    if (paragraph.length > 0) paragraphs.push(paragraph);
  }

  const start = lines.findIndex((line, index) => index > issued && line !== '');
  const end = lines.indexOf('', start);
  const issuer = parseContactBlock(start < 0 ? [] : lines.slice(start, end < 0 ? undefined : end));
  return {
    ref,
    url: null,
    title: titleBlock.join(' '),
    subtitle,
    bodyHtml: paragraphs.map((paragraph) => `<p>${paragraph.map(escapeHtml).join('<br>')}</p>`).join('\n'),
    publishedAt,
    organisation: issuer.organisation,
    department: issuer.department,
    contact: issuer.contact,
    topics: [],
    images,
    attachments: [],
  };
}
