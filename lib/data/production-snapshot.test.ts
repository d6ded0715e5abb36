import { describe, expect, it } from 'vitest';
import { mixWithReference, SnapshotBuilder } from './production-snapshot';
import type { Dataset } from './table';

describe('SnapshotBuilder', () => {
  it('keeps labelled rows with complete features in arrival order and counts what it left out', () => {
    const b = new SnapshotBuilder(2, ['a', 'b']);
    b.add({ version: '1', features: [0.1, 2], label: 'b' });
    b.add({ version: '1', features: null, label: 'a' }); // features not kept
    b.add({ version: '2', features: [3, 4], label: null }); // no label in the window
    b.add({ version: '2', features: [5, null], label: 'a' }); // a dropped column
    b.add({ version: '2', features: [6, 7], label: 'zebra' }); // a class the model does not know
    for (let i = 0; i < 2000; i++) b.add({ version: '2', features: [i, -i], label: 'a' }); // past the first allocation
    const c = b.counted();
    expect(c).toEqual({ predictions: 2005, withFeatures: 2004, labelled: 2003, untrustedLabel: 0, rows: 2001, incompleteFeatures: 1, unknownLabel: 1, versions: { '1': 1, '2': 2000 }, labelCoverage: 2003 / 2004 });
    const ds = b.dataset(['f', 'g'], 'label', ['a', 'b']);
    expect(ds.nRows).toBe(2001);
    expect([ds.x[0], ds.x[1], ds.y[0]]).toEqual([Math.fround(0.1), 2, 1]);
    expect([ds.x[2 * 2000], ds.x[2 * 2000 + 1], ds.y[2000]]).toEqual([1999, -1999, 0]);
  });

  it('never keeps a label from untrusted feedback: the row is counted apart and not in the coverage', () => {
    const b = new SnapshotBuilder(1, ['a', 'b']);
    b.add({ version: '1', features: [1], label: 'a', trusted: true });
    b.add({ version: '1', features: [2], label: 'b', trusted: false }); // an untrusted client's label
    b.add({ version: '1', features: [3], label: 'zebra', trusted: false }); // untrusted first, whatever the label
    b.add({ version: '1', features: [4], label: 'b' }); // no trust information: trusted (a caller outside the SQL)
    b.add({ version: '1', features: [5], label: null, trusted: false }); // unlabelled
    expect(b.counted()).toEqual({ predictions: 5, withFeatures: 5, labelled: 2, untrustedLabel: 2, rows: 2, incompleteFeatures: 0, unknownLabel: 0, versions: { '1': 2 }, labelCoverage: 2 / 5 });
    const ds = b.dataset(['f'], 'label', ['a', 'b']);
    expect([Array.from(ds.x), Array.from(ds.y)]).toEqual([[1, 4], [0, 1]]);
  });

  it('an empty window: no rows, coverage 0', () => {
    expect(new SnapshotBuilder(3, ['a']).counted()).toMatchObject({ predictions: 0, rows: 0, labelCoverage: 0 });
  });
});

describe('mixWithReference', () => {
  const prod: Dataset = { featureNames: ['f'], labelName: 'y', classes: ['a', 'b'], nRows: 7, nFeatures: 1, x: Float64Array.from([1, 2, 3, 4, 5, 6, 7]), y: Int32Array.from([0, 1, 0, 1, 0, 1, 0]) };
  const ref: Dataset = { featureNames: ['f'], labelName: 'y', classes: ['b', 'a'], nRows: 10, nFeatures: 1, x: Float64Array.from({ length: 10 }, (_, i) => 100 + i), y: Int32Array.from({ length: 10 }, (_, i) => i % 2) };

  it('makes `share` of the rows reference rows, first, with classes matched by name; production rows last, in order', () => {
    const { dataset, referenceRows } = mixWithReference(prod, ref, 0.3, 1);
    expect(referenceRows).toBe(3);
    expect(dataset.nRows).toBe(10);
    expect(Array.from(dataset.x.slice(3))).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (let i = 0; i < 3; i++) {
      const r = dataset.x[i]! - 100;
      expect(dataset.classes[dataset.y[i]!]).toBe(ref.classes[r % 2]);
    }
    expect(new Set(Array.from(dataset.x.slice(0, 3))).size).toBe(3);
  });

  it('refuses a reference of another width or with a class the model does not know', () => {
    expect(() => mixWithReference(prod, { ...ref, nFeatures: 2, x: new Float64Array(20) }, 0.3, 1)).toThrow(/2 features/);
    expect(() => mixWithReference(prod, { ...ref, classes: ['a', 'c'] }, 0.3, 1)).toThrow(/class "c"/);
    expect(() => mixWithReference(prod, ref, 1, 1)).toThrow(/between 0 and 1/);
  });
});
