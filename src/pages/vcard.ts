import type { Contact } from '../model.js';

/** RFC 6350 3.2: a content line should be at most 75 octets, line break excluded. */
const LINE_OCTETS = 75;

/** RFC 6350 3.4: backslash, comma and semicolon escaped, a line break written as "\n"; controls dropped. */
export function escapeVCardText(value: string): string {
  return value
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000B-\u001F\u007F]/g, '')
    .replace(/[\\,;]/g, (char) => `\\${char}`)
    .replace(/\n/g, '\\n');
}

/**
 * RFC 6350 3.2: folds a content line into lines of at most 75 octets, each continuation starting
 * with one space; a multi-octet UTF-8 character is never split.
 */
export function foldLine(line: string): string {
  const lines: string[] = [];
  let current = '';
  let octets = 0;
  for (const char of line) {
    const size = Buffer.byteLength(char, 'utf8');
    if (octets + size > LINE_OCTETS) {
      lines.push(current);
      current = ' ';
      octets = 1;
    }
    current += char;
    octets += size;
  }
  lines.push(current);
  return lines.join('\r\n');
}

/** True when a contact has anything to put on a card. */
export function hasContact(contact: Contact | null): contact is Contact {
  return !!contact && Object.values(contact).some((value) => typeof value === 'string' && value.trim() !== '');
}

/**
 * A press contact as a vCard 4.0 (RFC 6350): FN, ORG (with the issuing department as its unit),
 * a work address, work phone and fax, e-mail; CRLF line endings, values escaped, lines folded.
 */
export function renderVCard(contact: Contact, options: { unit?: string | null } = {}): string {
  const text = (value: string | null | undefined) => escapeVCardText(value?.trim() ?? '');
  const name = contact.name?.trim() || contact.organisation?.trim() || options.unit?.trim() || '';
  const org = [contact.organisation, contact.organisation ? options.unit : null].filter((part) => part?.trim()).map(text);
  const hasAddress = [contact.street, contact.postcode, contact.city].some((part) => part?.trim());
  const lines = [
    'BEGIN:VCARD',
    'VERSION:4.0',
    ...(contact.name?.trim() ? [] : ['KIND:org']),
    `FN:${text(name)}`,
    ...(org.length ? [`ORG:${org.join(';')}`] : []),
    // ADR components: post office box; extended address; street; locality; region; postal code; country.
    ...(hasAddress ? [`ADR;TYPE=work:;;${text(contact.street)};${text(contact.city)};;${text(contact.postcode)};`] : []),
    ...(contact.phone?.trim() ? [`TEL;TYPE=work,voice:${text(contact.phone)}`] : []),
    ...(contact.fax?.trim() ? [`TEL;TYPE=work,fax:${text(contact.fax)}`] : []),
    ...(contact.email?.trim() ? [`EMAIL;TYPE=work:${text(contact.email)}`] : []),
    'END:VCARD',
  ];
  return lines.map(foldLine).join('\r\n') + '\r\n';
}
