import { describe, expect, test } from 'vitest';
import { parseContactBlock } from '../../src/ingest/contact.js';

describe('parseContactBlock', () => {
  test('the seed block', () => {
    expect(parseContactBlock([
      'Stadt Aachen', 'Fachbereich Presse und Marketing', 'Bernd Büttgens', 'Markt 39', '52062 Aachen',
      'fon: 0241/432-1309', 'fax: 0241/28-121', 'mail: presse.marketing@mail.aachen.de',
    ])).toStrictEqual({
      organisation: 'Stadt Aachen',
      department: 'Fachbereich Presse und Marketing',
      contact: {
        name: 'Bernd Büttgens', organisation: 'Stadt Aachen', street: 'Markt 39', postcode: '52062', city: 'Aachen',
        phone: '0241/432-1309', fax: '0241/28-121', email: 'presse.marketing@mail.aachen.de',
      },
    });
  });

  test('the page\'s second block: heading, a "Mail" link without its address and logos are noise', () => {
    expect(parseContactBlock([
      'Pressekontakt', '', 'Stadt Aachen', 'Fachbereich Presse und Marketing', 'Bernd Büttgens', 'Markt 39', '52062 Aachen',
      'fon: 0241/432-1309', 'fax: 0241/28-121', 'Mail', '', 'Twitter Logo', '', 'Facebook Logo instagram Google+ Logo',
    ])).toStrictEqual({
      organisation: 'Stadt Aachen',
      department: 'Fachbereich Presse und Marketing',
      contact: {
        name: 'Bernd Büttgens', organisation: 'Stadt Aachen', street: 'Markt 39', postcode: '52062', city: 'Aachen',
        phone: '0241/432-1309', fax: '0241/28-121', email: null,
      },
    });
  });

  test('other labels, a bare address, a title and particles in the name, a house number with a letter', () => {
    expect(parseContactBlock([
      '  Stadt   Lindenau ', 'Amt für Kommunikation', 'Dr. Anna-Lena von der Heide', 'Am Markt 1a', 'D-52999 Lindenau',
      'Tel.: 02461 99-1000', 'Telefax: 02461 99-1009', 'anna-lena.vonderheide@lindenau.example',
    ])).toStrictEqual({
      organisation: 'Stadt Lindenau',
      department: 'Amt für Kommunikation',
      contact: {
        name: 'Dr. Anna-Lena von der Heide', organisation: 'Stadt Lindenau', street: 'Am Markt 1a', postcode: '52999', city: 'Lindenau',
        phone: '02461 99-1000', fax: '02461 99-1009', email: 'anna-lena.vonderheide@lindenau.example',
      },
    });
  });

  test.each([
    ['Telefon 02461 99-1000', 'phone', '02461 99-1000'],
    ['phone: +49 2461 99-1000', 'phone', '+49 2461 99-1000'],
    ['Fax 02461 99-1009', 'fax', '02461 99-1009'],
    ['E-Mail: presse@lindenau.example', 'email', 'presse@lindenau.example'],
    ['mailto:presse@lindenau.example', 'email', 'presse@lindenau.example'],
    ['Hauptstraße 12-14', 'street', 'Hauptstraße 12-14'],
  ])('%j is read as %s', (line, field, value) => {
    expect(parseContactBlock(['Stadt Lindenau', line]).contact).toMatchObject({ [field]: value });
  });

  test('a second line that is no person and names no office type is the department', () => {
    expect(parseContactBlock(['Stadt Lindenau', 'Stabsstelle Kommunikation', 'Petra Beispiel', 'Rathausplatz 1', '52999 Lindenau']))
      .toMatchObject({ department: 'Stabsstelle Kommunikation', contact: { name: 'Petra Beispiel' } });
    expect(parseContactBlock(['Stadt Lindenau', 'Büro der Oberbürgermeisterin', 'fon: 02461 99-1100']))
      .toMatchObject({ department: 'Büro der Oberbürgermeisterin', contact: { name: null, phone: '02461 99-1100' } });
  });

  test('a second line that is a person is no department', () => {
    expect(parseContactBlock(['Stadt Lindenau', 'Petra Beispiel', 'Rathausplatz 1', '52999 Lindenau'])).toStrictEqual({
      organisation: 'Stadt Lindenau',
      department: null,
      contact: { name: 'Petra Beispiel', organisation: 'Stadt Lindenau', street: 'Rathausplatz 1', postcode: '52999', city: 'Lindenau',
        phone: null, fax: null, email: null },
    });
  });

  test('a block that starts with the department has no organisation', () => {
    expect(parseContactBlock(['Presseamt', 'Jörg Müßig', 'mail: presse@lindenau.example'])).toStrictEqual({
      organisation: null,
      department: 'Presseamt',
      contact: { name: 'Jörg Müßig', organisation: null, street: null, postcode: null, city: null, phone: null, fax: null,
        email: 'presse@lindenau.example' },
    });
  });

  test('an organisation alone, or nothing, is no contact', () => {
    expect(parseContactBlock(['Stadt Lindenau'])).toStrictEqual({ organisation: 'Stadt Lindenau', department: null, contact: null });
    expect(parseContactBlock([])).toStrictEqual({ organisation: null, department: null, contact: null });
    expect(parseContactBlock(['Mail', '', 'Twitter Logo'])).toStrictEqual({ organisation: null, department: null, contact: null });
  });
});
