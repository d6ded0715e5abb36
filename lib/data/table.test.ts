import { describe, expect, it } from 'vitest';
import { selectRows, type Dataset } from './table';

const ds: Dataset = {
  featureNames: ['a', 'b'],
  labelName: 'y',
  classes: ['n', 'p'],
  nRows: 3,
  nFeatures: 2,
  x: Float64Array.from([1, 2, 3, 4, 5, 6]),
  y: Int32Array.from([0, 1, 0]),
};

describe('selectRows', () => {
  it('copies the given rows in the given order, repeats allowed', () => {
    const s = selectRows(ds, Uint32Array.from([2, 0, 2]));
    expect(s.nRows).toBe(3);
    expect([...s.x]).toEqual([5, 6, 1, 2, 5, 6]);
    expect([...s.y]).toEqual([0, 0, 0]);
    expect(s.featureNames).toEqual(['a', 'b']);
    expect(s.classes).toEqual(['n', 'p']);
  });

  it('does not share storage with the source', () => {
    const s = selectRows(ds, Uint32Array.from([0]));
    s.x[0] = 99;
    s.classes.push('z');
    expect(ds.x[0]).toBe(1);
    expect(ds.classes).toEqual(['n', 'p']);
  });

  it('handles no rows and rejects out-of-range indices', () => {
    expect(selectRows(ds, new Uint32Array(0)).nRows).toBe(0);
    expect(() => selectRows(ds, Uint32Array.from([3]))).toThrow('row index 3 is out of range (dataset has 3 rows)');
  });
});
