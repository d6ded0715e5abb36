/**
 * Detection delay of ADWIN on planted drifts: how many labelled outcomes after a known change
 * point the drift monitor fires, Flywheel's ADWIN (lib/drift, through lib/retraining's
 * ErrorMonitor as the DriftMonitor workflow uses it) against River's on the very same streams.
 *
 * Each stream is the error sequence of a model that learnt SEA concept 0 (x0 + x1 > 8, River's
 * definition) served PRE samples of concept 0 and then POST samples of the drift concept; the model
 * is the concept-0 rule itself (what the integration test's trained model reaches: holdout accuracy
 * 1.0). Seeds 1..N; the table gives the delay's median, p90 and max over streams, misses (no rise
 * found after the change) and false alarms (a change reported before it).
 *
 *   npx tsx bench/drift/delay.ts [--streams 200] [--delta 0.002]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorMonitor } from '../../lib/retraining/error-monitor';
import { ConceptDriftStream, Sea, type DataStream } from '../../lib/streams/index';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PYTHON = path.join(HERE, '..', '..', '.venv', 'bin', 'python');
const POST = 3000;

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const N = Number(arg('streams', '200'));
const DELTA = Number(arg('delta', '0.002'));

interface Scenario {
  name: string;
  /** Share of rows whose label the change flips for the concept-0 rule. */
  jump: string;
  /** Outcomes before the change point (the centre of a gradual change). */
  pre: number;
  /** Sigmoid width of the change (1: abrupt); detections from pre − width/2 on count as found. */
  width: number;
  to: 1 | 2 | 3;
  noise: number;
}

const SCENARIOS: Scenario[] = [
  { name: 'SEA 0→3 (θ 8→9.5), abrupt, 400 outcomes before — as the integration test', jump: '13.1%', pre: 400, width: 1, to: 3, noise: 0 },
  { name: 'SEA 0→3 (θ 8→9.5), abrupt', jump: '13.1%', pre: 2000, width: 1, to: 3, noise: 0 },
  { name: 'SEA 0→1 (θ 8→9), abrupt', jump: '8.5%', pre: 2000, width: 1, to: 1, noise: 0 },
  { name: 'SEA 0→2 (θ 8→7), abrupt', jump: '7.5%', pre: 2000, width: 1, to: 2, noise: 0 },
  { name: 'SEA 0→3, 10% label noise, abrupt', jump: '10.5%', pre: 2000, width: 1, to: 3, noise: 0.1 },
  { name: 'SEA 0→3, gradual (sigmoid width 1000; delay from its centre)', jump: '13.1%', pre: 2000, width: 1000, to: 3, noise: 0 },
];

const streamOf = (sc: Scenario, seed: number): DataStream =>
  new ConceptDriftStream(new Sea({ variant: 0, noise: sc.noise, seed }), new Sea({ variant: sc.to, noise: sc.noise, seed: seed + 100_000 }), { position: sc.pre, width: sc.width, seed });

function errors(stream: DataStream, length: number): Float64Array {
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const s = stream.next();
    out[i] = (s.x[0]! + s.x[1]! > 8 ? 1 : 0) === s.y ? 0 : 1;
  }
  return out;
}

const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

/** Delay in outcomes after the change point (1 = the first post-change outcome revealed it). */
function summarise(sc: Scenario, detections: number[][]) {
  const from = sc.pre - Math.floor(sc.width / 2);
  const delays: number[] = [];
  let misses = 0;
  let falseAlarms = 0;
  for (const hits of detections) {
    if (hits.some((i) => i < from)) falseAlarms++;
    const first = hits.find((i) => i >= from);
    if (first === undefined) misses++;
    else delays.push(first - sc.pre + 1);
  }
  return { median: quantile(delays, 0.5), p90: quantile(delays, 0.9), max: Math.max(...delays), misses, falseAlarms };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'flywheel-drift-bench-'));
try {
  const river = spawnSync(PYTHON, ['-c', 'import river; print(river.__version__)'], { encoding: 'utf8' }).stdout.trim();
  console.log(`# ADWIN detection delay on planted SEA drifts — ${N} streams each, ${POST} outcomes after the change, δ = ${DELTA}; Flywheel vs River ${river || '(not installed)'}\n`);
  console.log('| scenario | error jump | Flywheel median / p90 / max delay | River median / p90 / max delay | misses (F / R) | false alarms (F / R) | same detections |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const sc of SCENARIOS) {
    const length = sc.pre + POST;
    const streams = Array.from({ length: N }, (_, s) => errors(streamOf(sc, s + 1), length));
    // Ours as the DriftMonitor sees it: only a rise would start a retraining.
    const ours = streams.map((e) => ErrorMonitor.create(DELTA).feed(e));
    const all = new Float64Array(N * length);
    streams.forEach((e, s) => all.set(e, s * length));
    writeFileSync(path.join(dir, 'streams.f64'), all);
    let theirs: number[][] | undefined;
    if (river) {
      const r = spawnSync(PYTHON, [path.join(HERE, 'river_adwin.py'), '--dir', dir, '--length', String(length), '--delta', String(DELTA)], { encoding: 'utf8', maxBuffer: 64 << 20 });
      if (r.status !== 0) throw new Error(`river_adwin.py failed: ${r.stderr}`);
      theirs = (JSON.parse(r.stdout.trim().split('\n').pop()!) as { detections: number[][] }).detections;
    }
    const f = summarise(sc, ours.map((cs) => cs.filter((c) => c.direction === 'increase').map((c) => c.sample - 1)));
    const rv = theirs ? summarise(sc, theirs) : undefined;
    const same = theirs ? `${ours.filter((cs, s) => JSON.stringify(cs.map((c) => c.sample - 1)) === JSON.stringify(theirs![s])).length}/${N}` : '-';
    const cell = (x?: ReturnType<typeof summarise>) => (x ? `${x.median} / ${x.p90} / ${x.max}` : '-');
    console.log(`| ${sc.name} | ${sc.jump} | ${cell(f)} | ${cell(rv)} | ${f.misses} / ${rv?.misses ?? '-'} | ${f.falseAlarms} / ${rv?.falseAlarms ?? '-'} | ${same} |`);
  }
  console.log(`\nFlywheel: the first change ErrorMonitor calls a rise (what starts a retraining); River: the first change it reports (it has no direction). "same detections": every detection index of every stream identical.`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
