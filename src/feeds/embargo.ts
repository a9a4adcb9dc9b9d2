import { DateTime } from 'luxon';
import { stringsFor } from '../pages/strings.js';

/** Embargo times are the office's wall clock. */
const ZONE = 'Europe/Berlin';

/** "Sperrfrist bis 26.11.2026, 10:00 Uhr": an embargo as journalists read it, in the site's language. */
export function embargoNotice(iso: string, language: string): string {
  const t = stringsFor(language);
  return t.feedEmbargoUntil(DateTime.fromISO(iso, { zone: ZONE }).toFormat(t.feedEmbargoTimeFormat));
}
