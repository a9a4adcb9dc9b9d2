import { DateTime, Info } from 'luxon';

const DEFAULT_ZONE = 'Europe/Berlin';

/** "02.08.2017", "2.8.2017", "02.08.17" (the year's digits decide the century). */
const NUMERIC_DATE = /(?<![\d.])(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4}|\d{2})(?!\d)/g;
/** "2. August 2017", "2. Aug. 2017", "2.Sept 2017". */
const NAMED_DATE = /(?<![\d.])(\d{1,2})\.\s*(\p{L}{3,})(?:\.\s*|\s+)(\d{4})(?!\d)/gu;
/** "2017-08-02", "2017-08-02T14:30", "2017-08-02 14:30:00+02:00". */
const ISO_DATE = /(?<!\d)(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?)?(?!\d)/g;
/** A time right after a date: "14:30", ", 14:30 Uhr", "um 14.30 Uhr", "14 Uhr". */
const TIME_AFTER = /^,?\s*(?:um\s+)?(?:(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*Uhr)?|(\d{1,2})(?:\.(\d{2}))?\s*Uhr)(?!\d)/i;

/** Zone names that feeds use but RFC 2822 does not know, as offsets. */
const ZONE_OFFSETS: Readonly<Record<string, string>> = {
  UTC: '+0000', CET: '+0100', MEZ: '+0100', CEST: '+0200', MESZ: '+0200',
};

/** A date candidate found in a text: where it starts and how to read it. */
interface Candidate {
  readonly index: number;
  readonly read: (zone: string) => DateTime;
}

/** The UTC instant of a valid DateTime in `toISOString()` form, else null. */
function instant(value: DateTime): string | null {
  return value.isValid ? value.toUTC().toISO() : null;
}

/** The time that follows position `end` of `text`, as " H:mm:ss", or "" when there is none. */
function timeAfter(text: string, end: number): string {
  const match = TIME_AFTER.exec(text.slice(end));
  if (!match) return '';
  const [, hour, minute, second, hourOnly, minuteOnly] = match;
  return ` ${hour ?? hourOnly}:${minute ?? minuteOnly ?? '00'}:${second ?? '00'}`;
}

/** The German long month name that `word` abbreviates ("Sep" → "September"), from Luxon's locale data. */
function monthName(word: string): string | null {
  const prefix = word.toLocaleLowerCase('de');
  const names = Info.months('long', { locale: 'de' }).filter((name) => name.toLocaleLowerCase('de').startsWith(prefix));
  return names.length === 1 ? names[0]! : null;
}

/** Every date written in `text`, in order of appearance. */
function candidates(text: string): Candidate[] {
  const found: Candidate[] = [];
  for (const match of text.matchAll(NUMERIC_DATE)) {
    const [whole, day, month, year] = match;
    // Two-digit years are this century's: the releases are recent, and Luxon's cutoff would give 19xx from 60 on.
    const fullYear = year!.length === 2 ? `20${year}` : year;
    const time = timeAfter(text, match.index + whole.length);
    found.push({
      index: match.index,
      read: (zone) => DateTime.fromFormat(`${day}.${month}.${fullYear}${time}`, time ? 'd.M.yyyy H:m:s' : 'd.M.yyyy', { locale: 'de', zone }),
    });
  }
  for (const match of text.matchAll(NAMED_DATE)) {
    const [whole, day, word, year] = match;
    const month = monthName(word!);
    if (!month) continue;
    const time = timeAfter(text, match.index + whole.length);
    found.push({
      index: match.index,
      read: (zone) => DateTime.fromFormat(`${day}. ${month} ${year}${time}`, time ? 'd. MMMM yyyy H:m:s' : 'd. MMMM yyyy', { locale: 'de', zone }),
    });
  }
  for (const match of text.matchAll(ISO_DATE)) {
    const [, date, time, offset] = match;
    found.push({ index: match.index, read: (zone) => DateTime.fromISO(time ? `${date}T${time}${offset ?? ''}` : date!, { zone }) });
  }
  return found.sort((a, b) => a.index - b.index);
}

/**
 * The first valid date in a German text ("Herausgegeben am 02.08.2017 von:", "2. Aug. 2017, 14:30 Uhr",
 * ISO) as an ISO UTC instant; a date without a time is midnight in `zone`. `format` (Luxon tokens,
 * locale de) is tried first on the whole text.
 */
export function parseGermanDate(text: string, options: { zone?: string; format?: string } = {}): string | null {
  const zone = options.zone ?? DEFAULT_ZONE;
  if (options.format) {
    const exact = instant(DateTime.fromFormat(text.trim(), options.format, { locale: 'de', zone }));
    if (exact) return exact;
  }
  for (const candidate of candidates(text)) {
    const found = instant(candidate.read(zone));
    if (found) return found;
  }
  return null;
}

/** RFC 2822 as feeds write it: weekdays dropped (often wrong, and optional), European zone names as offsets. */
function fromFeedRfc2822(value: string, zone: string): DateTime {
  const plain = value.replace(/^\p{L}+,\s*/u, '').replace(/\s([A-Za-z]+)$/, (_match, name: string) => {
    const upper = name.toUpperCase();
    return ` ${ZONE_OFFSETS[upper] ?? upper}`;
  });
  const withZone = DateTime.fromRFC2822(plain);
  if (withZone.isValid) return withZone;
  // Some feeds leave the zone out; the source's zone is the best guess there is.
  for (const format of ['d MMM yyyy H:mm:ss', 'd MMM yyyy H:mm']) {
    const local = DateTime.fromFormat(plain, format, { locale: 'en-US', zone });
    if (local.isValid) return local;
  }
  return withZone;
}

/**
 * A feed's date as an ISO UTC instant: RFC 3339/ISO 8601, RFC 822/2822 and HTTP dates, German dates;
 * a date or date-time without an offset is read in `zone`. Null when it is none of these.
 */
export function parseInstant(value: string, zone = DEFAULT_ZONE): string | null {
  const text = value.trim().replace(/\s+/g, ' ');
  if (!text) return null;
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    return instant(DateTime.fromISO(text, { zone })) ?? instant(DateTime.fromSQL(text, { zone })) ?? parseGermanDate(text, { zone });
  }
  return instant(fromFeedRfc2822(text, zone)) ?? instant(DateTime.fromHTTP(text)) ?? parseGermanDate(text, { zone });
}
