import { describe, expect, it } from 'vitest';
import { parseCsv, rawTableFromRecords } from './csv';
import { datasetDigest, shortDigest } from './digest';
import type { Dataset } from './table';
import { validateTable } from './validate';

const base = (): Dataset => ({
  featureNames: ['a', 'b'],
  labelName: 'y',
  classes: ['0', '1'],
  nRows: 2,
  nFeatures: 2,
  x: Float64Array.from([1, 2, 3, 4]),
  y: Int32Array.from([0, 1]),
});

describe('datasetDigest', () => {
  it('is a sha256 hex string, pinned so the encoding cannot change unnoticed', () => {
    const d = datasetDigest(base());
    expect(d).toMatch(/^[0-9a-f]{64}$/);
    expect(d).toMatchInlineSnapshot(`"04de01d06e230797b57c97e3d66697d186748a928fe45f2de4eec552cbdb98aa"`);
    expect(shortDigest(d)).toBe(d.slice(0, 12));
  });

  it('is equal for equal content from CSV and from JSON', () => {
    const fromCsv = validateTable(parseCsv('a,b,y\n1,2,0\n3.0,4e0,1\n'), { labelColumn: 'y' });
    const fromJson = validateTable(rawTableFromRecords([{ a: 1, b: 2, y: 0 }, { a: 3, b: 4, y: 1 }]), { labelColumn: 'y' });
    if (!fromCsv.ok || !fromJson.ok) throw new Error('fixtures must validate');
    expect(datasetDigest(fromCsv.dataset)).toBe(datasetDigest(fromJson.dataset));
    expect(datasetDigest(fromCsv.dataset)).toBe(datasetDigest(base()));
  });

  it('treats -0 as 0 (same value to a model) and ignores storage beyond nRows', () => {
    const zero = { ...base(), x: Float64Array.from([0, 2, 3, 4]) };
    const negZero = { ...base(), x: Float64Array.from([-0, 2, 3, 4]) };
    expect(datasetDigest(negZero)).toBe(datasetDigest(zero));
    const oversized = { ...base(), x: Float64Array.from([1, 2, 3, 4, 99, 99]), y: Int32Array.from([0, 1, 1]) };
    expect(datasetDigest(oversized)).toBe(datasetDigest(base()));
  });

  it.each<[string, (d: Dataset) => void]>([
    ['a value', (d) => (d.x[3] = 4.000000000000001)],
    ['row order', (d) => ((d.x = Float64Array.from([3, 4, 1, 2])), (d.y = Int32Array.from([1, 0])))],
    ['a label', (d) => (d.y[0] = 1)],
    ['feature order', (d) => (d.featureNames = ['b', 'a'])],
    ['a feature name', (d) => (d.featureNames = ['a', 'c'])],
    ['the label name', (d) => (d.labelName = 'target')],
    ['class names', (d) => (d.classes = ['no', 'yes'])],
    ['class order', (d) => (d.classes = ['1', '0'])],
    ['name boundaries', (d) => (d.featureNames = ['ab', ''])],
    ['the shape', (d) => ((d.nRows = 1), (d.nFeatures = 4), (d.y = Int32Array.from([0])))],
  ])('changes when %s changes', (_what, mutate) => {
    const d = base();
    mutate(d);
    expect(datasetDigest(d)).not.toBe(datasetDigest(base()));
  });
});
