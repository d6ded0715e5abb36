import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../serving/uuid';
import { ID_TIME_SLACK_MS, createdNearIdSql, idTimeBounds, uuidv7TimeOrNull } from './id-time';

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
