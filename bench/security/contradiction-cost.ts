/**
 * What the gateway's client-contradiction check costs per feedback request: the bounded queries of
 * serving/feedback-trust.ts against the local stack's PostgreSQL, for labels of a model's newest
 * predictions, without and with the counts cached (the gateway's default, 2 s), and with the batch's
 * predictions known in memory (labels for this gateway's own recent answers: no query at all).
 * The window is a year, so every stored prediction of the model is inside it: the worst case of
 * the bounded reads (maxRows per version).
 *
 *   npx tsx bench/security/contradiction-cost.ts [model]      (default: the model with most predictions)
 */
import pg from 'pg';
import { loadConfig } from '../../config/index';
import { DEFAULT_CLIENT_CONTRADICTION } from '../../lib/feedback/quality';
import { clientContradictionFlags, MineCache, OthersCache } from '../../serving/feedback-trust';

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
console.log('| counts | batch predictions | batch | median ms | p90 ms |');
console.log('| --- | --- | --- | --- | --- |');
const served = new Map((await db.query<{ id: string; version: string; predicted_label: string | null }>(`select id, version, predicted_label from predictions where id = any($1::uuid[])`, [rows.map((r) => r.id)])).rows.map((r) => [r.id, { model, version: r.version, predicted: r.predicted_label }]));
const modes = [
  ['read with every batch', 'read', {}],
  ['cached (warm)', 'read', { others: new OthersCache(3_600_000), mine: new MineCache(3_600_000) }],
  ['cached (warm)', "this gateway's (memory)", { others: new OthersCache(3_600_000), mine: new MineCache(3_600_000), servedHere: (id: string) => served.get(id) }],
] as const;
for (const [name, batch, caches] of modes) {
  for (const n of [1, 100]) {
    const times: number[] = [];
    for (let i = 0; i < 41; i++) {
      const t = performance.now();
      // As the gateway does once a batch is stored: its labels join the client's cached counts.
      const mine = 'mine' in caches ? caches.mine : undefined;
      await clientContradictionFlags(db, 'key:bench-contradiction-cost', items.slice(0, n), opts, { ...caches, judged: (j) => mine?.judged('key:bench-contradiction-cost', j) });
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    console.log(`| ${name} | ${batch} | ${n} | ${times[20]!.toFixed(1)} | ${times[36]!.toFixed(1)} |`);
  }
}
await db.end();
