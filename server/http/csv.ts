// CSV for the report exports (docs/contract.md 8.6, `?format=csv`): RFC 4180 (CRLF line ends, a
// field with a comma, quote or line break in double quotes, a quote doubled), one header row.
// Names and ids come from client tokens, so a text cell a spreadsheet would take for a formula
// (one starting with = + - @, a tab or a carriage return) gets a leading apostrophe (OWASP's
// "CSV injection" advice); numbers are written as they are.

export type CsvValue = string | number | boolean | null | undefined | readonly string[];

/** A text cell a spreadsheet would run as a formula. */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  let text = typeof value === 'string' ? value : value.join(' ');
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The header row (the column names) and one row per record, each line ended by CRLF. */
export function toCsv<T extends object>(columns: readonly (keyof T & string)[], rows: readonly T[]): string {
  const line = (cells: CsvValue[]) => `${cells.map(csvCell).join(',')}\r\n`;
  return line([...columns]) + rows.map((r) => line(columns.map((c) => r[c] as CsvValue))).join('');
}
