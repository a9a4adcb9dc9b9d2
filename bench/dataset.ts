/**
 * The benchmark's data: releases of realistic size and shape (a title, a summary, four to eight
 * paragraphs of German prose, one or two topics, a department, a contact, an image, now and then a
 * PDF), made from a seeded generator so that every run measures the same bytes. A 50-item RSS feed
 * of them is about 190 KB, 45 KB gzipped, as the city's own releases are.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { migrations } from '../src/db/migrations.js';
import { openDatabase } from '../src/db/open.js';
import { createStore } from '../src/db/store.js';
import type { ReleaseInput } from '../src/model.js';
import { htmlToText } from '../src/text.js';

export const TOPICS = ['Verkehr', 'Kultur', 'Umwelt', 'Bildung', 'Soziales', 'Finanzen', 'Verwaltung', 'Jugend', 'Sport', 'Wirtschaft',
  'Gesundheit', 'Bauen und Wohnen'];
export const DEPARTMENTS = ['Fachbereich Presse und Marketing', 'Fachbereich Mobilität und Verkehr', 'Fachbereich Kultur und Weiterbildung',
  'Fachbereich Umwelt und Grünflächen', 'Fachbereich Schule und Jugend', 'Fachbereich Soziales und Integration', 'Fachbereich Finanzen',
  'Fachbereich Bauordnung'];

const WORDS = ('die der das und in den von zu mit sich auf für ist im dem nicht ein eine als auch es an werden aus er hat dass sie nach wird bei '
  + 'einer um am sind noch wie einem über einen so zum war haben nur oder aber vor zur bis mehr durch man sein wurde sei Stadt Lindenau '
  + 'Bürgerinnen Bürger Rathaus Oberbürgermeisterin Verwaltung Stadtrat Ausschuss Haushalt Straße Baustelle Umleitung Sperrung Radweg '
  + 'Grünfläche Spielplatz Schule Kita Bibliothek Museum Ausstellung Konzert Veranstaltung Anmeldung Beteiligung Planung Sanierung '
  + 'Förderung Millionen Euro Jahr Woche Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag Januar Februar März April Mai '
  + 'Juni Juli August September Oktober November Dezember Information Telefon Bürgerbüro Markt Innenstadt Stadtteil Ortsteil Kreis '
  + 'Land Bund Projekt Maßnahme Arbeiten beginnen enden voraussichtlich Fahrbahn Anwohnerinnen Anwohner Parkplätze Haltestelle Bus '
  + 'Linie Fahrplan Feuerwehr Rettungsdienst Ordnungsamt Jugendzentrum Seniorinnen Senioren Ehrenamt Verein Sportplatz Schwimmbad '
  + 'Energie Klimaschutz Bäume Pflanzungen Wasser Abwasser Müllabfuhr Wertstoffhof Termine Sprechstunde Antrag Formular online').split(' ');

/** A small deterministic generator (mulberry32): the same seed gives the same releases on every machine. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function sentence(next: () => number, words: number): string {
  const picked = Array.from({ length: words }, () => WORDS[Math.floor(next() * WORDS.length)]!);
  const text = picked.join(' ');
  return `${text[0]!.toUpperCase()}${text.slice(1)}.`;
}

function paragraph(next: () => number): string {
  return Array.from({ length: 3 + Math.floor(next() * 3) }, () => sentence(next, 8 + Math.floor(next() * 12))).join(' ');
}

/** Release number `index` of the benchmark set, one hour after the one before. */
export function syntheticRelease(index: number): ReleaseInput {
  const next = random(index + 1);
  const paragraphs = Array.from({ length: 4 + Math.floor(next() * 5) }, () => `<p>${paragraph(next)}</p>`);
  // Some structure, as real releases have: a subheading, a list, a link.
  paragraphs.splice(2, 0, `<h2>${sentence(next, 4).slice(0, -1)}</h2>`);
  paragraphs.push(`<ul><li>${sentence(next, 6)}</li><li>${sentence(next, 7)}</li><li>${sentence(next, 5)}</li></ul>`);
  paragraphs.push(`<p>Weitere Informationen: <a href="https://www.lindenau.example/themen/${index % 97}">www.lindenau.example</a></p>`);
  const bodyHtml = paragraphs.join('\n');
  const topicCount = 1 + Math.floor(next() * 2);
  const topics = Array.from({ length: topicCount }, (_, n) => TOPICS[(index * 7 + n * 5) % TOPICS.length]!);
  return {
    guid: `tag:lindenau.example,2026:bench-${index}`,
    sourceId: 'bench',
    title: `${sentence(next, 5 + Math.floor(next() * 6)).slice(0, -1)} (${index})`,
    subtitle: sentence(next, 14 + Math.floor(next() * 10)),
    bodyHtml,
    bodyText: htmlToText(bodyHtml),
    organisation: 'Stadt Lindenau',
    department: DEPARTMENTS[index % DEPARTMENTS.length]!,
    topics,
    places: index % 3 === 0 ? ['Lindenau'] : [],
    contact: { name: 'Katharina Möller', organisation: 'Stadt Lindenau', street: 'Markt 1', postcode: '52461', city: 'Lindenau',
      phone: '02461/382-1309', fax: null, email: 'presse@lindenau.example' },
    images: [{ url: `/media/bild-${index % 50}.jpg`, title: null, alt: sentence(next, 5), caption: sentence(next, 8),
      credit: '© Stadt Lindenau', width: 1200, height: 800, mime: 'image/jpeg', bytes: 180_000 + (index % 5000) }],
    attachments: index % 10 === 0
      ? [{ url: `/media/anlage-${index}.pdf`, title: 'Anlage', alt: null, caption: null, credit: null, width: null, height: null,
        mime: 'application/pdf', bytes: 90_000 }]
      : [],
    publishedAt: new Date(Date.UTC(2014, 0, 1) + index * 3_600_000).toISOString(),
  };
}

/**
 * A data folder holding a database of `count` releases, made once and kept under `cacheDir`
 * (the benchmark's own, git-ignored) so that later runs start at once; a new schema makes a new one.
 */
export function datasetDir(cacheDir: string, count: number, log: (line: string) => void): string {
  const dir = path.join(cacheDir, `releases-${count}-schema-${migrations.length}`);
  if (existsSync(path.join(dir, 'herold.db'))) return dir;
  const building = `${dir}.building`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  const started = Date.now();
  const config = loadConfig({ HEROLD_DATA_DIR: building }, building);
  const db = openDatabase(config.databaseFile);
  const store = createStore(db);
  for (let start = 0; start < count; start += 2000) {
    const batch = Array.from({ length: Math.min(2000, count - start) }, (_, offset) => syntheticRelease(start + offset));
    store.upsertReleases(batch, { now: new Date('2026-01-01T00:00:00Z') });
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  renameSync(building, dir);
  log(`dataset: ${count} releases written in ${((Date.now() - started) / 1000).toFixed(1)} s (${dir})`);
  return dir;
}
