import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { labelOf, parseLabels, scoreRun, tripleKey } from '../../bench/knowledge/score';
import { ONTOLOGY } from '../../lib/knowledge/ontology';

const labels = () =>
  parseLabels(
    [
      '{"meta": {}}',
      '{"alias": "Toyota Motor Corporation", "canonical": "Toyota"}',
      '{"fact": "Toyota|headquartered_in|Toyota City", "true": true}',
      '{"fact": "Toyota|makes|Prius", "true": true}',
      '{"fact": "Kenji Watanabe|lives_in|Fukuoka", "true": true}',
      '{"fact": "Toyota|headquartered_in|Tokyo", "true": false}',
    ].join('\n'),
    'false',
  );

describe('knowledge bench scoring', () => {
  it('maps aliases and the article onto the canonical key', () => {
    const l = labels();
    expect(tripleKey(l, 'Toyota Motor Corporation', 'headquartered_in', 'Toyota City')).toBe('toyota|headquartered_in|toyota city');
    expect(labelOf(l, tripleKey(l, 'Toyota', 'makes', 'the Prius'))).toBe(true);
    expect(labelOf(l, tripleKey(l, 'Toyota', 'makes', 'Corolla'))).toBe(false);
  });

  it('counts recall against every true fact stated, not only the extracted ones', () => {
    const l = labels();
    const accepted = new Map([
      [tripleKey(l, 'Toyota Motor Corporation', 'headquartered_in', 'Toyota City'), true],
      [tripleKey(l, 'Toyota', 'headquartered_in', 'Tokyo'), true],
      [tripleKey(l, 'Toyota', 'makes', 'Prius'), false],
    ]);
    const s = scoreRun(accepted, l);
    expect(s.tp).toBe(1);
    expect(s.fp).toBe(1);
    expect(s.precision).toBeCloseTo(0.5);
    expect(s.recall).toBeCloseTo(1 / 3);
    expect(s.f1).toBeCloseTo((2 * 0.5 * (1 / 3)) / (0.5 + 1 / 3));
    expect(s.missed.sort()).toEqual(['kenji watanabe|lives_in|fukuoka', 'toyota|makes|prius']);
    expect(s.perRelation.headquartered_in).toMatchObject({ stated: 1, accepted: 2, tp: 1, precision: 0.5, recall: 1 });
    expect(s.perRelation.lives_in).toMatchObject({ stated: 1, accepted: 0, recall: 0 });
  });

  it('refuses an unlabelled triple on a set whose labels list every extracted one', () => {
    const l = { ...labels(), unlabelled: 'error' as const };
    expect(() => scoreRun(new Map([['x|born_in|y', true]]), l)).toThrow(/no label/);
  });

  it.each(['heldout', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth'])('the %s set labels every one of the 14 relation types with true facts, and some claims to refuse', (set) => {
    const l = parseLabels(readFileSync(new URL(`../fixtures/knowledge/${set}/labels.jsonl`, import.meta.url), 'utf8'), 'false');
    const relations = new Set([...l.truth].filter(([, t]) => t).map(([k]) => k.split('|')[1]));
    expect([...relations].sort()).toEqual(Object.keys(ONTOLOGY).sort());
    expect([...l.truth.values()].filter((t) => !t).length).toBeGreaterThanOrEqual(20);
  });
});
