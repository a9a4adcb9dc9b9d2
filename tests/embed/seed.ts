import { createTestApp, type TestApp } from '../helpers/app.js';
import { input, nastyReleases } from '../helpers/fixtures.js';

/** The test clock's start: a Wednesday noon (UTC). */
export const NOW = new Date('2026-11-25T12:00:00Z');
/** When the embargoed release becomes public. */
export const EMBARGO = '2026-11-25T15:00:00.000Z';
/** A title with every character that must be escaped in HTML and none that may be in JSON. */
export const SCRIPT_TITLE = 'Bürgerfest <Markt> & "Ruhe" </script><script>alert(1)</script>';
export const SCRIPT_SLUG = 'buergerfest-markt-and-ruhe-script-script-alert-1-script';
export const EMBARGOED_SLUG = 'neuer-oberbuergermeister-gewaehlt';
export const WITHDRAWN_SLUG = 'zurueckgezogene-mitteilung';
export const NASTY_SLUG = 'tempo-30-and-ruhe-fuer-die-juelicher-strasse-und-zweimal';

/**
 * The fixture releases plus: one whose title tries to break out of HTML, one under embargo until
 * EMBARGO (with a topic and a department that only it has), and a withdrawn one.
 */
export async function seededApp(apps: TestApp[]): Promise<TestApp> {
  const t = createTestApp({ now: NOW });
  apps.push(t);
  t.store.upsertReleases([
    ...(await nastyReleases()),
    input({
      guid: 'tag:lindenau.example,2026:script', title: SCRIPT_TITLE, subtitle: 'Am <b>Samstag</b> & Sonntag',
      topics: ['Kultur'], department: 'Fachbereich Kultur', publishedAt: '2026-11-24T10:00:00.000Z',
    }),
    input({
      guid: 'tag:lindenau.example,2026:embargo', title: 'Neuer Oberbürgermeister gewählt',
      topics: ['Wahlen 2026'], department: 'Wahlamt', publishedAt: EMBARGO, embargoUntil: EMBARGO,
    }),
    input({
      guid: 'tag:lindenau.example,2026:withdrawn', title: 'Zurückgezogene Mitteilung',
      topics: ['Verkehr'], department: 'Fachbereich Kultur', publishedAt: '2026-11-24T11:00:00.000Z', status: 'withdrawn',
    }),
  ], { now: new Date('2026-11-24T12:00:00Z') });
  return t;
}
