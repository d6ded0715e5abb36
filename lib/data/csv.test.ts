import { describe, expect, it } from 'vitest';
import { parseCsv, rawTableFromRecords, TableParseError } from './csv';

describe('parseCsv', () => {
  it('reads a header and rows', () => {
    expect(parseCsv('a,b\n1,2\n3,4\n')).toEqual({ columns: ['a', 'b'], rows: [['1', '2'], ['3', '4']] });
  });

  it('does not need a trailing newline, and accepts CRLF and lone CR', () => {
    expect(parseCsv('a,b\r\n1,2\r\n3,4')).toEqual({ columns: ['a', 'b'], rows: [['1', '2'], ['3', '4']] });
    expect(parseCsv('a,b\r1,2\r')).toEqual({ columns: ['a', 'b'], rows: [['1', '2']] });
  });

  it('unquotes fields holding commas, doubled quotes and line breaks', () => {
    const t = parseCsv('name,note\n"Smith, J.","said ""hi"""\n"multi\r\nline",x\n');
    expect(t.rows).toEqual([
      ['Smith, J.', 'said "hi"'],
      ['multi\r\nline', 'x'],
    ]);
  });

  it('keeps empty fields, including a trailing one and a quoted empty string', () => {
    expect(parseCsv('a,b,c\n1,,3\n4,5,\n"",,""').rows).toEqual([
      ['1', '', '3'],
      ['4', '5', ''],
      ['', '', ''],
    ]);
    expect(parseCsv('a,b\n1,').rows).toEqual([['1', '']]);
  });

  it('skips blank lines but keeps a line holding a quoted empty value', () => {
    expect(parseCsv('a\n1\n\n2\n\n').rows).toEqual([['1'], ['2']]);
    expect(parseCsv('a\n""\n').rows).toEqual([['']]);
  });

  it('drops a UTF-8 BOM and trims header names', () => {
    expect(parseCsv('\ufeffa, b \n1,2').columns).toEqual(['a', 'b']);
  });

  it('keeps a stray quote inside an unquoted field', () => {
    expect(parseCsv('h,w\n5\'3",x').rows).toEqual([['5\'3"', 'x']]);
  });

  it('returns ragged rows as they are (validation reports them)', () => {
    expect(parseCsv('a,b\n1\n1,2,3').rows).toEqual([['1'], ['1', '2', '3']]);
  });

  it('header only: columns and no rows', () => {
    expect(parseCsv('a,b\n')).toEqual({ columns: ['a', 'b'], rows: [] });
  });

  it.each([
    ['', 'CSV is empty: a header row is required', undefined],
    ['\n\n', 'CSV is empty: a header row is required', undefined],
    ['a,b\n"1,2\n', 'line 2: quoted field is never closed', 2],
    ['a,b\n"1"x,2\n', 'line 2: unexpected character after a closing quote (quotes inside a field must be doubled)', 2],
    ['a,,b\n1,2,3', 'line 1: column 2 of the header has no name (a header row is required; was an index column written?)', 1],
    ['a,b,a\n1,2,3', 'line 1: column "a" appears twice in the header', 1],
    // The line count must include line breaks inside earlier quoted fields.
    ['a,b\n"x\ny",1\n"z"q,2', 'line 4: unexpected character after a closing quote (quotes inside a field must be doubled)', 4],
  ])('rejects %j', (text, message, line) => {
    const err = catchError(() => parseCsv(text));
    expect(err).toBeInstanceOf(TableParseError);
    expect(err.message).toBe(message);
    expect((err as TableParseError).line).toBe(line);
  });
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('rawTableFromRecords', () => {
  it('takes the union of keys in first-seen order; absent and null become empty cells', () => {
    const t = rawTableFromRecords([{ a: 1, b: 'x' }, { b: 'y', c: true }, { a: null, c: false }]);
    expect(t).toEqual({
      columns: ['a', 'b', 'c'],
      rows: [
        ['1', 'x', ''],
        ['', 'y', 'true'],
        ['', '', 'false'],
      ],
    });
  });

  it('keeps NaN and Infinity visible to validation', () => {
    expect(rawTableFromRecords([{ a: Number.NaN, b: -Infinity }]).rows).toEqual([['NaN', '-Infinity']]);
  });

  it('rejects nested values and non-object records', () => {
    expect(() => rawTableFromRecords([{ a: 1 }, { a: [1, 2] }])).toThrow('column "a", row 2: an array is not a plain value (nested data is not supported)');
    expect(() => rawTableFromRecords([{ a: { b: 1 } }])).toThrow('column "a", row 1: an object is not a plain value');
    expect(() => rawTableFromRecords([{ a: 1 }, 5 as unknown as Record<string, unknown>])).toThrow('record 2 is a number, expected an object');
    expect(() => rawTableFromRecords({} as unknown as Record<string, unknown>[])).toThrow('JSON dataset must be an array of objects');
  });
});
