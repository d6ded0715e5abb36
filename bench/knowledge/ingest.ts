/**
 * Knowledge ingestion at volume through the real KnowledgeValidation workflow (real Temporal and
 * PostgreSQL, a fresh database, in-process workers on unique task queues, as bench/knowledge/run.ts):
 * N generated conversations, split into batches under the workflow's per-batch candidate limit,
 * several batches in flight at once. Prints wall time, conversations/s, facts committed and the
 * peak RSS of this process (which runs the workflow worker and the activity worker).
 *
 *   npx tsx bench/knowledge/ingest.ts [--conversations 10000] [--per-batch 100] [--concurrency 4]
 *
 * Conversations recombine sentence templates over generated names (letters only, so the tagger
 * reads them as names): births with dates, headquarters, employers, founders, residences, products,
 * plus a hearsay claim and a superseded residence, so every stage has work. The reviewer is nobody:
 * borderline facts take the default decision after a 1 s deadline.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { loadConfig, type FlywheelConfig } from '../../config/index';
import { closePools } from '../../clients/db';
import { migrate } from '../../db/migrate';
import { createScratchDatabase, dropDatabase } from '../../scripts/stack/postgres';
import { MAX_CANDIDATES } from '../../workflows/knowledge-validation';
import { runKnowledgeWorkers, startBatch, transcript, uniqueSurname } from '../../test/fixtures/knowledge/harness';
import { conversationTurns } from './ingest-templates';

const args = process.argv.slice(2);
const flag = (name: string, d: number) => Number(args.includes(name) ? args[args.indexOf(name) + 1] : d) || d;
const conversations = flag('--conversations', 10000);
const perBatch = flag('--per-batch', 100);
const concurrency = flag('--concurrency', 4);

async function main() {
  const base = loadConfig();
  const name = `flywheel_kingest_${randomUUID().slice(0, 8)}`;
  const url = await createScratchDatabase(base, name);
  const connection = await Connection.connect({ address: base.temporal.address });
  const client = new Client({ connection, namespace: base.temporal.namespace });
  const family = uniqueSurname();
  try {
    await migrate(url);
    const config: FlywheelConfig = { ...base, postgres: { ...base.postgres, url } };
    const queues = { workflows: `bench-kwf-${randomUUID().slice(0, 8)}`, cpu: `bench-kcpu-${randomUUID().slice(0, 8)}` };
    const batches: string[] = [];
    for (let from = 0; from < conversations; from += perBatch) {
      const turns = [];
      for (let i = from; i < Math.min(conversations, from + perBatch); i++) turns.push(...conversationTurns(i, family));
      batches.push(transcript(turns));
    }
    const totals = { facts: 0, committed: 0, rejected: 0, candidates: 0 };
    const started = performance.now();
    await runKnowledgeWorkers(config, queues, async () => {
      let next = 0;
      let done = 0;
      const lane = async () => {
        while (next < batches.length) {
          const b = batches[next++]!;
          const handle = await startBatch(client, config, queues, b, { reviewTimeoutSeconds: 1 }, { workflowIdSuffix: `-ingest-${queues.cpu.slice(-8)}` });
          const r = await handle.result();
          totals.facts += r.totals.facts;
          totals.committed += r.totals.committed;
          totals.rejected += r.totals.rejected;
          totals.candidates += r.totals.candidates;
          done++;
          if (done % 10 === 0 || done === batches.length) console.log(`${done}/${batches.length} batches, ${((performance.now() - started) / 1000).toFixed(0)} s, ${totals.committed} facts committed, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, lane));
    });
    const seconds = (performance.now() - started) / 1000;
    const rss = process.resourceUsage().maxRSS / 1024;
    console.log(`\ningested ${conversations} conversations in ${batches.length} batches of ≤ ${perBatch} (${concurrency} in flight; per-batch candidate limit ${MAX_CANDIDATES}): ${seconds.toFixed(1)} s = ${(conversations / seconds).toFixed(1)} conversations/s; facts ${totals.facts}, committed ${totals.committed} (${(totals.committed / seconds).toFixed(1)} facts/s); peak RSS of this process (workflow + activity workers) ${rss.toFixed(0)} MiB`);
    console.log(JSON.stringify({ conversations, batches: batches.length, perBatch, concurrency, seconds, totals, peakRssMiB: rss }));
  } finally {
    await connection.close();
    await closePools();
    await dropDatabase(base, name);
  }
}

await main();
