/**
 * What the first-label claim (migration 0017, serving/feedback.ts) costs the feedback writer: the
 * same statement (storeFeedbackGroup) storing groups of labels, each of which claims its prediction
 * in first_labels, against groups of ratings of the same size, which claim nothing. Rounds
 * alternate label and rating groups on one connection, so both see the same database state.
 *
 *   npx tsx bench/feedback/first-label-cost.ts [--groups 200] [--size 100] [--json]
 *
 * Needs the local stack's PostgreSQL (flywheel up --no-workers); works in a database of its own
 * (flywheel_bench_first_label), every item keyed, as the gateway's clients send them.
 */
import pg from 'pg';
import { loadConfig } from '../../config/index';
import { migrate } from '../../db/migrate';
import { createScratchDatabase, dropDatabase } from '../../scripts/stack/postgres';
import { storeFeedbackGroup, type ScoredItem } from '../../serving/feedback';
import { uuidv7 } from '../../serving/uuid';
import { positiveFlag as flag } from '../flags';

const DB = 'flywheel_bench_first_label';
const opts = { groups: flag('groups', 200), size: flag('size', 100), json: process.argv.includes('--json') };
let seq = 0;

function group(kind: 'label' | 'rating'): ScoredItem[] {
  return Array.from({ length: opts.size }, (_, i) => ({
    predictionId: uuidv7(),
    kind,
    value: kind === 'rating' ? 1 + (i % 5) : null,
    label: kind === 'label' ? 'a' : null,
    event: null,
    comment: null,
    source: null,
    unitKey: null,
    idempotencyKey: `k-${seq++}`,
    quality: 1,
    qualityFlags: [],
    sentiment: null,
    sentimentLabel: null,
  }));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const config = loadConfig();
  const url = await createScratchDatabase(config, DB);
  await migrate(url);
  const db = new pg.Pool({ connectionString: url, max: 1 });
  const ms: Record<'label' | 'rating', number[]> = { label: [], rating: [] };
  try {
    // Warm-up: plans cached, first pages of the indexes in memory.
    for (let i = 0; i < 10; i++) for (const kind of ['label', 'rating'] as const) await storeFeedbackGroup(db, group(kind));
    for (let i = 0; i < opts.groups; i++) {
      for (const kind of i % 2 === 0 ? (['label', 'rating'] as const) : (['rating', 'label'] as const)) {
        const items = group(kind);
        const t0 = performance.now();
        const out = await storeFeedbackGroup(db, items);
        ms[kind].push(performance.now() - t0);
        if (out.some((o) => o.status !== 201)) throw new Error(`a ${kind} was not stored: ${JSON.stringify(out.find((o) => o.status !== 201))}`);
      }
    }
  } finally {
    await db.end();
    await dropDatabase(config, DB);
  }
  const label = median(ms.label);
  const rating = median(ms.rating);
  const result = {
    groups: opts.groups,
    size: opts.size,
    labelMedianMs: +label.toFixed(3),
    ratingMedianMs: +rating.toFixed(3),
    ratio: +(label / rating).toFixed(3),
    claimUsPerLabel: +(((label - rating) * 1000) / opts.size).toFixed(1),
  };
  if (opts.json) {
    console.log(JSON.stringify(result));
    return;
  }
  console.log(`groups of ${opts.size} keyed items, ${opts.groups} of each kind, one connection, alternating`);
  console.log(`  labels (claim first_labels)  median ${result.labelMedianMs} ms per group`);
  console.log(`  ratings (no claim)           median ${result.ratingMedianMs} ms per group`);
  console.log(`  ratio labels/ratings ${result.ratio}; the claim costs about ${result.claimUsPerLabel} µs per label`);
}

await main();
