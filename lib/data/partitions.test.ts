import { describe, expect, it } from 'vitest';
import { addDays, dailyPartition, partitionName, planPartitions, retentionCutoff, retentionTable, utcDay, type ExistingPartition } from './partitions';

const d = (s: string) => new Date(s);
const daily = (table: 'predictions' | 'feedback', day: string, rows = 0): ExistingPartition => {
  const p = dailyPartition(table, d(day));
  return { name: p.name, bounds: { from: p.from, to: p.to }, rowEstimate: rows };
};

describe('partition names and bounds', () => {
  it('names a day in UTC, whatever the time of day', () => {
    expect(partitionName('predictions', d('2026-12-03T00:00:00Z'))).toBe('predictions_p20261203');
    expect(partitionName('predictions', d('2026-12-03T23:59:59.999Z'))).toBe('predictions_p20261203');
    expect(partitionName('online_predictions', d('2027-01-01T00:00:00+01:00'))).toBe('online_predictions_p20261231');
  });

  it('bounds a day as [00:00, next 00:00) UTC, across a month and a year end', () => {
    expect(dailyPartition('feedback', d('2026-12-31T15:00:00Z'))).toEqual({ name: 'feedback_p20261231', from: d('2026-12-31T00:00:00Z'), to: d('2027-01-01T00:00:00Z') });
    expect(utcDay(d('2026-02-28T23:00:00-05:00'))).toEqual(d('2026-03-01T00:00:00Z'));
    expect(addDays(d('2026-03-01T00:00:00Z'), -1)).toEqual(d('2026-02-28T00:00:00Z'));
  });

  it('keeps today and the N days before it', () => {
    expect(retentionCutoff(d('2026-12-03T10:00:00Z'), 30)).toEqual(d('2026-11-03T00:00:00Z'));
    expect(retentionCutoff(d('2026-12-03T10:00:00Z'), 0)).toBeNull();
  });
});

describe('planPartitions', () => {
  const now = d('2026-12-03T10:00:00Z');

  it('creates today and the days ahead that no partition covers', () => {
    const existing = [daily('predictions', '2026-12-03'), daily('predictions', '2026-12-05'), { name: 'predictions_default', bounds: null }];
    const plan = planPartitions('predictions', existing, { now, aheadDays: 3, retentionDays: 0 });
    expect(plan.create.map((p) => p.name)).toEqual(['predictions_p20261204', 'predictions_p20261206']);
    expect(plan.drop).toEqual([]);
    expect(plan.cutoff).toBeNull();
  });

  it('creates nothing a legacy partition already covers (it ends at a day boundary after the migration)', () => {
    const legacy: ExistingPartition = { name: 'predictions_legacy', bounds: { from: null, to: d('2026-12-04T00:00:00Z') }, rowEstimate: 1e6 };
    const plan = planPartitions('predictions', [legacy], { now, aheadDays: 1, retentionDays: 90 });
    expect(plan.create.map((p) => p.name)).toEqual(['predictions_p20261204']);
    expect(plan.drop).toEqual([]);
  });

  it('drops exactly the partitions whose every row is past the retention, never the default', () => {
    const existing = [
      { name: 'feedback_legacy', bounds: { from: null, to: d('2026-11-01T00:00:00Z') }, rowEstimate: 500 },
      daily('feedback', '2026-11-01'),
      daily('feedback', '2026-11-02'), // ends 11-03 00:00 = the cutoff: all its rows are older
      daily('feedback', '2026-11-03'), // the first kept day
      daily('feedback', '2026-12-03'),
      { name: 'feedback_default', bounds: null },
    ];
    const plan = planPartitions('feedback', existing, { now, aheadDays: 0, retentionDays: 30 });
    expect(plan.cutoff).toEqual(d('2026-11-03T00:00:00Z'));
    expect(plan.drop.map((p) => p.name)).toEqual(['feedback_legacy', 'feedback_p20261101', 'feedback_p20261102']);
    expect(plan.create).toEqual([]);
  });

  it('drops nothing with a retention of 0 (kept forever)', () => {
    const plan = planPartitions('feedback', [daily('feedback', '2020-01-01')], { now, aheadDays: 0, retentionDays: 0 });
    expect(plan.drop).toEqual([]);
  });

  it('refuses settings that are not whole days', () => {
    expect(() => planPartitions('feedback', [], { now, aheadDays: 1.5, retentionDays: 0 })).toThrow(/aheadDays/);
    expect(() => planPartitions('feedback', [], { now, aheadDays: 1, retentionDays: -1 })).toThrow(/retentionDays/);
  });
});

describe('retentionTable', () => {
  it('keeps first_labels as long as the predictions it settles, every other table by its own retention', () => {
    expect(retentionTable('first_labels')).toBe('predictions');
    for (const t of ['predictions', 'feedback', 'online_predictions', 'shadow_predictions'] as const) expect(retentionTable(t)).toBe(t);
  });
});
