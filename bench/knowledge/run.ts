/**
 * Knowledge validation quality and throughput, on the real stack (Temporal, PostgreSQL), each
 * mode in a fresh database of its own so earlier runs cannot corroborate or contradict anything.
 *
 *   npx tsx bench/knowledge/run.ts [--sets dev,heldout,third,fourth,fifth,sixth,seventh,eighth] [--accept 0.85,0.75] [--throughput-facts 600]
 *
 * Quality, on two hand-labelled sets: the development set (test/fixtures/knowledge/eval: WordNet
 * 3.1 glosses plus chat turns built from them; its labels list every triple the extractor proposes)
 * the issue-19 set (test/fixtures/knowledge/heldout), the third set (test/fixtures/knowledge/third,
 * written by an author who never saw the extractor; the extractor was tuned on it afterwards) and the
 * fourth (test/fixtures/knowledge/fourth, written blind the same way, tuned on afterwards by flywheel-patterns/5)
 * the fifth (test/fixtures/knowledge/fifth, written blind before that tuning, tuned on afterwards by flywheel-patterns/6)
 * the sixth (test/fixtures/knowledge/sixth, written blind before that tuning, tuned on afterwards by flywheel-patterns/7)
 * the seventh (test/fixtures/knowledge/seventh, written blind before that tuning, never tuned on) and the eighth
 * (test/fixtures/knowledge/eighth, written blind the same way, never tuned on): 40 written conversations each; their labels list
 * every true fact stated, so recall is full recall and anything else extracted counts as false).
 * Each is ingested batch by batch; a distinct extracted triple counts as accepted when any of its
 * candidates is committed. Two modes: nobody reviews (borderline facts
 * take the default decision, reject, at the deadline), and an oracle reviewer who answers each
 * review from the labels (the ceiling a careful person reaches). Throughput: one synthetic batch,
 * facts/s from workflow start to result, extraction and every stage included.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { createScratchDatabase, dropDatabase } from '../../scripts/stack/postgres';
import { loadConfig, PROJECT_ROOT, withDatabase, type FlywheelConfig } from '../../config/index';
import { closePools } from '../../clients/db';
import { migrate } from '../../db/migrate';
import { knowledgeStatusQuery, reviewFactUpdate, type KnowledgeStatus } from '../../workflows/knowledge-validation';
import { runKnowledgeWorkers, startBatch, transcript, uniqueSurname } from '../../test/fixtures/knowledge/harness';
import { extractCandidates } from '../../lib/knowledge/extract/extractor';
import { parseTranscript } from '../../lib/knowledge/extract/transcript';
import { labelOf, parseLabels, scoreRun, tripleKey, type LabelSet } from './score';
import { letters } from './ingest-templates';

interface EvalSet {
  name: 'dev' | 'heldout' | 'third' | 'fourth' | 'fifth' | 'sixth' | 'seventh' | 'eighth';
  dir: string;
  batches: string[];
  labels: LabelSet;
}

const args = process.argv.slice(2);
const flag = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const throughputFacts = Number(flag('--throughput-facts') ?? 600) || 600;
/** Single-source acceptance thresholds to compare (the policy's main precision/recall knob). */
const acceptLevels = (flag('--accept') ?? '0.85,0.75').split(',').map(Number);
const SET_DIRS: Record<EvalSet['name'], string> = { dev: 'eval', heldout: 'heldout', third: 'third', fourth: 'fourth', fifth: 'fifth', sixth: 'sixth', seventh: 'seventh', eighth: 'eighth' };
const setNames = flag('--sets')?.split(',') ?? Object.keys(SET_DIRS);

async function loadSet(name: EvalSet['name']): Promise<EvalSet> {
  // The development set's labels list every triple the extractor proposed (a new one is an error to
  // label); the held-out set's list every true fact stated, so anything else extracted is false.
  const dir = path.join(PROJECT_ROOT, 'test/fixtures/knowledge', SET_DIRS[name]);
  const labels = parseLabels(await readFile(path.join(dir, 'labels.jsonl'), 'utf8'), name === 'dev' ? 'error' : 'false');
  return { name, dir, batches: name === 'dev' ? ['wordnet.jsonl', 'chat.jsonl'] : ['chat.jsonl'], labels };
}

const key = (set: EvalSet, c: KnowledgeStatus['candidates'][number]) => tripleKey(set.labels, c.subject.text, c.predicate, c.object.text);

/** Extraction alone, in this process: conversations/s over repeated passes, and peak RSS. */
async function extractionThroughput(set: EvalSet) {
  const turns = [];
  for (const file of set.batches) {
    const parsed = parseTranscript(await readFile(path.join(set.dir, file), 'utf8'));
    if (!parsed.ok) throw new Error(parsed.message);
    turns.push(...parsed.value.map((t) => ({ ...t, conversation: `${file}:${t.conversation}` })));
  }
  const conversations = new Set(turns.map((t) => t.conversation)).size;
  extractCandidates(turns, 'warm-up');
  let passes = 0;
  let candidates = 0;
  const started = performance.now();
  while (performance.now() - started < 3000 || passes < 3) {
    candidates = extractCandidates(turns, `pass-${passes}`).length;
    passes++;
  }
  const seconds = (performance.now() - started) / 1000;
  return { conversations, turns: turns.length, candidates, conversationsPerSecond: (conversations * passes) / seconds, turnsPerSecond: (turns.length * passes) / seconds, peakRssMiB: process.resourceUsage().maxRSS / 1024 };
}

async function withFreshDatabase<T>(base: FlywheelConfig, fn: (config: FlywheelConfig) => Promise<T>): Promise<T> {
  const name = `flywheel_kbench_${randomUUID().slice(0, 8)}`;
  const url = await createScratchDatabase(base, name);
  try {
    await migrate(url);
    return await fn({ ...base, postgres: { ...base.postgres, url } });
  } finally {
    await closePools();
    await dropDatabase(base, name);
  }
}

async function runQuality(base: FlywheelConfig, client: Client, set: EvalSet, reviewer: 'none' | 'oracle', acceptConfidence: number) {
  return withFreshDatabase(base, async (config) => {
    const queues = { workflows: `bench-kwf-${randomUUID().slice(0, 8)}`, cpu: `bench-kcpu-${randomUUID().slice(0, 8)}` };
    return runKnowledgeWorkers(config, queues, async () => {
      const started = performance.now();
      const statuses: KnowledgeStatus[] = [];
      let reviewed = 0;
      for (const file of set.batches) {
        const text = await readFile(path.join(set.dir, file), 'utf8');
        const handle = await startBatch(client, config, queues, text, { reviewTimeoutSeconds: reviewer === 'none' ? 1 : 600, reviewDefault: 'reject', acceptConfidence }, { workflowIdSuffix: `-bench-${queues.cpu.slice(-8)}` });
        if (reviewer === 'oracle') {
          for (;;) {
            const s = await handle.query(knowledgeStatusQuery);
            if (s.state === 'reviewing' || s.state === 'completed' || s.state === 'failed') {
              for (const item of s.review?.items.filter((i) => i.state === 'waiting') ?? []) {
                const cands = s.candidates.filter((c) => c.factId === item.factId);
                const ok = cands.some((c) => labelOf(set.labels, key(set, c)) === true);
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
      return { ...score(statuses, set), seconds, reviewed };
    });
  });
}

function score(statuses: KnowledgeStatus[], set: EvalSet) {
  const accepted = new Map<string, boolean>();
  let candidates = 0;
  let facts = 0;
  let review = 0;
  for (const s of statuses) {
    candidates += s.candidates.length;
    facts += s.totals.facts;
    review += s.review?.items.length ?? 0;
    for (const c of s.candidates) {
      const k = key(set, c);
      accepted.set(k, (accepted.get(k) ?? false) || c.state === 'committed');
    }
  }
  const proposedTrue = [...accepted.keys()].filter((k) => set.labels.truth.get(k) === true).length;
  return { ...scoreRun(accepted, set.labels), proposedTrue, candidates, facts, review, reviewShare: facts ? review / facts : 0 };
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

const config = loadConfig();
const connection = await Connection.connect({ address: config.temporal.address });
const client = new Client({ connection, namespace: config.temporal.namespace });
try {
  const rows = [];
  const extraction = [];
  for (const name of setNames as Array<EvalSet['name']>) {
    const set = await loadSet(name);
    extraction.push({ set: name, ...(await extractionThroughput(set)) });
    for (const acceptConfidence of acceptLevels) {
      for (const reviewer of ['none', 'oracle'] as const) {
        const q = await runQuality(config, client, set, reviewer, acceptConfidence);
        rows.push({ set: name, reviewer, acceptConfidence, ...q });
      }
    }
  }
  console.log(`\nquality (${Object.entries(SET_DIRS).map(([name, dir]) => `${name}: test/fixtures/knowledge/${dir}`).join('; ')})`);
  console.table(
    rows.map((r) => ({
      set: r.set,
      'accept at': r.acceptConfidence,
      reviewer: r.reviewer,
      'true stated': r.trueStated,
      'true proposed': r.proposedTrue,
      accepted: r.accepted,
      'false accepted': r.fp,
      precision: r.precision.toFixed(3),
      'full recall': r.recall.toFixed(3),
      F1: r.f1.toFixed(3),
      'sent to review': `${r.review}/${r.facts} (${(100 * r.reviewShare).toFixed(1)}%)`,
      seconds: r.seconds.toFixed(1),
    })),
  );
  for (const r of rows.filter((x) => x.acceptConfidence === acceptLevels[0])) {
    console.log(`\nper relation, ${r.set}, accept at ${r.acceptConfidence}, reviewer ${r.reviewer} (stated / accepted / true accepted: precision, recall)`);
    console.table(Object.fromEntries(Object.entries(r.perRelation).sort().map(([p, x]) => [p, { stated: x.stated, accepted: x.accepted, tp: x.tp, precision: x.precision.toFixed(2), recall: x.recall.toFixed(2) }])));
    if (r.falseAccepted.length) console.log(`false accepted: ${r.falseAccepted.join('; ')}`);
  }
  console.log('\nextraction alone (in process, compromise):');
  console.table(extraction.map((e) => ({ set: e.set, conversations: e.conversations, turns: e.turns, candidates: e.candidates, 'conversations/s': e.conversationsPerSecond.toFixed(0), 'turns/s': e.turnsPerSecond.toFixed(0), 'peak RSS MiB (process so far)': e.peakRssMiB.toFixed(0) })));
  const t = await runThroughput(config, client, throughputFacts);
  console.log(`\nthroughput: ${t.committed} facts committed in ${t.seconds.toFixed(2)} s = ${t.factsPerSecond.toFixed(1)} facts/s end to end (stage ms: ${JSON.stringify(t.stageMs)}); peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  console.log(JSON.stringify({ quality: rows, extraction, throughput: t }));
} finally {
  await connection.close();
}
