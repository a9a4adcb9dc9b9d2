import { describe, expect, test } from 'vitest';
import type { Media, Release, Revision } from '../../src/model.js';
import { describeRevision, describeRevisions, wordChanges } from '../../src/pages/revision-text.js';

function media(url: string, fields: Partial<Media> = {}): Media {
  return { url, title: null, alt: null, caption: null, credit: null, width: null, height: null, mime: null, bytes: null, ...fields };
}

const RELEASE: Release = {
  id: 7, guid: 'tag:lindenau.example,2026:bruecke', slug: 'bruecke', sourceId: 'test', sourceRef: null,
  title: 'Lindenbrücke ab Dienstag gesperrt', subtitle: 'Umleitung über den Ring',
  bodyHtml: '<p>Die Lindenbrücke ist ab Dienstag für drei Wochen gesperrt.</p>', bodyText: 'Die Lindenbrücke ist ab Dienstag für drei Wochen gesperrt.',
  language: 'de', organisation: 'Stadt Lindenau', department: { slug: 'fachbereich-mobilitaet', name: 'Fachbereich Mobilität' },
  contact: null, topics: [{ slug: 'verkehr', name: 'Verkehr' }, { slug: 'baustellen', name: 'Baustellen' }], places: [],
  images: [media('https://bilder.lindenau.example/bruecke.jpg', { caption: 'Die Brücke', credit: '© Stadt' })], attachments: [],
  publishedAt: '2026-11-20T09:30:00.000Z', updatedAt: '2026-11-23T15:45:00.000Z', embargoUntil: null, status: 'published',
  changedAt: '2026-11-23T15:45:00.000Z', contentHash: 'bruecke',
};

function revision(previous: Record<string, unknown>, id = 1): Revision {
  return { id, releaseId: 7, revisedAt: '2026-11-23T15:45:00.000Z', note: null, previous };
}

describe('wordChanges', () => {
  test('counts words gained and lost; a changed word counts once each way', () => {
    expect(wordChanges('a b c', 'a b c')).toEqual({ added: 0, removed: 0 });
    expect(wordChanges('a b c', 'a b x c')).toEqual({ added: 1, removed: 0 });
    expect(wordChanges('a b c', 'a c')).toEqual({ added: 0, removed: 1 });
    expect(wordChanges('a b c', 'a x c')).toEqual({ added: 1, removed: 1 });
    expect(wordChanges('Die Brücke ist ab Montag gesperrt.', 'Die Lindenbrücke ist ab Dienstag für drei Wochen gesperrt.')).toEqual({ added: 5, removed: 2 });
    expect(wordChanges('', 'neu hier')).toEqual({ added: 2, removed: 0 });
    expect(wordChanges('eins  zwei\n\ndrei', 'eins zwei drei')).toEqual({ added: 0, removed: 0 });
  });

  test('a rewrite too long to compare word by word gives null', () => {
    const long = (prefix: string) => Array.from({ length: 2100 }, (_, index) => `${prefix}${index}`).join(' ');
    expect(wordChanges(long('a'), long('b'))).toBeNull();
    // The same length with a common beginning and end is compared: only the middle counts.
    expect(wordChanges(`${long('a')} mitte ${long('c')}`, `${long('a')} neue mitte ${long('c')}`)).toEqual({ added: 1, removed: 0 });
  });
});

describe('describeRevision', () => {
  test('title, subtitle and text, in that order, with the old and new title and the word counts', () => {
    expect(describeRevision(revision({
      bodyHtml: '<p>Die Brücke ist ab Montag gesperrt.</p>',
      title: 'Lindenbrücke ab Montag gesperrt',
      subtitle: 'Umleitung über die Ringstraße',
    }), RELEASE)).toEqual([
      'Titel geändert: „Lindenbrücke ab Montag gesperrt“ → „Lindenbrücke ab Dienstag gesperrt“',
      'Untertitel geändert: „Umleitung über die Ringstraße“ → „Umleitung über den Ring“',
      'Text geändert: 5 Wörter ergänzt, 2 gestrichen',
    ]);
  });

  test('singular and plural of the word counts; only additions or only removals', () => {
    const text = (before: string) => describeRevision(revision({ bodyHtml: before }), { ...RELEASE, bodyHtml: '<p>a b c</p>' });
    expect(text('<p>a c</p>')).toEqual(['Text geändert: 1 Wort ergänzt']);
    expect(text('<p>c</p>')).toEqual(['Text geändert: 2 Wörter ergänzt']);
    expect(text('<p>a b c d</p>')).toEqual(['Text geändert: 1 Wort gestrichen']);
    expect(text('<p>a b c d e</p>')).toEqual(['Text geändert: 2 Wörter gestrichen']);
    expect(text('<p>a x c</p>')).toEqual(['Text geändert: 1 Wort ergänzt, 1 gestrichen']);
  });

  test('the same text with another link target; the same words in other paragraphs', () => {
    const now = { ...RELEASE, bodyHtml: '<p>Mehr unter <a href="https://lindenau.example/neu">Verkehr</a>.</p>' };
    expect(describeRevision(revision({ bodyHtml: '<p>Mehr unter <a href="https://lindenau.example/alt">Verkehr</a>.</p>' }), now))
      .toEqual(['Links im Text geändert']);
    expect(describeRevision(revision({ bodyHtml: '<p>Die Lindenbrücke ist ab Dienstag</p><p>für drei Wochen gesperrt.</p>' }), RELEASE))
      .toEqual(['Text geändert']);
  });

  test('subtitle added and removed', () => {
    expect(describeRevision(revision({ subtitle: null }), RELEASE)).toEqual(['Untertitel ergänzt: „Umleitung über den Ring“']);
    expect(describeRevision(revision({ subtitle: 'Alt' }), { ...RELEASE, subtitle: null })).toEqual(['Untertitel gestrichen']);
  });

  test('images: added, removed, replaced, or only their caption or credit changed', () => {
    const image = RELEASE.images[0]!;
    expect(describeRevision(revision({ images: [] }), RELEASE)).toEqual(['Bild ergänzt']);
    expect(describeRevision(revision({ images: [image] }), { ...RELEASE, images: [] })).toEqual(['Bild entfernt']);
    expect(describeRevision(revision({ images: [media('https://bilder.lindenau.example/alt.jpg')] }), RELEASE)).toEqual(['Bild geändert']);
    expect(describeRevision(revision({ images: [{ ...image, credit: '© Foto: Anna' }] }), RELEASE)).toEqual(['Bildangaben geändert']);
  });

  test('topics name what was added and removed; the other fields are named', () => {
    expect(describeRevision(revision({ topics: ['Verkehr', 'Umwelt'] }), RELEASE)).toEqual(['Themen geändert: „Baustellen“ ergänzt, „Umwelt“ entfernt']);
    expect(describeRevision(revision({ topics: ['Baustellen', 'Verkehr'] }), RELEASE)).toEqual([]);
    expect(describeRevision(revision({
      embargoUntil: null, department: 'Fachbereich Verkehr', organisation: null, contact: null, places: [], attachments: [],
      publishedAt: '2026-11-20T08:00:00.000Z', language: 'en',
    }), RELEASE)).toEqual([
      'Anhänge geändert', 'Fachbereich geändert', 'Herausgeber geändert', 'Pressekontakt geändert', 'Orte geändert',
      'Veröffentlichungszeit geändert', 'Sperrfrist geändert', 'Sprache geändert',
    ]);
  });

  test('publishing a withdrawn release again is told; a withdrawal is not (its page is gone)', () => {
    expect(describeRevision(revision({ status: 'withdrawn' }), RELEASE)).toEqual(['wieder veröffentlicht']);
    expect(describeRevision(revision({ status: 'published' }), { ...RELEASE, status: 'withdrawn' })).toEqual([]);
  });

  test('the value after a revision is what the next revision of that field found, not the value now', () => {
    const first = revision({ title: 'Erster Titel' }, 1);
    const second = revision({ title: 'Zweiter Titel', subtitle: 'Alter Untertitel' }, 2);
    expect(describeRevision(first, RELEASE, { later: [second] })).toEqual(['Titel geändert: „Erster Titel“ → „Zweiter Titel“']);
    expect(describeRevisions([first, second], RELEASE).map((item) => item.changes)).toEqual([
      ['Titel geändert: „Erster Titel“ → „Zweiter Titel“'],
      ['Titel geändert: „Zweiter Titel“ → „Lindenbrücke ab Dienstag gesperrt“', 'Untertitel geändert: „Alter Untertitel“ → „Umleitung über den Ring“'],
    ]);
  });

  test('in the site language', () => {
    expect(describeRevision(revision({ title: 'Old', bodyHtml: '<p>Die Lindenbrücke ist gesperrt.</p>' }), RELEASE, { language: 'en' })).toEqual([
      'Title changed: “Old” → “Lindenbrücke ab Dienstag gesperrt”',
      'Text changed: 5 words added',
    ]);
  });
});
