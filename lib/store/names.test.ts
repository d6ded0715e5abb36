import { describe, expect, it } from 'vitest';
import { blobKey, cachePath, checkName, sharedNameOf, nameUnder, refKey, storeNameOf } from './names';

const D = 'a'.repeat(64);

describe('store names', () => {
  it('keys a blob by its sha256 and refuses anything else', () => {
    expect(blobKey(D)).toBe(`sha256/${D}`);
    expect(() => blobKey('abc')).toThrow(/sha256/);
    expect(() => blobKey(D.toUpperCase())).toThrow(/sha256/);
  });

  it('names a file by its path relative to the data folder', () => {
    expect(nameUnder('/data/cpu', `/data/cpu/datasets/${D}/x.f64`)).toBe(`datasets/${D}/x.f64`);
    expect(nameUnder('/data/cpu/', '/data/cpu/artifacts/wf/run/model.onnx')).toBe('artifacts/wf/run/model.onnx');
    expect(nameUnder('/data/cpu', '/data/cpu2/x')).toBeUndefined();
    expect(nameUnder('/data/cpu', '/data/cpu')).toBeUndefined();
  });

  it('finds a shared file in another worker\'s folder by its part from datasets/, artifacts/ or checkpoints/ on', () => {
    expect(sharedNameOf(`/elsewhere/wf/datasets/${D}/splits/seed1-holdout0.2/train.u32`)).toBe(`datasets/${D}/splits/seed1-holdout0.2/train.u32`);
    expect(sharedNameOf(`/x/datasets/${D.slice(1)}/x.f64`)).toBeUndefined();
    expect(sharedNameOf('/x/artifacts/wf/run/model.onnx')).toBe('artifacts/wf/run/model.onnx');
    expect(sharedNameOf('/x/checkpoints/wf/run/1/epoch.json')).toBe('checkpoints/wf/run/1/epoch.json');
    expect(sharedNameOf('/x/logs/worker.log')).toBeUndefined();
    // A knowledge transcript by its digest; a folder merely named `knowledge` is not shared.
    expect(sharedNameOf(`/cli/home/knowledge/${D}.jsonl`)).toBe(`knowledge/${D}.jsonl`);
    expect(sharedNameOf(`/srv/knowledge/data/knowledge/${D}.jsonl`)).toBe(`knowledge/${D}.jsonl`);
    expect(sharedNameOf('/x/knowledge/notes.jsonl')).toBeUndefined();
    expect(sharedNameOf(`/x/knowledge/${D}.jsonl/extra`)).toBeUndefined();
    expect(storeNameOf('/mine', `/theirs/datasets/${D}/meta.json`)).toBe(`datasets/${D}/meta.json`);
    expect(storeNameOf('/mine', '/mine/run/pid')).toBe('run/pid');
  });

  it('refuses names that could leave the data folder', () => {
    expect(() => checkName('datasets/../../etc/passwd')).toThrow(/segments/);
    expect(() => checkName('a//b')).toThrow(/segments/);
    expect(() => refKey('/abs')).toThrow(/segments/);
    expect(refKey(`datasets/${D}/x.f64`)).toBe(`refs/datasets/${D}/x.f64.json`);
  });

  it('caches a named file at the same relative path under this worker\'s folder', () => {
    expect(cachePath('/data/gpu', `datasets/${D}/y.i32`)).toBe(`/data/gpu/datasets/${D}/y.i32`);
  });
});
