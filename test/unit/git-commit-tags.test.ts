import { describe, expect, it } from 'vitest';
import { gitCommitTags } from '../../activities/mlflow-model';

describe('gitCommitTags', () => {
  it('records the commit under Flywheel’s tag and under MLflow’s standard tag', () => {
    expect(gitCommitTags('0d03f14aa')).toEqual([
      { key: 'flywheel.git_commit', value: '0d03f14aa' },
      { key: 'mlflow.source.git.commit', value: '0d03f14aa' },
    ]);
  });
  it('gives MLflow the commit itself for a dirty tree, as MLflow does; Flywheel’s tag keeps the mark', () => {
    expect(gitCommitTags('abc123-dirty')).toEqual([
      { key: 'flywheel.git_commit', value: 'abc123-dirty' },
      { key: 'mlflow.source.git.commit', value: 'abc123' },
    ]);
  });
  it('writes no MLflow commit when the commit is unknown', () => {
    expect(gitCommitTags('unknown')).toEqual([{ key: 'flywheel.git_commit', value: 'unknown' }]);
    expect(gitCommitTags('')).toEqual([{ key: 'flywheel.git_commit', value: '' }]);
  });
});
