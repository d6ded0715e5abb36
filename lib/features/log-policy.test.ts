import { describe, expect, it } from 'vitest';
import { arrayLiteral, DailyBudget, decide, hashValue, maskedRow, type FeatureLogPolicy } from './log-policy';

const all: FeatureLogPolicy = { sampleRate: 1, dailyRowBudget: 3, drop: [], hash: [] };
const DAY = 86_400_000;

describe('feature log policy', () => {
  it('keeps rows until the day budget is spent, per model, and starts afresh the next UTC day', () => {
    const b = new DailyBudget();
    const t = 10 * DAY + 5;
    expect([1, 2, 3, 4].map(() => decide(all, b, 'm', 0.5, t))).toEqual(['logged', 'logged', 'logged', 'over-budget']);
    expect(decide(all, b, 'other', 0.5, t)).toBe('logged');
    expect(decide(all, b, 'm', 0.5, 11 * DAY)).toBe('logged');
  });

  it('samples before spending budget: a sampled-out row costs nothing', () => {
    const b = new DailyBudget();
    const half = { ...all, sampleRate: 0.5, dailyRowBudget: 1 };
    expect(decide(half, b, 'm', 0.7, 0)).toBe('sampled-out');
    expect(decide(half, b, 'm', 0.2, 0)).toBe('logged');
    expect(decide(half, b, 'm', 0.2, 0)).toBe('over-budget');
    expect(decide({ ...all, sampleRate: 0 }, new DailyBudget(), 'm', 0, 0)).toBe('sampled-out');
  });

  it('drops and hashes the named columns only; equal values hash equal, the raw value is gone', () => {
    const m = Float32Array.from([1.5, 42, 7, 3, 2.5, 42, 8, 3]);
    const p = { ...all, drop: [2], hash: [1, 9] };
    const r0 = maskedRow(m, 0, 4, p, 'model');
    const r1 = maskedRow(m, 1, 4, p, 'model');
    expect(r0[0]).toBe(1.5);
    expect(r0[2]).toBeNull();
    expect(r0[3]).toBe(3);
    expect(r0[1]).not.toBe(42);
    expect(r0[1]).toBe(r1[1]);
    expect(Number.isInteger(r0[1]) && (r0[1] as number) < 2 ** 24).toBe(true);
    expect(hashValue(42, 1, 'model')).not.toBe(hashValue(43, 1, 'model'));
    expect(hashValue(42, 1, 'model')).not.toBe(hashValue(42, 1, 'other'));
  });

  it('writes a PostgreSQL array literal with NULLs', () => {
    expect(arrayLiteral([1.5, null, -2])).toBe('{1.5,NULL,-2}');
  });
});
