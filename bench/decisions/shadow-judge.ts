/**
 * The shadow judge (lib/shadow/judge.ts: a sequential McNemar test with the canary's e-process),
 * simulated as the canary's shadow step uses it: a look every interval, each adding a batch of
 * labelled requests answered by both versions.
 *
 *   1. Null: a shadow exactly as good as the serving version: how many runs ever call it worse over
 *      all the looks, against the naive reference, McNemar's one-sided z-test of the cumulative
 *      discordant counts at the same α re-run at every look.
 *   2. A worse shadow (error rate ×1.5, ×2): share called worse by the end, and the labelled requests
 *      until it is — against the canary's own two-sample test (the conditional e-process of
 *      lib/stats/e-processes.ts on each version's wrong labels, as if the requests were unpaired),
 *      the other test the machinery offers for the same data.
 *
 *   npx tsx bench/decisions/shadow-judge.ts [--runs 2000] [--looks 60] [--batch 20] [--base 0.1] [--shared 0] [--seed 1]
 *
 * `--shared`: the share of requests on which both versions draw from the same uniform (a request
 * hard for one is hard for the other, as for two models of the same data); the rest are drawn
 * independently. Each version keeps its error rate either way. 0 (independent errors) gives the most
 * discordant pairs, the paired test's least favourable case. Deterministic for given flags.
 */
import { parseArgs } from 'node:util';
import { createRng, deriveSeed } from '../../lib/random';
import { DEFAULT_ANALYSIS } from '../../lib/rollout/spec';
import { initialShadowState, judgeShadowWindow, shadowSpecOf } from '../../lib/shadow/judge';
import { mixtureLogE, twoSampleUpdate } from '../../lib/stats/e-processes';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '2000' },
    looks: { type: 'string', default: '60' },
    batch: { type: 'string', default: '20' },
    base: { type: 'string', default: '0.1' },
    shared: { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
  },
});
const RUNS = Number(values.runs);
const LOOKS = Number(values.looks);
const BATCH = Number(values.batch);
const BASE = Number(values.base);
const SEED = Number(values.seed);
const SHARED = Number(values.shared);
const spec = shadowSpecOf(DEFAULT_ANALYSIS);
const ALPHA = spec.alpha;
/** The canary's split: α over its harm tests, here the same two (accuracy, errors). */
const THRESHOLD = Math.log(spec.checks.length / ALPHA);
const Z = 2.3263; // one-sided 1 % (the naive reference at the same α)
const HARM_GRID = [1.25, 1.5, 2, 3, 5, 10].map(Math.log);

interface Outcome {
  paired?: number;
  unpaired?: number;
  naive: boolean;
}

function run(seed: number, shadowRate: number): Outcome {
  const rng = createRng(seed);
  let state = initialShadowState(spec);
  let unpaired = HARM_GRID.map(() => 0);
  let b = 0;
  let c = 0;
  const out: Outcome = { naive: false };
  for (let look = 1; look <= LOOKS; look++) {
    const w = { shadowOnlyWrong: 0, servedOnlyWrong: 0, shadowOnlyErrors: 0, servedOnlyErrors: 0 };
    let servedWrong = 0;
    let shadowWrong = 0;
    for (let i = 0; i < BATCH; i++) {
      const u = rng.next();
      const sv = u < BASE;
      const sh = (rng.next() < SHARED ? u : rng.next()) < shadowRate;
      servedWrong += Number(sv);
      shadowWrong += Number(sh);
      if (sh && !sv) w.shadowOnlyWrong++;
      if (sv && !sh) w.servedOnlyWrong++;
    }
    state = judgeShadowWindow(spec, state, w).state;
    if (out.paired === undefined && state.checks[0]!.worse) out.paired = look * BATCH;
    unpaired = twoSampleUpdate(unpaired, HARM_GRID, 0, { candidateEvents: shadowWrong, candidateTrials: BATCH, stableEvents: servedWrong, stableTrials: BATCH });
    if (out.unpaired === undefined && mixtureLogE(unpaired) >= THRESHOLD) out.unpaired = look * BATCH;
    b += w.shadowOnlyWrong;
    c += w.servedOnlyWrong;
    if (b + c > 0 && (b - c) / Math.sqrt(b + c) > Z) out.naive = true;
  }
  return out;
}

const median = (xs: number[]): number | string => {
  if (xs.length === 0) return '–';
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
};
const pct = (n: number) => `${n} / ${RUNS}${n ? ` (${((100 * n) / RUNS).toFixed(1)} %)` : ''}`;

const t0 = performance.now();
const cases: Array<[string, number]> = [
  ['as good as serving', BASE],
  ['worse: error rate ×1.5', BASE * 1.5],
  ['worse: error rate ×2', BASE * 2],
];
const rows: string[] = [];
for (const [ci, [name, rate]] of cases.entries()) {
  const outcomes = Array.from({ length: RUNS }, (_, r) => run(deriveSeed(SEED, ci, r), rate));
  const paired = outcomes.filter((o) => o.paired !== undefined);
  const unpaired = outcomes.filter((o) => o.unpaired !== undefined);
  rows.push(
    `| ${name} | ${rate.toFixed(3)} | ${pct(paired.length)} | ${pct(outcomes.filter((o) => o.naive).length)} | ${pct(unpaired.length)} | ${median(paired.map((o) => o.paired!))} | ${median(unpaired.map((o) => o.unpaired!))} |`,
  );
}
process.stdout.write(
  `shadow judge: ${RUNS} runs a case, ${LOOKS} looks of ${BATCH} labelled paired requests, serving error rate ${BASE}, shared draws ${SHARED}, α ${ALPHA} (split over ${spec.checks.length} checks), seed ${SEED}\n\n` +
    '| case | shadow error rate | called worse, sequential McNemar | McNemar z-test at every look | canary two-sample e-process (unpaired) | median labels to "worse", McNemar | same, unpaired |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n' +
    `${rows.join('\n')}\n\n` +
    `${((performance.now() - t0) / 1000).toFixed(1)} s, peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB\n`,
);
