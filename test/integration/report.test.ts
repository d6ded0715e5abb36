/**
 * `flywheel report <model>` on the real stack, read by a real browser: two versions trained by the
 * real TrainingPipeline, v1 served by a real gateway, a short canary of v2 run to its outcome under
 * replayed traffic with true labels; then the CLI (a real process) writes the page, and headless
 * Chromium (the Debian package) renders it. `--dump-dom` returns the document after the browser
 * has parsed and laid it out, so what is checked is what a browser shows: the model, both versions
 * and what they learned from, the canary's outcome, and its evidence plot with one point per look
 * and the threshold line, and an A/B test's interval as the workflow computed it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployVersion } from '../../activities/deploy';
import { PROJECT_ROOT } from '../../config/index';
import { MODEL_NAME } from '../../config/search-attributes';
import { loadDataset } from '../../datasets/load';
import type { Dataset } from '../../lib/data/table';
import type { ModelReport } from '../../lib/report/types';
import type { CanaryRolloutInput } from '../../lib/rollout/spec';
import { createGateway, type Gateway } from '../../serving/app';
import { replay } from '../../traffic/replay';
import type { RolloutResult } from '../../workflows/canary-rollout';
import type { ABTestResult } from '../../workflows/ab-test';
import type { ABTestInput } from '../../lib/experiment/spec';
import { testApiKey } from './helpers/auth';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';

/** The Debian package's executable (scripts/setup.sh installs it); the test is skipped without one. */
const CHROMIUM = ['chromium', 'chromium-browser', 'google-chrome'].find((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);
if (!CHROMIUM) console.warn('report.test.ts: skipped — no headless Chromium on this machine (Debian: apt-get install chromium, or run scripts/setup.sh as root)');

let env: TestEnv;
let gateway: Gateway;
let url: string;
let apiKey: string;
let iris: Dataset;
let dir: string;
const model = uniqueModelName('report');

function flywheel(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const cliEnv = { FLYWHEEL_TASK_QUEUE_WORKFLOWS: env.taskQueues.workflows, FLYWHEEL_TASK_QUEUE_CPU: env.taskQueues.cpu, FLYWHEEL_TASK_QUEUE_CONTROL: env.taskQueues.control };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/flywheel.mjs', ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...cliEnv } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Headless Chromium: the rendered DOM of a file, or a screenshot of it. */
function chromium(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(CHROMIUM!, ['--headless', '--disable-gpu', '--no-sandbox', '--no-first-run', `--user-data-dir=${path.join(dir, 'chromium-profile')}`, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const openingTags = (html: string, tag: string, cls: string) => [...html.matchAll(new RegExp(`<${tag}\\b[^>]*class="${cls}"[^>]*>`, 'g'))].map((m) => m[0]);
const attr = (tag: string, name: string) => new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1];
/** The text a reader sees: tags dropped, entities decoded, whitespace collapsed. */
const text = (html: string) =>
  html
    .replace(/<title>[\s\S]*?<\/title>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

/** Replays iris with true labels through the gateway until `until` settles. */
async function underTraffic<T>(until: Promise<T>, seed: number): Promise<T> {
  let done = false;
  const value = until.finally(() => (done = true));
  while (!done) await replay({ url, apiKey, model, dataset: iris, rate: 120, durationMs: 2000, labelDelayMs: 50, units: 400, seed: seed++ });
  return value;
}

beforeAll(async () => {
  env = await openTestEnv('report');
  dir = await mkdtemp(path.join(tmpdir(), 'flywheel-report-'));
  const loaded = await loadDataset('builtin:iris');
  if (!loaded.ok) throw new Error(loaded.error.message);
  iris = loaded.value.dataset;
});

afterAll(async () => {
  await gateway?.close();
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!CHROMIUM)('flywheel report, rendered by headless Chromium', () => {
  it('refuses an unknown model with one line and exit 2, writing nothing', async () => {
    const out = path.join(dir, 'unknown.html');
    const r = await flywheel(['report', uniqueModelName('no-such-model'), '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^flywheel: no registered model named no-such-model-[0-9a-f]{8} \(see flywheel models list\)$/);
    await expect(readFile(out)).rejects.toThrow(/ENOENT/);
  });

  it("shows both versions, the canary's outcome and its evidence per look against the threshold", async () => {
    const out = path.join(dir, `${model}.html`);
    const { result, abResult, cli } = await runWorkers(env, async () => {
      for (const [i, epochs] of [[1, 200], [2, 300]] as const) {
        const h = await env.client.workflow.start('TrainingPipeline', {
          taskQueue: env.taskQueues.workflows,
          workflowId: `train-${model}-v${i}`,
          args: [{ model, dataset: 'builtin:iris', family: 'softmax-regression', hyperparameters: { epochs, learningRate: 0.5, seed: 1 }, taskQueues: { cpu: env.taskQueues.cpu, control: env.taskQueues.control } }],
          typedSearchAttributes: [{ key: MODEL_NAME, value: model }],
        });
        await h.result();
      }
      await deployVersion(env.db, env.mlflow, { model, version: '1' });
      gateway = await createGateway(env.config, { port: 0, logger: false });
      url = await gateway.listen();
      apiKey = await testApiKey(env, 'report');

      const input: CanaryRolloutInput = {
        model,
        candidateVersion: '2',
        steps: [
          { weight: 30, pauseSeconds: 2 },
          { weight: 100, pauseSeconds: 0 },
        ],
        analysis: { intervalSeconds: 1, minSamplePerStep: 30, minLabelledSample: 20, inconclusiveLimit: 30 },
        taskQueues: { cpu: env.taskQueues.cpu, control: env.taskQueues.control },
      };
      const handle = await env.client.workflow.start('CanaryRollout', { taskQueue: env.taskQueues.workflows, workflowId: `canary-${model}`, args: [input] });
      const result = await underTraffic(handle.result() as Promise<RolloutResult>, 1);
      // Then a short A/B test of the new champion against v1: its intervals are on the page too.
      const abInput: ABTestInput = {
        model,
        versions: ['2', '1'],
        primaryMetric: 'accuracy',
        tau2: 0.01,
        minSamplePerArm: 100,
        maxDurationSeconds: 10,
        checkIntervalSeconds: 1,
        taskQueues: { cpu: env.taskQueues.cpu, control: env.taskQueues.control },
      };
      const ab = await env.client.workflow.start('ABTest', { taskQueue: env.taskQueues.workflows, workflowId: `ab-${model}`, args: [abInput] });
      const abResult = await underTraffic(ab.result() as Promise<ABTestResult>, 100);

      // The report finds workflows through visibility, which follows the close by a moment.
      for (let i = 0; i < 100; i++) {
        const { count } = await env.client.workflow.count(`${MODEL_NAME.name} = "${model}" AND (WorkflowType = 'CanaryRollout' OR WorkflowType = 'ABTest') AND ExecutionStatus = 'Completed'`);
        if (count >= 2) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      // The workers still run: the closed rollout's status query is answered by replaying its history.
      const cli = await flywheel(['report', model, '--out', out, '--since', '1h', '--json']);
      return { result, abResult, cli };
    });

    expect(result.outcome, result.reason).toBe('promoted');
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    const printed = JSON.parse(cli.stdout) as { path: string; url: string; report: ModelReport };
    expect(printed.path).toBe(out);
    expect(printed.url).toBe(pathToFileURL(out).href);
    const canary = printed.report.canaries.find((c) => c.workflowId === `canary-${model}`)!;
    expect(canary.looks).toHaveLength(result.analyses);

    // What the browser shows.
    const rendered = chromium(['--dump-dom', printed.url]);
    expect(rendered.status, rendered.stderr.slice(-2000)).toBe(0);
    const dom = rendered.stdout;
    expect(dom).toContain(`<h1 id="model-name">${model}</h1>`);
    expect(dom).toContain('<strong id="champion-version">v2</strong>');

    const versions = /<section id="versions">([\s\S]*?)<\/section>/.exec(dom)![1]!;
    const versionsText = text(versions);
    expect(versionsText).toContain('v1');
    expect(versionsText).toContain('v2');
    expect(versionsText).toMatch(/v2 champion .*iris, 150 rows, 4 features .*epochs=300/);
    expect(versionsText).toMatch(/v1 .*iris, 150 rows, 4 features .*epochs=200/);
    expect(versionsText).toMatch(/canary: promoted passed \d+ analyses over 2 steps/);

    expect(text(/<section id="champion">[\s\S]*?<\/section>/.exec(dom)![0])).toContain(`v2 — promoted by canary canary-${model} over v1: ${result.reason}`);

    const article = /<article class="canary" data-workflow-id="([^"]+)" data-outcome="([^"]+)">([\s\S]*?)<\/article>/.exec(dom)!;
    expect(article[1]).toBe(`canary-${model}`);
    expect(article[2]).toBe('promoted');
    expect(text(article[3]!)).toContain(`v2 against v1: promoted`);
    expect(text(article[3]!)).toContain(result.reason);

    // One evidence figure per metric the judge checked; each plots every look and its threshold line.
    const figures = [...article[3]!.matchAll(/<figure class="evidence" data-metric="([^"]+)" data-looks="(\d+)">([\s\S]*?)<\/figure>/g)];
    expect(figures.map((f) => f[1])).toEqual(expect.arrayContaining(['errorRate', 'accuracy']));
    for (const [, metric, looks, svg] of figures) {
      expect(Number(looks), metric).toBe(result.analyses);
      expect(svg).toMatch(/^<svg [^>]*class="chart"/);
      const harm = openingTags(svg!, 'circle', 'point').filter((c) => attr(c, 'data-series') === 'harm ln E');
      expect(harm, metric).toHaveLength(result.analyses);
      const threshold = openingTags(svg!, 'line', 'threshold').find((l) => attr(l, 'data-series') === 'harm ln E');
      expect(threshold, metric).toBeDefined();
      // Promoted: no harm evidence ever reached the line (points sit below it, SVG y grows downwards).
      expect(Number(attr(threshold!, 'data-value'))).toBeGreaterThan(0);
      for (const p of harm) expect(Number(attr(p, 'data-value'))).toBeLessThan(Number(attr(threshold!, 'data-value')));
      for (const p of harm) expect(Number(attr(p, 'cy'))).toBeGreaterThan(Number(attr(threshold!, 'y1')));
    }

    // The A/B test: its decision, and each comparison's interval as the workflow computed it.
    const abArticle = new RegExp(`<article class="abtest" data-workflow-id="ab-${model}">([\\s\\S]*?)</article>`).exec(dom)!;
    expect(abArticle, 'the A/B test is on the page').not.toBeNull();
    expect(text(abArticle[1]!)).toContain(abResult.decision.reason);
    const comparison = abResult.latest.comparisons[0]!;
    expect(comparison.ci).not.toBeNull();
    const bars = openingTags(abArticle[1]!, 'line', 'interval');
    expect(bars.map((b) => [attr(b, 'data-series'), Number(attr(b, 'data-low')), Number(attr(b, 'data-high'))])).toEqual([['v1 − v2', comparison.ci![0], comparison.ci![1]]]);
    expect(openingTags(abArticle[1]!, 'line', 'threshold').map((l) => attr(l, 'data-series'))).toEqual(['zero']);

    // Served accuracy: the labelled traffic of both versions during the rollout.
    const accuracy = /<section id="accuracy">[\s\S]*?<\/section>/.exec(dom)![0];
    const series = new Set(openingTags(accuracy, 'circle', 'point').map((p) => attr(p, 'data-series')));
    expect([...series].sort()).toEqual(['v1', 'v2']);

    // And it draws: a screenshot is a real PNG.
    const png = path.join(dir, 'report.png');
    const shot = chromium(['--window-size=1200,2400', `--screenshot=${png}`, printed.url]);
    expect(shot.status, shot.stderr.slice(-2000)).toBe(0);
    expect((await readFile(png)).subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');

    // `models show` points at the report (its default place; this test wrote elsewhere, to keep the data folder clean).
    const show = await flywheel(['models', 'show', model]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`report: \`flywheel report ${model}\` writes the model's story on one page to ${path.join(env.config.dataDir, 'reports', `${model}.html`)}`);
  });
});
