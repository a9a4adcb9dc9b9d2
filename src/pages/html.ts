import { escapeHtml } from '../text.js';

/** HTML that is already safe to write: produced by `html` or explicitly trusted (sanitized bodies). */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Value = SafeHtml | string | number | null | undefined | false | readonly Value[];

function write(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(write).join('');
  return escapeHtml(String(value));
}

/** The one HTML writer: every interpolated value is escaped unless it is SafeHtml. */
export function html(strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((value, index) => {
    out += write(value) + strings[index + 1]!;
  });
  return new SafeHtml(out);
}

/** Marks HTML as safe: only for bodies sanitized at ingest. */
export function trusted(value: string): SafeHtml {
  return new SafeHtml(value);
}
