import { describe, expect, it } from 'vitest';
import { datasetSourceType } from './source-type';

describe('datasetSourceType', () => {
  it('is the scheme of a dataset reference', () => {
    expect(datasetSourceType('builtin:iris')).toBe('builtin');
    expect(datasetSourceType('production:m:1h@2026-12-03T10:00:00Z')).toBe('production');
    expect(datasetSourceType('file:/data/x.csv')).toBe('file');
  });

  it('is local for what MLflow would refuse: no scheme, a long prefix, a prefix with spaces', () => {
    expect(datasetSourceType('/data/x.csv')).toBe('local');
    expect(datasetSourceType(`${'a'.repeat(37)}:x`)).toBe('local');
    expect(datasetSourceType('hyperplane drift e2e: 2000 rows')).toBe('local');
    expect(datasetSourceType(':x')).toBe('local');
  });

  it('never exceeds the 36 characters MLflow stores', () => {
    expect(datasetSourceType(`${'a'.repeat(36)}:x`)).toHaveLength(36);
  });
});
