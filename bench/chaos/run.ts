/**
 * The chaos run (issue #13): for `--minutes` (default 20) a mixed load runs on the local stack
 * (`flywheel up`) while a driver kills, at random moments, the workflow worker, the CPU and control
 * workers, the PyTorch worker, the gateway, the Temporal server and PostgreSQL (SIGKILL to the
 * whole process group), and stops MLflow for a minute. Nothing here restarts a part: the stack's
 * supervisor does, and the time it takes is measured.
 *
 * Load (every start goes through the `flywheel` CLI, as a person or a script would, retried while
 * the CLI says the stack is unavailable — exit 3):
 *   trainings      one after another, three seeds in turn; each must register exactly one version
 *                  whose accuracy equals an undisturbed run of the same seed (trained before chaos)
 *   PyTorch        `mlp` trainings on the PyTorch pool, one after another
 *   a search       TPE, 6 trials × 2 parallel, best configuration trained and registered
 *   canaries       one after another on one model: a good candidate must be promoted, a faulted one
 *                  (60 % wrong labels) rolled back
 *   A/B tests      one after another, control vs a faulted arm (40 % wrong labels): control must
 *                  win (or no winner); each test sets its own split
 *   a drift monitor on a stationary model, stopped at the end
 *   knowledge      a transcript batch every 2 minutes; facts committed must equal facts accepted
 *   traffic        predictions on three models, each labelled; every label retried with its
 *                  idempotency key until acknowledged
 * Report: workflows completed as expected / started, duplicate versions, deployments and fact
 * commits, acknowledged feedback lost, failed prediction requests, recovery time per kill.
 *
 *   node bin/flywheel.mjs up && npx tsx bench/chaos/run.ts [--minutes 20] [--kill-every 60] [--seed 1] [--rate 8] [--no-kill]
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { MlflowClient } from '../../clients/mlflow';
import { PROJECT_ROOT, loadConfig } from '../../config/index';
import { loadDataset } from '../../datasets/load';
import { createRng } from '../../lib/random';
import { clientApiKey } from '../../traffic/credentials';
import { startTraffic } from './traffic';
import { killAndTime, stopFor, VICTIMS, type Recovery, type Victim } from './victims';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '20' },
    'kill-every': { type: 'string', default: '60' },
    seed: { type: 'string', default: '1' },
    rate: { type: 'string', default: '8' },
    'no-kill': { type: 'boolean', default: false },
    'settle-minutes': { type: 'string', default: '20' },
  },
});
const minutes = Number(values.minutes);
const killEverySeconds = Number(values['kill-every']);
const rng = createRng(Number(values.seed));
const config = loadConfig();
const run = randomUUID().slice(0, 6);
const prefix = `chaos-${run}`;
// The chaos clock starts once the models the load needs exist (setup is not under fire).
let t0 = Date.now();
let endAt = t0 + minutes * 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0).padStart(5)} s`;
const say = (line: string) => console.log(`[chaos ${elapsed()}] ${line}`);
const timeLeft = () => endAt - Date.now();

// ---------------------------------------------------------------------------------------------
// The CLI, retried while it says the stack is unavailable (exit 3), as a script would.

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function flywheelOnce(args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/flywheel.mjs'), ...args], { cwd: PROJECT_ROOT, env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

const cliRetries = { calls: 0, retried: 0 };
async function flywheel(args: string[], retryForMs = 300_000): Promise<CliRun> {
  const until = Date.now() + retryForMs;
  cliRetries.calls++;
  for (;;) {
    const r = await flywheelOnce(args);
    // 3: a service did not answer; 1: an unexpected failure (e.g. a connection reset mid-call).
    if (r.code === 0 || r.code === 2 || Date.now() > until) return r;
    cliRetries.retried++;
    await sleep(3_000);
  }
}

async function flywheelJson<T>(args: string[]): Promise<T> {
  const r = await flywheel([...args, '--json']);
  if (r.code !== 0) throw new Error(`flywheel ${args.join(' ')} → exit ${r.code}: ${r.stderr.trim().split('\n').at(-1)}`);
  return JSON.parse(r.stdout) as T;
}

// ---------------------------------------------------------------------------------------------
// Every workflow started, what it must end as, and what it did end as.

interface Tracked {
  kind: string;
  workflowId: string;
  /** undefined: the outcome is the one it would have had; else why not. */
  check: (result: unknown) => string | undefined | Promise<string | undefined>;
  outcome?: 'as-expected' | 'unexpected' | 'failed' | 'still-running';
  detail?: string;
  result?: unknown;
}

const tracked: Tracked[] = [];
let temporal: Client;

async function closed(workflowId: string): Promise<{ status: string; result?: unknown; error?: string }> {
  for (;;) {
    try {
      const d = await temporal.workflow.getHandle(workflowId).describe();
      if (d.status.name !== 'RUNNING') {
        if (d.status.name === 'COMPLETED') return { status: 'COMPLETED', result: await temporal.workflow.getHandle(workflowId).result() };
        return { status: d.status.name };
      }
    } catch (err) {
      // Temporal restarting: ask again.
      if (!/not found/i.test((err as Error).message)) await sleep(2_000);
      else return { status: 'NOT_FOUND', error: (err as Error).message };
    }
    await sleep(2_000);
  }
}

async function track(kind: string, workflowId: string, check: Tracked['check']): Promise<Tracked> {
  const t: Tracked = { kind, workflowId, check };
  tracked.push(t);
  say(`${kind}: started ${workflowId}`);
  return t;
}

async function settle(t: Tracked): Promise<Tracked> {
  const c = await closed(t.workflowId);
  t.result = c.result;
  if (c.status !== 'COMPLETED') {
    t.outcome = 'failed';
    t.detail = `${c.status}${c.error ? `: ${c.error}` : ''}`;
  } else {
    const why = await t.check(c.result);
    t.outcome = why === undefined ? 'as-expected' : 'unexpected';
    t.detail = why;
  }
  say(`${t.kind}: ${t.workflowId} → ${t.outcome}${t.detail ? ` (${t.detail})` : ''}`);
  return t;
}

// ---------------------------------------------------------------------------------------------

const db = new pg.Pool({ connectionString: config.postgres.url, max: 2 });
db.on('error', () => {}); // PostgreSQL is one of the victims
const mlflow = new MlflowClient(config.mlflow);
const connection = await Connection.connect({ address: config.temporal.address });
temporal = new Client({ connection, namespace: config.temporal.namespace });
const apiKey = clientApiKey(config);
if (!apiKey) throw new Error('no API key for the gateway: run `flywheel up` first (it writes the local CLI key)');
const dataset = await loadDataset('penguins');
if (!dataset.ok) throw new Error(dataset.error.message);
const penguins = dataset.value.dataset;

interface TrainJson {
  workflowId: string;
  version: string;
  metrics: { accuracy: number; logLoss: number };
}
const train = (model: string, seed: number, extra: string[] = []) => flywheelJson<TrainJson>(['train', '--dataset', 'penguins', '--model', model, '-p', 'epochs=60', '-p', `seed=${seed}`, '--wait', ...extra]);
const startTrain = (model: string, seed: number, extra: string[] = []) => flywheelJson<{ workflowId: string }>(['train', '--dataset', 'penguins', '--model', model, '-p', 'epochs=60', '-p', `seed=${seed}`, ...extra]);

// ---- Before chaos: the undisturbed outcomes, and the models the load needs.
say(`run ${prefix}: ${minutes} min of chaos${values['no-kill'] ? ' (no kills: a control run)' : `, a kill every ~${killEverySeconds} s`}`);
const SEEDS = [1, 2, 3];
// Accuracy and log loss: the loss tells seeds apart where accuracies tie.
const baseline = new Map<number, string>();
const fingerprint = (m: TrainJson['metrics']) => `accuracy ${m.accuracy}, log loss ${m.logLoss}`;
for (const seed of SEEDS) baseline.set(seed, fingerprint((await train(`${prefix}-t${seed}`, seed)).metrics));
say(`undisturbed: ${[...baseline].map(([s, a]) => `seed ${s} → ${a}`).join('; ')}`);
const canaryModel = `${prefix}-canary`;
const abModel = `${prefix}-ab`;
const driftModel = `${prefix}-drift`;
await train(canaryModel, 1);
await flywheel(['deploy', canaryModel, '1']);
const abV1 = await train(abModel, 1);
const abV2 = await train(abModel, 2);
await flywheel(['deploy', abModel, abV1.version]);
await flywheel(['deploy', abModel, abV2.version]);
await flywheel(['traffic', 'fault', abModel, abV2.version, '--wrong-labels', '0.4']);
await train(driftModel, 1);
await flywheel(['deploy', driftModel, '1']);
// The canary model twice over: a candidate at 20 % needs its share of labelled requests to decide.
const traffic = startTraffic({ url: config.gateway.url, apiKey, models: [canaryModel, canaryModel, abModel, driftModel], dataset: penguins, ratePerModel: Number(values.rate), runTag: prefix });
t0 = Date.now();
endAt = t0 + minutes * 60_000;
const drift = await flywheelJson<{ workflowId: string }>(['drift', 'start', driftModel, '--dataset', 'penguins', '--poll', '5s']);
const driftTracked = await track('drift monitor', drift.workflowId, (r) => {
  const res = r as { state?: string; retrainingsStarted?: number };
  return res.state === 'stopped' ? undefined : `ended ${res.state}`;
});

// ---- The load, in lanes that each start their next workflow when the last one ended.
const lanes: Array<Promise<void>> = [];
const settling: Array<Promise<Tracked>> = [];
const lane = (fn: () => Promise<void>) => lanes.push(fn().catch((err) => say(`lane failed: ${(err as Error).message}`)));

// Trainings, three seeds in turn: each must reproduce its seed's undisturbed accuracy.
lane(async () => {
  for (let i = 0; timeLeft() > 120_000; i++) {
    const seed = SEEDS[i % SEEDS.length]!;
    const { workflowId } = await startTrain(`${prefix}-t${seed}`, seed);
    const t = await track('training', workflowId, (r) => {
      const got = fingerprint((r as TrainJson).metrics);
      return got === baseline.get(seed) ? undefined : `${got}; undisturbed: ${baseline.get(seed)}`;
    });
    await settle(t);
  }
});

// PyTorch trainings on the PyTorch pool (CPU here unless a GPU is present).
lane(async () => {
  for (let i = 0; timeLeft() > 180_000; i++) {
    const { workflowId } = await flywheelJson<{ workflowId: string }>(['train', '--dataset', 'breast-cancer', '--model', `${prefix}-mlp`, '--family', 'mlp', '--pool', 'auto', '--gpu-wait', '3', '-p', 'epochs=20', '-p', `seed=${i + 1}`]);
    await settle(await track('pytorch training', workflowId, (r) => ((r as TrainJson).version ? undefined : 'no version')));
  }
});

// One search.
lane(async () => {
  await sleep(60_000);
  const { workflowId } = await flywheelJson<{ workflowId: string }>(['hpo', 'start', '--dataset', 'penguins', '--model', `${prefix}-hpo`, '--trials', '6', '--parallel', '2', '-p', 'epochs=40', '--seed', '7']);
  settling.push(
    track('search', workflowId, (r) => {
      const s = r as { trials: { total: number; complete: number; failed: number }; final?: TrainJson };
      if (s.trials.total !== 6 || s.trials.failed > 0) return `trials ${JSON.stringify(s.trials)}`;
      return s.final?.version ? undefined : 'best configuration not registered';
    }).then(settle),
  );
});

// Canaries, one after another: good candidates promoted, faulted ones rolled back.
lane(async () => {
  await sleep(30_000);
  for (let i = 0; timeLeft() > 240_000; i++) {
    const faulted = i % 2 === 1;
    const v = await train(canaryModel, 10 + i);
    await flywheel(['deploy', canaryModel, v.version]);
    if (faulted) await flywheel(['traffic', 'fault', canaryModel, v.version, '--wrong-labels', '0.6']);
    const started = await flywheelJson<{ workflowId: string }>(['canary', 'start', canaryModel, v.version, '--steps', '20:20s,50:20s,100', '--interval', '3']);
    const expected = faulted ? 'rolled-back' : 'promoted';
    await settle(await track(`canary (${faulted ? 'faulted' : 'good'})`, started.workflowId, (r) => ((r as { outcome: string }).outcome === expected ? undefined : `${(r as { outcome: string }).outcome}, expected ${expected}`)));
  }
});

// A/B tests, one after another: control against an arm that answers 40 % of its labelled rows wrongly.
lane(async () => {
  await sleep(20_000);
  while (timeLeft() > 180_000) {
    const maxDuration = Math.max(120, Math.floor(timeLeft() / 1000) - 120);
    const { workflowId } = await flywheelJson<{ workflowId: string }>(['ab', 'start', abModel, abV1.version, abV2.version, '--mde', '0.1', '--min-sample', '60', '--interval', '3', '--max-duration', String(maxDuration)]);
    await settle(
      await track('A/B test', workflowId, (r) => {
        const d = (r as { decision: { kind: string; version?: string } }).decision;
        return d.kind === 'winner' && d.version !== abV1.version ? `winner ${d.version}, the faulted arm` : d.kind === 'srm' || d.kind === 'guardrail' ? `halted: ${d.kind}` : undefined;
      }),
    );
  }
});

// Knowledge batches: the sample conversations, renamed per batch so each is new content.
const conversations = ['test/fixtures/knowledge/sample-conversations.jsonl', 'test/fixtures/knowledge/eval/chat.jsonl'].flatMap((f) =>
  readFileSync(path.join(PROJECT_ROOT, f), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"conversation"')),
);
lane(async () => {
  const dir = path.join(config.dataDir, 'bench', prefix);
  mkdirSync(dir, { recursive: true });
  for (let i = 0; timeLeft() > 120_000; i++) {
    const file = path.join(dir, `batch-${i}.jsonl`);
    writeFileSync(file, `${conversations.map((l) => l.replace(/"conversation":\s*"([^"]+)"/, `"conversation":"$1-${prefix}-${i}"`)).join('\n')}\n`);
    const { workflowId } = await flywheelJson<{ workflowId: string }>(['knowledge', 'ingest', file, '--review-timeout', '60s', '--review-default', 'reject']);
    settling.push(
      track('knowledge batch', workflowId, async (r) => {
        const res = r as { batchId: string; committed: string[] };
        const rows = await db.query<{ n: string }>('SELECT count(*) AS n FROM knowledge_commits WHERE batch_id = $1', [res.batchId]);
        const n = Number(rows.rows[0]!.n);
        return n === res.committed.length ? undefined : `${n} commit rows for ${res.committed.length} facts committed`;
      }).then(settle),
    );
    await sleep(120_000);
  }
});

// ---- The killer.
const recoveries: Recovery[] = [];
const killer = (async () => {
  if (values['no-kill']) return;
  await sleep(45_000);
  let cycle: Victim[] = [];
  let mlflowStopped = false;
  while (timeLeft() > 90_000) {
    if (!mlflowStopped && Date.now() - t0 > (minutes * 60_000) / 2) {
      mlflowStopped = true;
      say('stopping MLflow for 60 s');
      const r = await stopFor(config, 'mlflow', 60);
      recoveries.push(r);
      say(`mlflow back ${r.recoverySeconds?.toFixed(1) ?? 'NEVER'} s after its restart`);
      continue;
    }
    if (cycle.length === 0) cycle = rng.shuffle([...VICTIMS]);
    const victim = cycle.pop()!;
    say(`SIGKILL ${victim}`);
    const r = await killAndTime(config, victim, 180_000);
    recoveries.push(r);
    say(`${victim} ${r.recoverySeconds === null ? 'did NOT come back within 180 s' : `back in ${r.recoverySeconds.toFixed(1)} s (pid ${r.oldPid} → ${r.newPid})`}`);
    await sleep(killEverySeconds * 1000 * (0.5 + rng.next()));
  }
})();

// ---- The end: stop the load, stop the monitor, wait for every workflow to end, count.
await sleep(Math.max(0, timeLeft()));
say('chaos window over: waiting for the lanes and the workflows in flight');
await killer;
const deadline = Date.now() + Number(values['settle-minutes']) * 60_000;
// A lane waits for its last workflow; the settle deadline bounds that wait too.
await Promise.race([Promise.all(lanes), sleep(Math.max(0, deadline - Date.now()))]);
await traffic.stop();
await flywheel(['drift', 'stop', driftModel]);
settling.push(settle(driftTracked));
await Promise.race([Promise.all(settling), sleep(Math.max(0, deadline - Date.now()))]);
for (const t of tracked) t.outcome ??= 'still-running';

// Duplicates: versions per training workflow run, deployments per candidate, fact commits per batch.
const versions = await mlflow.searchModelVersions(`name LIKE '${prefix}%'`);
const runsOfVersions = new Map<string, number>();
for (const v of versions) {
  const runId = v.tags?.find((t) => t.key === 'flywheel.workflow_run_id')?.value ?? v.run_id ?? `${v.name}/${v.version}`;
  runsOfVersions.set(runId, (runsOfVersions.get(runId) ?? 0) + 1);
}
const duplicateVersions = [...runsOfVersions.values()].reduce((a, n) => a + n - 1, 0);
const deployRows = await db.query<{ model: string; n: string }>('SELECT model, count(*) AS n FROM deployments WHERE model LIKE $1 GROUP BY model', [`${prefix}%`]);
const acked = traffic.acknowledged;
const stored = await db.query<{ n: string }>('SELECT count(DISTINCT idempotency_key) AS n FROM feedback WHERE idempotency_key = ANY($1)', [acked]);
const lost = acked.length - Number(stored.rows[0]!.n);

const byKind = new Map<string, { started: number; asExpected: number }>();
for (const t of tracked) {
  const k = byKind.get(t.kind) ?? { started: 0, asExpected: 0 };
  k.started++;
  if (t.outcome === 'as-expected') k.asExpected++;
  byKind.set(t.kind, k);
}
const kills = recoveries.filter((r) => r.how === 'SIGKILL');
const report = {
  run: prefix,
  minutes,
  killEverySeconds: values['no-kill'] ? null : killEverySeconds,
  workflows: { started: tracked.length, asExpected: tracked.filter((t) => t.outcome === 'as-expected').length, byKind: Object.fromEntries(byKind), notAsExpected: tracked.filter((t) => t.outcome !== 'as-expected').map((t) => ({ kind: t.kind, workflowId: t.workflowId, outcome: t.outcome, detail: t.detail })) },
  duplicates: { versions: duplicateVersions, versionsRegistered: versions.length, deploymentsByModel: Object.fromEntries(deployRows.rows.map((r) => [r.model, Number(r.n)])) },
  feedback: { acknowledged: acked.length, lost, gaveUp: traffic.tally.feedback.gaveUp, retries: traffic.tally.feedback.retries },
  predictions: traffic.tally.predictions,
  cli: cliRetries,
  kills: kills.length,
  notRecovered: recoveries.filter((r) => r.recoverySeconds === null).map((r) => r.victim),
  longestRecoverySeconds: Math.max(0, ...recoveries.map((r) => r.recoverySeconds ?? Infinity)),
  recoveries,
};
const out = path.join(config.dataDir, 'bench', `chaos-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);

console.log(`\nchaos run ${prefix}: ${minutes} min, ${kills.length} kills + MLflow stopped ${recoveries.length - kills.length}×`);
console.log(`  workflows          ${report.workflows.asExpected} / ${report.workflows.started} ended as they would have`);
for (const [k, v] of byKind) console.log(`    ${k.padEnd(22)} ${v.asExpected} / ${v.started}`);
for (const t of report.workflows.notAsExpected) console.log(`    NOT: ${t.kind} ${t.workflowId}: ${t.outcome} ${t.detail ?? ''}`);
console.log(`  duplicate versions ${duplicateVersions} (of ${versions.length} registered)`);
console.log(`  feedback           ${acked.length} acknowledged, ${lost} lost, ${traffic.tally.feedback.gaveUp} never acknowledged (client gave up), ${traffic.tally.feedback.retries} retries`);
console.log(`  predictions        ${traffic.tally.predictions.ok} / ${traffic.tally.predictions.sent} answered 200; failed ${traffic.tally.predictions.failed} ${JSON.stringify(traffic.tally.predictions.byStatus)}`);
console.log(`  recovery           longest ${report.longestRecoverySeconds === Infinity ? 'NEVER' : `${report.longestRecoverySeconds.toFixed(1)} s`}; ${recoveries.map((r) => `${r.victim} ${r.recoverySeconds?.toFixed(1) ?? '∞'}`).join(', ')}`);
console.log(`  report             ${out}`);
await db.end();
await connection.close();
process.exit(report.workflows.asExpected === report.workflows.started && lost === 0 && duplicateVersions === 0 ? 0 : 1);
