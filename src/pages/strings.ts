/** Every user-facing string of the pages, per language; the site's language picks the table. */
const STRINGS = {
  de: {
    skipToContent: 'Zum Inhalt springen',
    feedsTitle: 'Feeds abonnieren',
    feedsIntro: 'Alle Pressemitteilungen als RSS, Atom oder JSON Feed – für Ihren Feedreader.',
    allReleases: 'Alle Pressemitteilungen',
    topics: 'Themen',
    departments: 'Fachbereiche',
    releases: (n: number) => (n === 1 ? '1 Mitteilung' : `${n} Mitteilungen`),
    opml: 'Alle Feeds als OPML-Datei',
    newest: 'Neueste Pressemitteilungen',
    feeds: 'Feeds',
    home: 'Startseite',
  },
  en: {
    skipToContent: 'Skip to content',
    feedsTitle: 'Subscribe to feeds',
    feedsIntro: 'Every press release as RSS, Atom or JSON Feed – for your feed reader.',
    allReleases: 'All press releases',
    topics: 'Topics',
    departments: 'Departments',
    releases: (n: number) => (n === 1 ? '1 release' : `${n} releases`),
    opml: 'All feeds as an OPML file',
    newest: 'Newest press releases',
    feeds: 'Feeds',
    home: 'Home',
  },
} as const;

export type Strings = (typeof STRINGS)['de'];

/** The strings for a language; German when there is no table for it. */
export function stringsFor(language: string): Strings {
  const key = language.split('-')[0] as keyof typeof STRINGS;
  return (STRINGS[key] ?? STRINGS.de) as Strings;
}
