import { describe, expect, it } from 'vitest';
import { formatDatasetReference, parseDatasetReference, productionSince, withProductionModel } from './reference';

const BUILTINS = ['iris', 'penguins'];

describe('parseDatasetReference', () => {
  it('accepts builtin names with and without the prefix', () => {
    expect(parseDatasetReference('iris', BUILTINS)).toEqual({ ok: true, value: { kind: 'builtin', name: 'iris' } });
    expect(parseDatasetReference('builtin:penguins', BUILTINS)).toEqual({ ok: true, value: { kind: 'builtin', name: 'penguins' } });
  });

  it('names the unknown dataset and lists the known ones', () => {
    const r = parseDatasetReference('mnist', BUILTINS);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/^unknown dataset "mnist" \(built-in: iris, penguins;/);
    const b = parseDatasetReference('builtin:nope', BUILTINS);
    if (!b.ok) expect(b.message).toMatch(/unknown dataset "nope"/);
    else throw new Error('expected failure');
  });

  it('parses synthetic specs with defaults and rejects bad fields', () => {
    const r = parseDatasetReference('synthetic:rows=1000,features=5,classes=3,seed=7', BUILTINS);
    expect(r).toEqual({ ok: true, value: { kind: 'synthetic', rows: 1000, features: 5, classes: 3, seed: 7, separation: 1.5, labelNoise: 0.01 } });
    expect(parseDatasetReference('synthetic:rows=5', BUILTINS)).toEqual({ ok: false, message: 'synthetic dataset: rows must be between 10 and 20000000 (got 5)' });
    expect(parseDatasetReference('synthetic:rows=1.5', BUILTINS)).toEqual({ ok: false, message: 'synthetic dataset: rows must be an integer (got 1.5)' });
    expect(parseDatasetReference('synthetic:colour=red', BUILTINS)).toEqual({
      ok: false,
      message: 'synthetic dataset: unknown field "colour" (known: rows, features, classes, seed, separation, noise)',
    });
    expect(parseDatasetReference('synthetic:rows', BUILTINS)).toEqual({ ok: false, message: 'synthetic dataset: "rows" is not key=value' });
  });

  it('recognises files by prefix or extension', () => {
    expect(parseDatasetReference('data/x.csv', BUILTINS)).toEqual({ ok: true, value: { kind: 'file', path: 'data/x.csv', format: 'csv' } });
    expect(parseDatasetReference('file:/tmp/a.JSON', BUILTINS)).toEqual({ ok: true, value: { kind: 'file', path: '/tmp/a.JSON', format: 'json' } });
    expect(parseDatasetReference('file:/tmp/a.parquet', BUILTINS)).toEqual({ ok: false, message: 'dataset file /tmp/a.parquet must end in .csv or .json' });
  });

  it('formats canonically so equal references give equal strings', () => {
    const a = parseDatasetReference('synthetic:seed=7,rows=1000', BUILTINS);
    const b = parseDatasetReference('synthetic:rows=1000,seed=7', BUILTINS);
    if (!a.ok || !b.ok) throw new Error('parse failed');
    expect(formatDatasetReference(a.value)).toBe(formatDatasetReference(b.value));
  });
});

describe('stored:<digest>', () => {
  const digest = 'ab'.repeat(32);
  it('takes a full sha256 digest (any case) and formats it back', () => {
    const r = parseDatasetReference(`stored:${digest.toUpperCase()}`, BUILTINS);
    expect(r).toEqual({ ok: true, value: { kind: 'stored', digest } });
    if (r.ok) expect(formatDatasetReference(r.value)).toBe(`stored:${digest}`);
  });
  it('refuses a short or non-hex digest, saying what it must be', () => {
    for (const bad of ['stored:abc', `stored:${'g'.repeat(64)}`, 'stored:']) {
      const r = parseDatasetReference(bad, BUILTINS);
      expect(r.ok || r.message).toMatch(/must be a full sha256 digest/);
    }
  });
});

describe('production:<model>:<window>[+<dataset>:<share>]', () => {
  it('parses the window, the model (or none, for the command to fill in) and a mix', () => {
    expect(parseDatasetReference('production:iris:7d', BUILTINS)).toEqual({ ok: true, value: { kind: 'production', model: 'iris', window: '7d' } });
    expect(parseDatasetReference('production:6h+iris:0.3', BUILTINS)).toEqual({ ok: true, value: { kind: 'production', model: '', window: '6h', mix: { dataset: 'iris', share: 0.3 } } });
    expect(withProductionModel('production:7d+iris:0.3', 'churn', BUILTINS)).toBe('production:churn:7d+iris:0.3');
    expect(withProductionModel('production:iris:7d', 'churn', BUILTINS)).toBe('production:iris:7d');
    expect(withProductionModel('iris', 'churn', BUILTINS)).toBe('iris');
  });
  it('refuses a bad window or mix, naming the form', () => {
    const w = parseDatasetReference('production:a-week', BUILTINS);
    expect(w.ok || w.message).toMatch(/window "a-week" must be a duration/);
    const m = parseDatasetReference('production:7d+iris:2', BUILTINS);
    expect(m.ok || m.message).toMatch(/mix "iris:2" must be <dataset>:<share>/);
  });
  it('cuts the window at @<since> (a drift event), and keeps the mix after it', () => {
    const since = '2026-12-03T10:00:00.000Z';
    expect(parseDatasetReference(`production:iris:7d@${since}+iris:0.3`, BUILTINS)).toEqual({ ok: true, value: { kind: 'production', model: 'iris', window: '7d', since, mix: { dataset: 'iris', share: 0.3 } } });
    expect(productionSince('production:churn:1h+iris:0.3', since, BUILTINS)).toBe(`production:churn:1h@${since}+iris:0.3`);
    expect(productionSince('iris', since, BUILTINS)).toBe('iris');
    const r = parseDatasetReference(productionSince('production:churn:1h', since, BUILTINS), BUILTINS);
    expect(r.ok && formatDatasetReference(r.value)).toBe(`production:churn:1h@${since}`);
    const bad = parseDatasetReference('production:iris:7d@yesterday', BUILTINS);
    expect(bad.ok || bad.message).toMatch(/"@yesterday" must be a UTC time/);
  });
});
