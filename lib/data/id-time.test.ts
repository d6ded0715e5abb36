import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../serving/uuid';
import { ID_TIME_SLACK_MS, createdNearIdSql, groupByIdTime, idTimeBounds, uuidv7TimeOrNull } from './id-time';

describe('uuidv7TimeOrNull', () => {
  it('reads the milliseconds a UUIDv7 was made at', () => {
    for (const t of [0, 1, 1_700_000_000_123, 2 ** 48 - 1]) expect(uuidv7TimeOrNull(uuidv7(t))).toBe(t);
  });
  it('gives null for ids of other versions and for non-ids', () => {
    expect(uuidv7TimeOrNull('6e57b6b1-2272-45e8-b3a1-91a7b804d126')).toBeNull();
    expect(uuidv7TimeOrNull('00000000-0000-4000-8000-000000000001')).toBeNull();
    expect(uuidv7TimeOrNull('not-an-id')).toBeNull();
  });
});

describe('idTimeBounds', () => {
  it('covers every id with the slack on both sides', () => {
    const b = idTimeBounds([uuidv7(5_000_000), uuidv7(9_000_000), uuidv7(7_000_000)]);
    expect(b.from?.getTime()).toBe(5_000_000 - ID_TIME_SLACK_MS);
    expect(b.to?.getTime()).toBe(9_000_000 + ID_TIME_SLACK_MS);
  });
  it('bounds nothing when any id carries no time, or there are none', () => {
    expect(idTimeBounds([uuidv7(5_000_000), '6e57b6b1-2272-45e8-b3a1-91a7b804d126'])).toEqual({ from: null, to: null });
    expect(idTimeBounds([])).toEqual({ from: null, to: null });
  });
});

describe('createdNearIdSql', () => {
  it('falls back to an unbounded range when the id has no time', () => {
    const sql = createdNearIdSql('p.created_at', 'f.prediction_id');
    expect(sql).toMatch(/^p\.created_at between coalesce\(.*'-infinity'\) and coalesce\(.*'infinity'\)$/);
    expect(sql).toContain("substr(f.prediction_id::text, 15, 1) = '7'");
  });
});

describe('groupByIdTime', () => {
  const now = Date.UTC(2026, 11, 4, 12);
  const day = 86_400_000;

  it('keeps ids of the same hours together and gives an old or forged id a group of its own', () => {
    const recent = [uuidv7(now), uuidv7(now - 30 * 60_000), uuidv7(now + 1_000)];
    const forged = uuidv7(now - 300 * day);
    const groups = groupByIdTime([recent[0]!, forged, recent[1]!, recent[2]!]);
    expect(groups).toEqual([[forged], [recent[1], recent[0], recent[2]]]);
    // Each group's bounds cover its own hours only.
    const b = idTimeBounds(groups[1]!);
    expect(b.to!.getTime() - b.from!.getTime()).toBe(2 * ID_TIME_SLACK_MS + 30 * 60_000 + 1_000);
  });

  it('chains neighbours within twice the slack, splits past it, and puts non-v7 ids apart', () => {
    const a = uuidv7(now);
    const b = uuidv7(now + 2 * ID_TIME_SLACK_MS);
    const c = uuidv7(now + 4 * ID_TIME_SLACK_MS + 1);
    const v4 = '3f1c2a4e-8b7d-4c1a-9e2f-1a2b3c4d5e6f';
    expect(groupByIdTime([c, v4, b, a])).toEqual([[a, b], [c], [v4]]);
    expect(groupByIdTime([])).toEqual([]);
  });
});
