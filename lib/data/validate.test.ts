import { describe, expect, it } from 'vitest';
import type { RawTable } from './table';
import { sortLabels, validateTable } from './validate';

const table = (columns: string[], ...rows: string[][]): RawTable => ({ columns, rows });

function errorOf(raw: RawTable, labelColumn = 'y', featureColumns?: string[]) {
  const r = validateTable(raw, { labelColumn, featureColumns });
  if (r.ok) throw new Error('expected a validation error');
  return r.error;
}

describe('validateTable', () => {
  it('builds a dense dataset with sorted classes', () => {
    const r = validateTable(table(['a', 'y', 'b'], ['1.5', 'cat', '-2'], [' 3 ', 'ant', '1e3'], ['.5', 'cat', '+0']), { labelColumn: 'y' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.dataset.featureNames).toEqual(['a', 'b']);
    expect(r.dataset.labelName).toBe('y');
    expect(r.dataset.classes).toEqual(['ant', 'cat']);
    expect(r.dataset.nRows).toBe(3);
    expect(r.dataset.nFeatures).toBe(2);
    expect([...r.dataset.x]).toEqual([1.5, -2, 3, 1000, 0.5, 0]);
    expect([...r.dataset.y]).toEqual([1, 0, 1]);
  });

  it('uses only the requested feature columns, in the requested order, and ignores the rest', () => {
    const r = validateTable(table(['a', 'b', 'junk', 'y'], ['1', '2', 'not a number', '0'], ['3', '4', '', '1']), { labelColumn: 'y', featureColumns: ['b', 'a'] });
    expect(r.ok && [...r.dataset.x]).toEqual([2, 1, 4, 3]);
    expect(r.ok && r.dataset.featureNames).toEqual(['b', 'a']);
  });

  it('sorts numeric labels by value', () => {
    const r = validateTable(table(['x', 'y'], ['1', '10'], ['2', '9'], ['3', '-1'], ['4', '9']), { labelColumn: 'y' });
    expect(r.ok && r.dataset.classes).toEqual(['-1', '9', '10']);
    expect(r.ok && [...r.dataset.y]).toEqual([2, 1, 0, 1]);
  });

  it.each([
    // [code, table, expected error]
    ['empty', table(['x', 'y']), { code: 'empty', message: 'dataset has no rows' }],
    ['empty', table(['y'], ['1'], ['2']), { code: 'empty', message: 'dataset has no feature columns (columns: y)' }],
    [
      'missing-column',
      table(['a', 'b', 'c'], ['1', '2', '3']),
      { code: 'missing-column', column: 'y', message: 'label column "y" is missing (columns: a, b, c)' },
    ],
    [
      'ragged-row',
      table(['x', 'y'], ['1', '0'], ['2', '1'], ['3']),
      { code: 'ragged-row', row: 3, message: 'row 3 has 1 cell, expected 2 (one per column)' },
    ],
    [
      'ragged-row',
      table(['x', 'y'], ['1', '0', '5']),
      { code: 'ragged-row', row: 1, message: 'row 1 has 3 cells, expected 2 (one per column)' },
    ],
    [
      'not-numeric',
      table(['petal_width', 'y'], ...Array.from({ length: 16 }, () => ['1', 'a']), ['abc', 'b']),
      { code: 'not-numeric', column: 'petal_width', row: 17, message: 'column "petal_width", row 17: "abc" is not a number' },
    ],
    ['not-numeric', table(['x', 'y'], ['0x1F', '0']), { code: 'not-numeric', column: 'x', row: 1, message: 'column "x", row 1: "0x1F" is not a number' }],
    ['not-numeric', table(['x', 'y'], ['true', '0']), { code: 'not-numeric', column: 'x', row: 1, message: 'column "x", row 1: "true" is not a number' }],
    [
      'not-finite',
      table(['x1', 'x2', 'x3', 'y'], ...Array.from({ length: 4 }, () => ['1', '2', '3', 'a']), ['1', '2', 'NaN', 'b']),
      { code: 'not-finite', column: 'x3', row: 5, message: 'column "x3", row 5: value is NaN' },
    ],
    ['not-finite', table(['x3', 'y'], ['inf', '0']), { code: 'not-finite', column: 'x3', row: 1, message: 'column "x3", row 1: value is Infinity' }],
    ['not-finite', table(['x3', 'y'], ['Infinity', '0']), { code: 'not-finite', column: 'x3', row: 1, message: 'column "x3", row 1: value is Infinity' }],
    ['not-finite', table(['x3', 'y'], ['-inf', '0']), { code: 'not-finite', column: 'x3', row: 1, message: 'column "x3", row 1: value is -Infinity' }],
    ['not-finite', table(['x3', 'y'], ['nan', '0']), { code: 'not-finite', column: 'x3', row: 1, message: 'column "x3", row 1: value is NaN' }],
    ['not-finite', table(['x3', 'y'], ['1e999', '0']), { code: 'not-finite', column: 'x3', row: 1, message: 'column "x3", row 1: "1e999" overflows to Infinity' }],
    ['missing-value', table(['x', 'y'], ['1', '0'], ['  ', '1']), { code: 'missing-value', column: 'x', row: 2, message: 'column "x", row 2: value is missing' }],
    ['missing-value', table(['x', 'y'], ['1', '0'], ['2', '']), { code: 'missing-value', column: 'y', row: 2, message: 'column "y", row 2: value is missing' }],
    [
      'single-class',
      table(['x', 'y'], ['1', '1'], ['2', '1']),
      { code: 'single-class', column: 'y', message: 'label column "y" has a single class "1": need at least two' },
    ],
  ])('%s: %j', (_code, raw, expected) => {
    expect(errorOf(raw)).toEqual(expected);
  });

  it('names a missing feature column', () => {
    expect(errorOf(table(['a', 'y'], ['1', '0']), 'y', ['a', 'zz'])).toEqual({
      code: 'missing-column',
      column: 'zz',
      message: 'feature column "zz" is missing (columns: a, y)',
    });
  });

  it('refuses the label as a feature, and a feature listed twice', () => {
    expect(errorOf(table(['a', 'y'], ['1', '0']), 'y', ['a', 'y'])).toMatchObject({ code: 'duplicate-column', message: 'column "y" is the label, so it cannot also be a feature' });
    expect(errorOf(table(['a', 'y'], ['1', '0']), 'y', ['a', 'a'])).toMatchObject({ code: 'duplicate-column', message: 'feature column "a" is listed twice' });
  });

  it('reports the first error in file order (row-major)', () => {
    // Row 2 has two bad cells; row 3 a bad label. The first bad cell of row 2 wins.
    const raw = table(['a', 'b', 'y'], ['1', '2', '0'], ['3', 'x', ''], ['NaN', '4', '']);
    expect(errorOf(raw)).toMatchObject({ row: 2, column: 'b', code: 'not-numeric' });
    // With the label column first in the table, its missing value comes first.
    const raw2 = table(['y', 'a'], ['0', '1'], ['', 'x']);
    expect(errorOf(raw2)).toMatchObject({ row: 2, column: 'y', code: 'missing-value' });
  });

  it('checks rows before it checks for a single class', () => {
    expect(errorOf(table(['x', 'y'], ['1', '1'], ['oops', '1']))).toMatchObject({ code: 'not-numeric' });
  });
});

describe('sortLabels', () => {
  it('sorts numbers by value, ties by spelling; text by code unit, not locale', () => {
    expect(sortLabels(['10', '2', '1.0', '1', '-3'])).toEqual(['-3', '1', '1.0', '2', '10']);
    expect(sortLabels(['b', 'B', 'a', 'é', '10', '9'])).toEqual(['10', '9', 'B', 'a', 'b', 'é']);
  });
});
