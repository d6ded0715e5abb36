/**
 * RawTable → Dataset, rejecting anything the trainer cannot use. Runs at the edge (CLI, activity
 * start) so a bad file fails once with a message naming the column and row, instead of a model
 * quietly training on NaN.
 */
import type { Dataset, RawTable } from './table';

export type DataValidationErrorCode =
  | 'empty'
  | 'missing-column'
  | 'duplicate-column'
  | 'not-numeric'
  | 'not-finite'
  | 'missing-value'
  | 'single-class'
  | 'ragged-row';

export interface DataValidationError {
  code: DataValidationErrorCode;
  /** One line, naming the column and row where there is one. */
  message: string;
  column?: string;
  /** 1-based data row number (the header is not counted). */
  row?: number;
}

export interface TableSpec {
  labelColumn: string;
  /** Default: every column but the label, in table order. */
  featureColumns?: string[];
}

export type ValidationResult = { ok: true; dataset: Dataset } | { ok: false; error: DataValidationError };

// Plain decimal notation only: Number() would also take "0x1f", "0b1" and "", which in a data
// file are far more likely to be mistakes than intended values.
const DECIMAL = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
const NAN = /^\s*[+-]?nan\s*$/i;
const INF = /^\s*([+-]?)inf(?:inity)?\s*$/i;

export function validateTable(raw: RawTable, spec: TableSpec): ValidationResult {
  const fail = (code: DataValidationErrorCode, message: string, column?: string, row?: number): ValidationResult => ({
    ok: false,
    error: { code, message, ...(column !== undefined && { column }), ...(row !== undefined && { row }) },
  });

  if (raw.rows.length === 0) return fail('empty', 'dataset has no rows');
  const columnList = raw.columns.join(', ');
  const position = new Map(raw.columns.map((c, k) => [c, k]));
  const label = spec.labelColumn;
  const labelPos = position.get(label);
  if (labelPos === undefined) return fail('missing-column', `label column "${label}" is missing (columns: ${columnList})`, label);

  const featureNames = spec.featureColumns ?? raw.columns.filter((c) => c !== label);
  const seen = new Set<string>();
  for (const f of featureNames) {
    if (!position.has(f)) return fail('missing-column', `feature column "${f}" is missing (columns: ${columnList})`, f);
    if (f === label) return fail('duplicate-column', `column "${f}" is the label, so it cannot also be a feature`, f);
    if (seen.has(f)) return fail('duplicate-column', `feature column "${f}" is listed twice`, f);
    seen.add(f);
  }
  if (featureNames.length === 0) return fail('empty', `dataset has no feature columns (columns: ${columnList})`);

  // Visit the used cells of each row in table order, so "first error" means first in the file.
  const used = [{ pos: labelPos, feature: -1 }, ...featureNames.map((f, j) => ({ pos: position.get(f)!, feature: j }))].sort(
    (a, b) => a.pos - b.pos,
  );
  const usedPos = Int32Array.from(used, (u) => u.pos);
  const usedFeature = Int32Array.from(used, (u) => u.feature);

  const nRows = raw.rows.length;
  const d = featureNames.length;
  const nCols = raw.columns.length;
  const x = new Float64Array(nRows * d);
  const firstSeenId = new Int32Array(nRows);
  const labelIds = new Map<string, number>();

  for (let r = 0; r < nRows; r++) {
    const row = raw.rows[r];
    const rowNo = r + 1;
    if (row.length !== nCols) return fail('ragged-row', `row ${rowNo} has ${row.length} ${row.length === 1 ? 'cell' : 'cells'}, expected ${nCols} (one per column)`, undefined, rowNo);
    for (let k = 0; k < usedPos.length; k++) {
      const cell = row[usedPos[k]];
      const j = usedFeature[k];
      const column = j < 0 ? label : featureNames[j];
      if (j < 0) {
        const value = cell.trim();
        if (value === '') return fail('missing-value', `column "${column}", row ${rowNo}: value is missing`, column, rowNo);
        let id = labelIds.get(value);
        if (id === undefined) labelIds.set(value, (id = labelIds.size));
        firstSeenId[r] = id;
        continue;
      }
      const v = +cell;
      if (Number.isFinite(v) && DECIMAL.test(cell)) {
        x[r * d + j] = v;
        continue;
      }
      const problem = cellProblem(cell, v);
      return fail(problem.code, `column "${column}", row ${rowNo}: ${problem.message}`, column, rowNo);
    }
  }

  const classes = sortLabels([...labelIds.keys()]);
  if (classes.length < 2) return fail('single-class', `label column "${label}" has a single class "${classes[0]}": need at least two`, label);
  const remap = new Int32Array(classes.length);
  classes.forEach((value, k) => (remap[labelIds.get(value)!] = k));
  const y = new Int32Array(nRows);
  for (let r = 0; r < nRows; r++) y[r] = remap[firstSeenId[r]];

  return { ok: true, dataset: { featureNames: featureNames.slice(), labelName: label, classes, nRows, nFeatures: d, x, y } };
}

function cellProblem(cell: string, parsed: number): { code: DataValidationErrorCode; message: string } {
  if (cell.trim() === '') return { code: 'missing-value', message: 'value is missing' };
  if (NAN.test(cell)) return { code: 'not-finite', message: 'value is NaN' };
  const inf = INF.exec(cell);
  if (inf) return { code: 'not-finite', message: `value is ${inf[1] === '-' ? '-' : ''}Infinity` };
  if (DECIMAL.test(cell) && !Number.isFinite(parsed)) return { code: 'not-finite', message: `"${cell.trim()}" overflows to ${parsed < 0 ? '-' : ''}Infinity` };
  return { code: 'not-numeric', message: `"${cell}" is not a number` };
}

/**
 * Numeric labels sort by value ("2" before "10"), others by code unit — never by locale, which
 * would make class order (and so the model's output order) depend on the machine.
 */
export function sortLabels(labels: string[]): string[] {
  const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  if (labels.every((l) => DECIMAL.test(l))) return labels.slice().sort((a, b) => Number(a) - Number(b) || byCodeUnit(a, b));
  return labels.slice().sort(byCodeUnit);
}
