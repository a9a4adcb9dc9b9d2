import { describe, expect, test } from 'vitest';
import { parseGermanDate, parseInstant } from '../../src/ingest/dates.js';

/** 2 August 2017, midnight in Berlin (summer time). */
const AUG_2 = '2017-08-01T22:00:00.000Z';

describe('parseGermanDate', () => {
  test.each([
    ['02.08.2017', AUG_2],
    ['2.8.2017', AUG_2],
    ['2. August 2017', AUG_2],
    ['2. Aug. 2017', AUG_2],
    ['2. august 2017', AUG_2],
    ['2.Aug.2017', AUG_2],
    ['02.08.17', AUG_2],
    ['Herausgegeben am 02.08.2017 von:', AUG_2],
    ['Montag, 2. August 2017', AUG_2],
    ['2017-08-02', AUG_2],
    ['Stand: 2017-08-02', AUG_2],
    ['02.08.2017, 14:30 Uhr', '2017-08-02T12:30:00.000Z'],
    ['02.08.2017 14:30', '2017-08-02T12:30:00.000Z'],
    ['2. August 2017 um 9.15 Uhr', '2017-08-02T07:15:00.000Z'],
    ['02.08.2017, 14 Uhr', '2017-08-02T12:00:00.000Z'],
    ['02.08.2017 14:30:15', '2017-08-02T12:30:15.000Z'],
    ['2017-08-02T14:30:00+02:00', '2017-08-02T12:30:00.000Z'],
    ['2017-08-02T14:30', '2017-08-02T12:30:00.000Z'],
    ['14.11.2026', '2026-11-13T23:00:00.000Z'],
    ['1. Mär. 2026', '2026-02-28T23:00:00.000Z'],
    ['1. März 2026', '2026-02-28T23:00:00.000Z'],
    ['3. Jun. 2026', '2026-06-02T22:00:00.000Z'],
    ['3. Sep. 2026', '2026-09-02T22:00:00.000Z'],
    ['3. Sept. 2026', '2026-09-02T22:00:00.000Z'],
    ['24. Dez. 2026', '2026-12-23T23:00:00.000Z'],
    ['am 12.34.5678 nicht, aber am 02.08.2017', AUG_2],
  ])('%s', (text, expected) => {
    expect(parseGermanDate(text)).toBe(expected);
  });

  test.each([
    ['31.02.2017'],
    ['29.02.2027'],
    ['2. Ju. 2017'],
    ['heute (2. August)'],
    ['kein Datum'],
    [''],
    ['2017-13-02'],
  ])('%j is no date', (text) => {
    expect(parseGermanDate(text)).toBeNull();
  });

  test('a date without a time is midnight in the given zone', () => {
    expect(parseGermanDate('02.08.2017', { zone: 'UTC' })).toBe('2017-08-02T00:00:00.000Z');
    expect(parseGermanDate('02.08.2017, 14:30 Uhr', { zone: 'America/New_York' })).toBe('2017-08-02T18:30:00.000Z');
  });

  test('an explicit format is tried first, in German', () => {
    expect(parseGermanDate('Stand 2017/08/02', { format: "'Stand' yyyy/MM/dd" })).toBe(AUG_2);
    expect(parseGermanDate('Mi 2 Aug 17', { format: 'EEE d MMM yy' })).toBe(AUG_2);
    expect(parseGermanDate('Wed 2 Aug 17', { format: 'EEE d MMM yy' })).toBeNull();
    expect(parseGermanDate('am 02.08.2017', { format: 'yyyy/MM/dd' })).toBe(AUG_2);
  });
});

describe('parseInstant', () => {
  test.each([
    ['Wed, 02 Aug 2017 14:30:00 GMT', '2017-08-02T14:30:00.000Z'],
    ['Wed, 02 Aug 2017 14:30:00 +0200', '2017-08-02T12:30:00.000Z'],
    ['Wed, 02 Aug 2017 14:30:00 CEST', '2017-08-02T12:30:00.000Z'],
    ['Wed, 02 Aug 2017 14:30:00 MESZ', '2017-08-02T12:30:00.000Z'],
    ['Sat, 14 Nov 2026 10:00:00 MEZ', '2026-11-14T09:00:00.000Z'],
    ['Sat, 14 Nov 2026 10:00:00 cet', '2026-11-14T09:00:00.000Z'],
    ['Mon, 02 Aug 2017 14:30:00 GMT', '2017-08-02T14:30:00.000Z'],
    ['2 Aug 2017 14:30 EST', '2017-08-02T19:30:00.000Z'],
    ['02 Aug 17 14:30:00 UTC', '2017-08-02T14:30:00.000Z'],
    ['Wed, 02 Aug 2017 14:30:00', '2017-08-02T12:30:00.000Z'],
    ['Wednesday, 02-Aug-17 14:30:00 GMT', '2017-08-02T14:30:00.000Z'],
    ['  Wed,  02 Aug 2017\n14:30:00 GMT ', '2017-08-02T14:30:00.000Z'],
    ['2017-08-02T14:30:00+02:00', '2017-08-02T12:30:00.000Z'],
    ['2017-08-02T14:30:00.250Z', '2017-08-02T14:30:00.250Z'],
    ['2017-08-02', AUG_2],
    ['2017-08-02T14:30:00', '2017-08-02T12:30:00.000Z'],
    ['2017-08-02 14:30', '2017-08-02T12:30:00.000Z'],
    ['2017-08-02 14:30:00 +02:00', '2017-08-02T12:30:00.000Z'],
    ['02.08.2017', AUG_2],
    ['2. August 2017, 14:30 Uhr', '2017-08-02T12:30:00.000Z'],
  ])('%j', (value, expected) => {
    expect(parseInstant(value)).toBe(expected);
  });

  test.each([[''], ['   '], ['gestern'], ['2017-13-45'], ['Wed, 31 Feb 2017 10:00:00 GMT'], ['Wed, 02 Aug 2017 25:00:00 GMT']])('%j is no instant', (value) => {
    expect(parseInstant(value)).toBeNull();
  });

  test('a date or date-time without an offset is read in the given zone', () => {
    expect(parseInstant('2017-08-02', 'UTC')).toBe('2017-08-02T00:00:00.000Z');
    expect(parseInstant('2017-08-02T14:30:00', 'Europe/London')).toBe('2017-08-02T13:30:00.000Z');
    expect(parseInstant('2017-08-02T14:30:00Z', 'Europe/London')).toBe('2017-08-02T14:30:00.000Z');
  });
});
