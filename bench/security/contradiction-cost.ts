/**
 * What the gateway's client-contradiction check costs per feedback request: the one bounded query of
 * serving/feedback-trust.ts against the local stack's PostgreSQL, for labels of a model's newest
 * predictions, without and with the other clients' counts cached (the gateway's default, 2 s).
 * The window is a year, so every stored prediction of the model is inside it: the worst case of
 * the bounded reads (maxRows per version).
 *
 *   npx tsx bench/security/contradiction-cost.ts [model]      (default: the model with most predictions)
 */
import pg from 'pg';
import { loadConfig } from '../../config/index';
import { DEFAULT_CLIENT_CONTRADICTION } from '../../lib/feedback/quality';
import { clientContradictionFlags, OthersCache } from '../../serving/feedback-trust';

const config = loadConfig();
const db = new pg.Pool({ connectionString: config.postgres.url, max: 1, options: '-c jit=off' });
const model =
  process.argv[2] ?? (await db.query<{ model: string }>(`select model from predictions group by model order by count(*) desc limit 1`)).rows[0]?.model;
if (!model) throw new Error('no predictions stored: run the demo or `flywheel traffic replay` first');
const stats = await db.query<{ n: string; versions: string }>(`select count(*) as n, count(distinct version) as versions from predictions where model = $1`, [model]);
const { rows } = await db.query<{ id: string }>(`select id from predictions where model = $1 order by created_at desc limit 100`, [model]);
const items = rows.map((r) => ({ predictionId: r.id, kind: 'label' as const, value: null, label: 'x', event: null, comment: null, source: null, unitKey: null, idempotencyKey: null }));
const opts = { ...DEFAULT_CLIENT_CONTRADICTION, windowMs: 365 * 86_400_000 };
console.log(`model ${model}: ${stats.rows[0]!.n} predictions over ${stats.rows[0]!.versions} versions; maxRows ${opts.maxRows}\n`);
console.log('| others counts | batch | median ms | p90 ms |');
console.log('| --- | --- | --- | --- |');
for (const [name, cache] of [['read with every batch', undefined], ['cached (warm)', new OthersCache(3_600_000)]] as const) {
  for (const n of [1, 100]) {
    const times: number[] = [];
    for (let i = 0; i < 41; i++) {
      const t = performance.now();
      await clientContradictionFlags(db, 'key:bench-contradiction-cost', items.slice(0, n), opts, cache);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    console.log(`| ${name} | ${n} | ${times[20]!.toFixed(1)} | ${times[36]!.toFixed(1)} |`);
  }
}
await db.end();
