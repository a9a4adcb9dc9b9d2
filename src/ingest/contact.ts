import type { Contact } from '../model.js';

/** What a contact block says: the issuing organisation and department, and the press contact. */
export interface ContactBlock {
  readonly organisation: string | null;
  readonly department: string | null;
  readonly contact: Contact | null;
}

/** Link labels and icons left over from the page ("Mail" without its address, "Twitter Logo"), and headings. */
const NOISE = /^(?:e-?mail|mail|pressekontakt|kontakt|drucken|teilen|nach oben)$|\blogo\b/i;
const FAX = /^(?:tele)?fax\b\.?\s*:?\s*(.*\d.*)$/i;
const PHONE = /^(?:fon|tel|telefon|phone)\b\.?\s*:?\s*(.*\d.*)$/i;
const EMAIL = /^(?:(?:e-?mail|mail)\b\s*:?\s*)?(?:mailto:)?([^\s@]+@[^\s@]+\.[^\s@]+)$/i;
const POSTCODE_CITY = /^(?:D-\s?)?(\d{5})\s+(\S.*)$/;
/** "Markt 39", "Am Markt 1a", "Hauptstraße 12-14". */
const STREET = /^\p{L}[\p{L}\p{M} .'’-]*\s\d+\s?[a-z]?(?:\s?[-–/]\s?\d+\s?[a-z]?)?$/iu;
const DEPARTMENT = /^(?:Fachbereich|Amt|Dezernat|Referat|Abteilung|Presseamt|Pressestelle)\b/;

/** Words of a name that are not capitalised ("Anna von der Heide") and titles before it. */
const NAME_PARTICLES = new Set(['von', 'van', 'vom', 'zu', 'zum', 'zur', 'de', 'der', 'den', 'di', 'da', 'del', 'ten', 'ter']);
const NAME_TITLES = /^(?:Dr\.|Prof\.|Dipl\.-\S+|Frau|Herr)$/;
const NAME_WORD = /^\p{Lu}(?:[\p{Ll}\p{M}'’]+|\.)(?:-\p{Lu}[\p{Ll}\p{M}'’]+)*$/u;
/** Endings of the nouns that name an office, not a person ("Stabsstelle Kommunikation"). */
const OFFICE_WORD = /(?:amt|stelle|büro|bereich|referat|abteilung|dezernat|dienst|verwaltung|presse|kommunikation|marketing)$/i;

type Kind = 'phone' | 'fax' | 'email' | 'postcode' | 'street' | 'department' | 'other';

/** One non-noise line of the block, with what it is and the value it carries. */
interface Line {
  readonly kind: Kind;
  readonly value: string;
  readonly extra?: string;
}

/** Reads one trimmed line; null for noise. */
function classify(text: string): Line | null {
  if (NOISE.test(text)) return null;
  let match: RegExpExecArray | null;
  if ((match = FAX.exec(text))) return { kind: 'fax', value: match[1]!.trim() };
  if ((match = PHONE.exec(text))) return { kind: 'phone', value: match[1]!.trim() };
  if ((match = EMAIL.exec(text))) return { kind: 'email', value: match[1]! };
  if ((match = POSTCODE_CITY.exec(text))) return { kind: 'postcode', value: match[1]!, extra: match[2]!.trim() };
  if (STREET.test(text)) return { kind: 'street', value: text };
  if (DEPARTMENT.test(text)) return { kind: 'department', value: text };
  return { kind: 'other', value: text };
}

/** Whether a line reads as a person's name: two to four capitalised words, particles and titles aside. */
function looksLikePerson(text: string): boolean {
  const words = text.split(' ').filter((word) => !NAME_TITLES.test(word));
  const names = words.filter((word) => !NAME_PARTICLES.has(word));
  return names.length >= 2 && names.length <= 4
    && names.every((word) => NAME_WORD.test(word) && !OFFICE_WORD.test(word));
}

/**
 * Reads an issuer/contact block as printed under a release ("Stadt Aachen", "Fachbereich …", a person,
 * street, postcode and city, "fon:", "fax:", "mail:"): the first line is the organisation, a department
 * is a line naming an office or the second line when it is no person; noise lines are skipped.
 */
export function parseContactBlock(lines: readonly string[]): ContactBlock {
  const read = lines
    .map((line) => line.replace(/\s+/g, ' ').trim())
    .filter(Boolean)
    .map((text) => classify(text))
    .filter((line): line is Line => line !== null);
  const first = (kind: Kind): Line | undefined => read.find((line) => line.kind === kind);
  const organisation = read[0]?.kind === 'other' ? read[0].value : null;
  const others = read.filter((line) => line.kind === 'other').slice(organisation === null ? 0 : 1);
  const person = others.filter((line) => looksLikePerson(line.value)).at(-1) ?? null;
  const second = read[1]?.kind === 'other' && read[1] !== person ? read[1].value : null;
  const department = first('department')?.value ?? second;
  const postcode = first('postcode');
  const fields = {
    name: person?.value ?? null,
    street: first('street')?.value ?? null,
    postcode: postcode?.value ?? null,
    city: postcode?.extra ?? null,
    phone: first('phone')?.value ?? null,
    fax: first('fax')?.value ?? null,
    email: first('email')?.value ?? null,
  };
  const contact: Contact | null = Object.values(fields).some((value) => value !== null) ? { ...fields, organisation } : null;
  return { organisation, department, contact };
}
