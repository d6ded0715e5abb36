/**
 * CSV (RFC 4180) and JSON records into a RawTable. Parsing only finds structure; whether cells are
 * usable numbers is validate.ts's job, so both formats share one set of error messages.
 */
import type { RawTable } from './table';

export class TableParseError extends Error {
  override name = 'TableParseError';
  constructor(
    message: string,
    /** 1-based line in the CSV text, where the problem has one. */
    readonly line?: number,
  ) {
    super(message);
  }
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;
const BOM = 0xfeff;

/**
 * Quoted fields may hold commas, doubled quotes and line breaks; records end in LF, CRLF or CR.
 * Blank lines are skipped (editors leave them), a leading BOM is dropped (Excel writes one), and
 * a stray quote inside an unquoted field is kept literally (e.g. 5'3"), as most readers do.
 * Rows are returned even when their length differs from the header: validation reports that.
 */
export function parseCsv(text: string): RawTable {
  const len = text.length;
  let i = len > 0 && text.charCodeAt(0) === BOM ? 1 : 0;
  let line = 1;
  const records: string[][] = [];
  let record: string[] = [];
  let lastQuoted = false;

  const endRecord = () => {
    const blank = record.length === 1 && record[0] === '' && !lastQuoted;
    if (!blank) records.push(record);
    record = [];
  };

  while (i < len) {
    let field: string;
    if (text.charCodeAt(i) === QUOTE) {
      const startLine = line;
      let start = ++i;
      field = '';
      for (;;) {
        const q = text.indexOf('"', i);
        if (q === -1) throw new TableParseError(`line ${startLine}: quoted field is never closed`, startLine);
        line += countLineBreaks(text, i, q);
        if (q + 1 < len && text.charCodeAt(q + 1) === QUOTE) {
          field += text.slice(start, q + 1);
          i = start = q + 2;
          continue;
        }
        field += text.slice(start, q);
        i = q + 1;
        break;
      }
      if (i < len) {
        const c = text.charCodeAt(i);
        if (c !== COMMA && c !== CR && c !== LF) {
          throw new TableParseError(`line ${line}: unexpected character after a closing quote (quotes inside a field must be doubled)`, line);
        }
      }
      lastQuoted = true;
    } else {
      let j = i;
      while (j < len) {
        const c = text.charCodeAt(j);
        if (c === COMMA || c === LF || c === CR) break;
        j++;
      }
      field = text.slice(i, j);
      i = j;
      lastQuoted = false;
    }
    record.push(field);

    if (i >= len) break;
    const c = text.charCodeAt(i);
    if (c === COMMA) {
      i++;
      // A trailing comma at end of input still ends in one (empty) field.
      if (i === len) record.push('');
      continue;
    }
    i += c === CR && i + 1 < len && text.charCodeAt(i + 1) === LF ? 2 : 1;
    line++;
    endRecord();
  }
  if (record.length > 0) endRecord();

  if (records.length === 0) throw new TableParseError('CSV is empty: a header row is required');
  const columns = records[0].map((c) => c.trim());
  checkColumnNames(columns);
  return { columns, rows: records.slice(1) };
}

function countLineBreaks(text: string, from: number, to: number): number {
  let n = 0;
  for (let k = from; k < to; k++) {
    const c = text.charCodeAt(k);
    if (c === LF || (c === CR && text.charCodeAt(k + 1) !== LF)) n++;
  }
  return n;
}

function checkColumnNames(columns: string[]): void {
  const seen = new Set<string>();
  columns.forEach((name, k) => {
    if (name === '') {
      throw new TableParseError(`line 1: column ${k + 1} of the header has no name (a header row is required; was an index column written?)`, 1);
    }
    if (seen.has(name)) throw new TableParseError(`line 1: column "${name}" appears twice in the header`, 1);
    seen.add(name);
  });
}

/**
 * JSON datasets as an array of flat objects. Columns are the union of keys in first-seen order; a
 * key a record lacks (or null) becomes an empty cell, which validation reports as missing.
 * Numbers keep their JS spelling, so NaN/Infinity written by a lenient encoder are still caught.
 */
export function rawTableFromRecords(records: Record<string, unknown>[]): RawTable {
  if (!Array.isArray(records)) throw new TableParseError('JSON dataset must be an array of objects');
  const index = new Map<string, number>();
  const columns: string[] = [];
  records.forEach((rec, r) => {
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) {
      throw new TableParseError(`record ${r + 1} is ${describe(rec)}, expected an object`);
    }
    for (const key of Object.keys(rec)) {
      if (!index.has(key)) {
        index.set(key, columns.length);
        columns.push(key);
      }
    }
  });
  const rows = records.map((rec, r) => {
    const row = new Array<string>(columns.length).fill('');
    for (const [key, value] of Object.entries(rec)) row[index.get(key)!] = cellText(value, r + 1, key);
    return row;
  });
  return { columns, rows };
}

function cellText(value: unknown, row: number, key: string): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
      return String(value);
    case 'undefined':
      return '';
    default:
      if (value === null) return '';
      throw new TableParseError(`column "${key}", row ${row}: ${describe(value)} is not a plain value (nested data is not supported)`);
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
