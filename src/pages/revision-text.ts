import type { Media, Release, Revision } from '../model.js';
import { htmlToText, readerEssence } from '../text.js';
import { stringsFor } from './strings.js';

/** Beyond this many word pairs the changed middle of two texts is not compared word by word. */
const MAX_DIFF_CELLS = 4_000_000;

/** The order in which changes are told: what readers notice first comes first. */
const ORDER = ['title', 'subtitle', 'bodyHtml', 'images', 'attachments', 'topics', 'department', 'organisation', 'contact',
  'places', 'publishedAt', 'embargoUntil', 'language', 'status'] as const;

/** A field of a release in the form the store records in a revision's `previous`. */
function currentValue(release: Release, key: string): unknown {
  switch (key) {
    case 'department': return release.department?.name ?? null;
    case 'topics': return release.topics.map((topic) => topic.name);
    default: return (release as unknown as Record<string, unknown>)[key] ?? null;
  }
}

/** A field's value right after a revision: what the next revision of that field found, else the release's value now. */
function valueAfter(key: string, release: Release, later: readonly Revision[]): unknown {
  for (const next of later) if (Object.hasOwn(next.previous, key)) return next.previous[key];
  return currentValue(release, key);
}

const words = (text: string): string[] => text.split(/\s+/).filter(Boolean);

/**
 * How many words a text gained and lost (a changed word counts once each way), from the longest
 * common subsequence of the two word lists; null when the changed part is too long to compare.
 */
export function wordChanges(before: string, after: string): { added: number; removed: number } | null {
  const a = words(before);
  const b = words(after);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const middleA = a.slice(start, endA);
  const middleB = b.slice(start, endB);
  if (middleA.length === 0 || middleB.length === 0) return { added: middleB.length, removed: middleA.length };
  if (middleA.length * middleB.length > MAX_DIFF_CELLS) return null;
  let previous = new Int32Array(middleB.length + 1);
  let row = new Int32Array(middleB.length + 1);
  for (const word of middleA) {
    for (let j = 1; j <= middleB.length; j++) {
      row[j] = word === middleB[j - 1] ? previous[j - 1]! + 1 : Math.max(previous[j]!, row[j - 1]!);
    }
    [previous, row] = [row, previous];
  }
  const common = previous[middleB.length]!;
  return { added: middleB.length - common, removed: middleA.length - common };
}

function mediaList(value: unknown): Media[] {
  return Array.isArray(value) ? (value as Media[]) : [];
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/**
 * What one correction changed, as sentences for readers ("Titel geändert: „alt“ → „neu“",
 * "Text geändert: 3 Wörter ergänzt, 1 gestrichen", "Bild geändert", "Sperrfrist geändert").
 * `revision.previous` holds the values before; the values after are the release's, unless a
 * `later` revision (oldest first) changed the field again.
 */
export function describeRevision(revision: Revision, release: Release, options: { later?: readonly Revision[]; language?: string } = {}): string[] {
  const t = stringsFor(options.language ?? release.language);
  const later = options.later ?? [];
  const sentences: string[] = [];
  for (const key of ORDER) {
    if (!Object.hasOwn(revision.previous, key)) continue;
    const before = revision.previous[key];
    const after = valueAfter(key, release, later);
    switch (key) {
      case 'title':
        sentences.push(t.revisionTitle(text(before), text(after)));
        break;
      case 'subtitle':
        sentences.push(!before ? t.revisionSubtitleAdded(text(after)) : !after ? t.revisionSubtitleRemoved : t.revisionSubtitle(text(before), text(after)));
        break;
      case 'bodyHtml': {
        const [oldText, newText] = [htmlToText(text(before)), htmlToText(text(after))];
        if (oldText.replace(/\s+/g, ' ') === newText.replace(/\s+/g, ' ')) {
          const sameLinks = JSON.stringify(readerEssence(text(before)).links) === JSON.stringify(readerEssence(text(after)).links);
          sentences.push(sameLinks ? t.revisionText : t.revisionLinks);
          break;
        }
        const counts = wordChanges(oldText, newText);
        sentences.push(counts && (counts.added || counts.removed) ? t.revisionTextWords(counts.added, counts.removed) : t.revisionText);
        break;
      }
      case 'images': {
        const [was, is] = [mediaList(before), mediaList(after)];
        const sameFiles = was.map((image) => image.url).join('\n') === is.map((image) => image.url).join('\n');
        sentences.push(!was.length ? t.revisionImageAdded : !is.length ? t.revisionImageRemoved : sameFiles ? t.revisionImageDetails : t.revisionImage);
        break;
      }
      case 'attachments':
        sentences.push(t.revisionAttachments);
        break;
      case 'topics': {
        const [was, is] = [(before as string[] | null) ?? [], (after as string[] | null) ?? []];
        const added = is.filter((name) => !was.includes(name));
        const removed = was.filter((name) => !is.includes(name));
        // A new order of the same topics is a change too, though there is nothing to name.
        if (added.length || removed.length) sentences.push(t.revisionTopics(added, removed));
        break;
      }
      case 'department':
        sentences.push(t.revisionDepartment);
        break;
      case 'organisation':
        sentences.push(t.revisionOrganisation);
        break;
      case 'contact':
        sentences.push(t.revisionContact);
        break;
      case 'places':
        sentences.push(t.revisionPlaces);
        break;
      case 'publishedAt':
        sentences.push(t.revisionPublished);
        break;
      case 'embargoUntil':
        sentences.push(t.revisionEmbargo);
        break;
      case 'language':
        sentences.push(t.revisionLanguage);
        break;
      case 'status':
        if (before === 'withdrawn' && after === 'published') sentences.push(t.revisionRepublished);
        break;
    }
  }
  return sentences;
}

/** Every revision (oldest first) with what it changed, each measured against the state right after it. */
export function describeRevisions(revisions: readonly Revision[], release: Release, language?: string): Array<{ revision: Revision; changes: string[] }> {
  return revisions.map((revision, index) => ({
    revision,
    changes: describeRevision(revision, release, { later: revisions.slice(index + 1), ...(language ? { language } : {}) }),
  }));
}
