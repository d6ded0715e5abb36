/**
 * Knowledge validation quality and throughput, on the real stack (Temporal, PostgreSQL), each
 * mode in a fresh database of its own so earlier runs cannot corroborate or contradict anything.
 *
 *   npx tsx bench/knowledge/run.ts [--throughput-facts 600]
 *
 * Quality: the hand-labelled evaluation set (test/fixtures/knowledge/eval: WordNet 3.1 glosses
 * plus chat turns built from them) is ingested batch by batch; a distinct extracted triple counts
 * as accepted when any of its candidates is committed. Two modes: nobody reviews (borderline facts
 * take the default decision, reject, at the deadline), and an oracle reviewer who answers each
 * review from the labels (the ceiling a careful person reaches). Throughput: one synthetic batch,
 * facts/s from workflow start to result, extraction and every stage included.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { loadConfig, PROJECT_ROOT, withDatabase, type FlywheelConfig } from '../../config/index';
import { closePools } from '../../clients/db';
import { migrate } from '../../db/migrate';
import { knowledgeStatusQuery, reviewFactUpdate, type KnowledgeStatus } from '../../workflows/knowledge-validation';
import { runKnowledgeWorkers, startBatch, transcript, uniqueSurname } from '../../test/fixtures/knowledge/harness';

const EVAL = path.join(PROJECT_ROOT, 'test/fixtures/knowledge/eval');
const BATCHES = ['wordnet.jsonl', 'chat.jsonl'];
const args = process.argv.slice(2);
const flag = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const throughputFacts = Number(flag('--throughput-facts') ?? 600) || 600;
/** Single-source acceptance thresholds to compare (the policy's main precision/recall knob). */
const acceptLevels = (flag('--accept') ?? '0.85,0.75').split(',').map(Number);

interface Labels {
  truth: Map<string, boolean>;
}

async function loadLabels(): Promise<Labels> {
  const truth = new Map<string, boolean>();
  for (const line of (await readFile(path.join(EVAL, 'labels.jsonl'), 'utf8')).split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line);
    if (r.fact) truth.set(r.fact, r.true);
  }
  return { truth };
}

const key = (c: KnowledgeStatus['candidates'][number]) => `${c.subject.text}|${c.predicate}|${c.object.text}`;

async function withFreshDatabase<T>(base: FlywheelConfig, fn: (config: FlywheelConfig) => Promise<T>): Promise<T> {
  const name = `flywheel_kbench_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: base.postgres.url });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = withDatabase(base.postgres.url, name);
  try {
    await migrate(url);
    return await fn({ ...base, postgres: { ...base.postgres, url } });
  } finally {
    await closePools();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

async function runQuality(base: FlywheelConfig, client: Client, labels: Labels, reviewer: 'none' | 'oracle', acceptConfidence: number) {
  return withFreshDatabase(base, async (config) => {
    const queues = { workflows: `bench-kwf-${randomUUID().slice(0, 8)}`, cpu: `bench-kcpu-${randomUUID().slice(0, 8)}` };
    return runKnowledgeWorkers(config, queues, async () => {
      const started = performance.now();
      const statuses: KnowledgeStatus[] = [];
      let reviewed = 0;
      for (const file of BATCHES) {
        const text = await readFile(path.join(EVAL, file), 'utf8');
        const handle = await startBatch(client, config, queues, text, { reviewTimeoutSeconds: reviewer === 'none' ? 1 : 600, reviewDefault: 'reject', acceptConfidence }, { workflowIdSuffix: `-bench-${queues.cpu.slice(-8)}` });
        if (reviewer === 'oracle') {
          for (;;) {
            const s = await handle.query(knowledgeStatusQuery);
            if (s.state === 'reviewing' || s.state === 'completed' || s.state === 'failed') {
              for (const item of s.review?.items.filter((i) => i.state === 'waiting') ?? []) {
                const cands = s.candidates.filter((c) => c.factId === item.factId);
                const ok = cands.some((c) => labels.truth.get(key(c)) === true);
                await handle.executeUpdate(reviewFactUpdate, { args: [{ factId: item.factId, decision: ok ? 'accept' : 'reject', reviewer: 'oracle' }] });
                reviewed++;
              }
              break;
            }
            await new Promise((r) => setTimeout(r, 50));
          }
        }
        await handle.result();
        statuses.push(await handle.query(knowledgeStatusQuery));
      }
      const seconds = (performance.now() - started) / 1000;
      return { ...score(statuses, labels), seconds, reviewed };
    });
  });
}

function score(statuses: KnowledgeStatus[], labels: Labels) {
  const accepted = new Map<string, boolean>();
  let candidates = 0;
  let facts = 0;
  let review = 0;
  const unlabelled = new Set<string>();
  for (const s of statuses) {
    candidates += s.candidates.length;
    facts += s.totals.facts;
    review += s.review?.items.length ?? 0;
    for (const c of s.candidates) {
      const k = key(c);
      if (!labels.truth.has(k)) unlabelled.add(k);
      accepted.set(k, (accepted.get(k) ?? false) || c.state === 'committed');
    }
  }
  if (unlabelled.size) throw new Error(`${unlabelled.size} extracted triples have no label (the extractor changed?): ${[...unlabelled].slice(0, 5).join('; ')}`);
  let tp = 0;
  let positives = 0;
  const falseAccepted: string[] = [];
  const missed: string[] = [];
  for (const [k, acc] of accepted) {
    const truth = labels.truth.get(k)!;
    if (truth) positives++;
    if (acc && truth) tp++;
    if (acc && !truth) falseAccepted.push(k);
    if (!acc && truth) missed.push(k);
  }
  const fp = falseAccepted.length;
  return { falseAccepted, missed, triples: accepted.size, trueTriples: positives, candidates, facts, review, reviewShare: review / facts, accepted: tp + fp, tp, fp, precision: tp / (tp + fp), recall: tp / positives };
}

async function runThroughput(base: FlywheelConfig, client: Client, n: number) {
  return withFreshDatabase(base, async (config) => {
    const queues = { workflows: `bench-kwf-${randomUUID().slice(0, 8)}`, cpu: `bench-kcpu-${randomUUID().slice(0, 8)}` };
    const cities = ['London', 'Paris', 'Berlin', 'Madrid', 'Rome', 'Vienna', 'Lisbon', 'Prague'];
    const family = uniqueSurname();
    const turns = Array.from({ length: n }, (_, i) => ({ conversation: `tp-${i % 40}`, text: `Marie ${family}${letters(i)} was born in ${cities[i % cities.length]}.` }));
    return runKnowledgeWorkers(config, queues, async () => {
      const started = performance.now();
      const handle = await startBatch(client, config, queues, transcript(turns), { reviewTimeoutSeconds: 1 }, { workflowIdSuffix: `-bench-${queues.cpu.slice(-8)}` });
      const r = await handle.result();
      const seconds = (performance.now() - started) / 1000;
      const s = await handle.query(knowledgeStatusQuery);
      const stageMs = Object.fromEntries(s.stages.filter((x) => x.startedAt && x.finishedAt).map((x) => [x.name, Date.parse(x.finishedAt!) - Date.parse(x.startedAt!)]));
      return { facts: r.totals.facts, committed: r.totals.committed, seconds, factsPerSecond: r.totals.committed / seconds, stageMs };
    });
  });
}

function letters(i: number): string {
  let s = '';
  let x = i;
  do {
    s += String.fromCharCode(97 + (x % 26));
    x = Math.floor(x / 26);
  } while (x > 0);
  return s;
}

const config = loadConfig();
const connection = await Connection.connect({ address: config.temporal.address });
const client = new Client({ connection, namespace: config.temporal.namespace });
try {
  const labels = await loadLabels();
  const rows = [];
  for (const acceptConfidence of acceptLevels) {
    for (const reviewer of ['none', 'oracle'] as const) {
      const q = await runQuality(config, client, labels, reviewer, acceptConfidence);
      rows.push({ reviewer, acceptConfidence, ...q });
    }
  }
  console.log('\nquality (labelled set: test/fixtures/knowledge/eval)');
  console.table(
    rows.map((r) => ({
      'accept at': r.acceptConfidence,
      reviewer: r.reviewer,
      'distinct triples': r.triples,
      'true': r.trueTriples,
      accepted: r.accepted,
      'false accepted': r.fp,
      precision: r.precision.toFixed(3),
      recall: r.recall.toFixed(3),
      'sent to review': `${r.review}/${r.facts} (${(100 * r.reviewShare).toFixed(1)}%)`,
      seconds: r.seconds.toFixed(1),
    })),
  );
  const t = await runThroughput(config, client, throughputFacts);
  console.log(`\nthroughput: ${t.committed} facts committed in ${t.seconds.toFixed(2)} s = ${t.factsPerSecond.toFixed(1)} facts/s end to end (stage ms: ${JSON.stringify(t.stageMs)})`);
  console.log(JSON.stringify({ quality: rows, throughput: t }));
} finally {
  await connection.close();
}
