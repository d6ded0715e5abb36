/** `flywheel ab start|status|stop`: A/B tests of model versions with always-valid statistics. */
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import type { Command } from 'commander';
import type { FlywheelConfig } from '../../config/index';
import { MODEL_NAME, PIPELINE_STAGE } from '../../config/search-attributes';
import { connectTemporal } from '../../clients/temporal';
import { checkABTest, type ABTestInput, type PrimaryMetric } from '../../lib/experiment/spec';
import { parseSegmentGuardrail, type SegmentGuardrail } from '../../lib/rollout/spec';
import { abStatusQuery, stopSignal, type ABTestResult, type ABTestStatus } from '../../workflows/ab-test';
import type { Look } from '../../lib/experiment/evaluate';
import { json, withConfig } from '../command-kit';
import { parsePlanFlags, planStart, printPlan, type AbStartPlan } from './ab-plan';
import { CliError, formatCell, printFields, printJson, printTable } from '../output';
import { innermost } from '../watch';
import { checkABStart } from '../edge';
import { liveStatus } from '../workflow-state';

export const abWorkflowId = (model: string) => `ab-${model}`;

interface StartOptions {
  metric: string;
  mde?: string;
  baseline?: string;
  tau2?: string;
  plan?: boolean;
  split?: string;
  alpha?: string;
  minSample?: string;
  minDuration?: string;
  maxDuration: string;
  interval?: string;
  maxErrorRate?: string;
  maxP95Ms?: string;
  segmentGuardrail?: string[];
  promote?: boolean;
  wait?: boolean;
  json?: boolean;
}

const optNum = (v: string | undefined) => (v === undefined ? undefined : Number(v));

async function start(config: FlywheelConfig, model: string, versions: string[], opts: StartOptions): Promise<void> {
  const segments: SegmentGuardrail[] = [];
  for (const text of opts.segmentGuardrail ?? []) {
    const parsed = parseSegmentGuardrail(text);
    if (!parsed.ok) throw new CliError(parsed.message, 2);
    segments.push(parsed.value);
  }
  const input: ABTestInput = {
    model,
    versions,
    split: opts.split ? opts.split.split(',').map(Number) : undefined,
    primaryMetric: opts.metric as PrimaryMetric,
    // Checked below with a stand-in when --mde will derive it.
    tau2: opts.tau2 === undefined ? 1 : Number(opts.tau2),
    alpha: optNum(opts.alpha),
    minSamplePerArm: optNum(opts.minSample),
    minDurationSeconds: optNum(opts.minDuration),
    maxDurationSeconds: Number(opts.maxDuration),
    checkIntervalSeconds: optNum(opts.interval),
    guardrails: { maxErrorRate: optNum(opts.maxErrorRate), maxP95LatencyMs: optNum(opts.maxP95Ms), ...(segments.length ? { segments } : {}) },
    promoteWinner: opts.promote ?? false,
    taskQueues: { cpu: config.taskQueues.cpu, control: config.taskQueues.control },
  };
  if (opts.mde === undefined && opts.tau2 === undefined) {
    throw new CliError('--mde is required: the smallest change worth detecting, absolute (0.01) or relative (10%); or set the mixing variance directly with --tau2', 2);
  }
  parsePlanFlags(opts);
  const checked = checkABTest(input);
  if (!checked.ok) throw new CliError(checked.message, 2);
  const { client, connection } = await connectTemporal(config);
  try {
    const workflowId = abWorkflowId(model);
    // Names first (model, versions, nothing running), then the plan that reads their traffic.
    await checkABStart(config, client, workflowId, model, versions);
    let plan: AbStartPlan | undefined;
    if (opts.mde !== undefined) {
      const spec = checked.value;
      plan = await planStart(config, { model, versions, split: spec.split, metric: spec.primaryMetric, alpha: spec.alpha, flags: { mde: opts.mde, baseline: opts.baseline, tau2: opts.tau2 === undefined ? undefined : input.tau2 } });
      if (opts.tau2 === undefined) input.tau2 = plan.tau2;
      input.maxSamplePerArm = Math.max(plan.maxSamplePerArm, spec.minSamplePerArm);
      const replanned = checkABTest(input);
      if (!replanned.ok) throw new CliError(replanned.message, 2);
      if (!opts.json) printPlan(plan, spec.maxDurationSeconds);
    }
    if (opts.plan) {
      if (opts.json) printJson({ model, versions, plan: plan ?? null });
      else if (!plan) process.stdout.write('no plan without --mde\n');
      return;
    }
    try {
      await client.workflow.start('ABTest', {
        taskQueue: config.taskQueues.workflows,
        workflowId,
        args: [input],
        typedSearchAttributes: [
          { key: MODEL_NAME, value: model },
          { key: PIPELINE_STAGE, value: 'ab-test' },
        ],
        staticSummary: `A/B ${model}: ${versions.map((v) => `v${v}`).join(' vs ')} on ${input.primaryMetric}`,
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) throw new CliError(`an A/B test of model ${model} is already running (${workflowId}): flywheel ab status ${model}`, 2);
      throw err;
    }
    if (!opts.wait) {
      if (opts.json) printJson({ workflowId, model, versions, plan: plan ?? null });
      else printFields({ started: workflowId, watch: `flywheel ab status ${model}` });
      return;
    }
    let result: ABTestResult;
    try {
      result = (await client.workflow.getHandle(workflowId).result()) as ABTestResult;
    } catch (err) {
      if (err instanceof WorkflowFailedError) throw new CliError(`A/B test failed: ${innermost(err)}`);
      throw err;
    }
    if (opts.json) printJson({ ...result, plan: plan ?? null });
    else {
      printFields({ test: result.workflowId, decision: result.decision.kind, reason: result.decision.reason, looks: result.looks });
      printLook(result.latest);
    }
  } finally {
    await connection.close();
  }
}

function printLook(look: Look | undefined): void {
  if (!look) return;
  process.stdout.write('\n');
  printTable(
    look.arms.map((a, i) => {
      const c = i === 0 ? undefined : look.comparisons[i - 1];
      return {
        version: `v${a.version}${i === 0 ? ' (control)' : ''}`,
        units: a.units,
        requests: a.requests,
        n: a.n,
        estimate: a.estimate,
        lift: c?.lift === null || c?.lift === undefined ? undefined : `${(c.lift * 100).toFixed(2)}%`,
        interval: c?.ci ? `[${formatCell(c.ci[0])}, ${formatCell(c.ci[1])}]` : undefined,
        pValue: c?.adjustedPValue,
        errorRate: a.errorRate,
        p95Ms: a.p95LatencyMs,
      };
    }),
  );
  if (look.srm) process.stdout.write(`\nsample ratio (sequential test): e-value ${look.srm.eValue.toPrecision(3)} of ${look.srm.threshold} to halt${look.srm.mismatch ? ' (MISMATCH)' : ''}\n`);
}

async function status(config: FlywheelConfig, model: string, opts: { json?: boolean }): Promise<void> {
  const { client, connection } = await connectTemporal(config);
  try {
    const s = await liveStatus(client, abWorkflowId(model), abStatusQuery, { what: 'A/B test', notFound: `no A/B test for model ${model}` });
    if (opts.json) {
      printJson(s);
      return;
    }
    const decision = s.decision ?? s.latest?.decision;
    printFields({ test: s.workflowId, state: s.state, split: s.split.map((w, i) => `v${s.versions[i]} ${w}%`).join(', '), looks: s.looks, elapsed: `${s.elapsedSeconds.toFixed(0)}s`, runs: s.runs, decision: decision ? `${decision.kind}: ${decision.reason}` : undefined });
    const events = s.decisions ?? [];
    if (events.length) {
      process.stdout.write('\n');
      printTable(events.map((d) => ({ at: d.at, action: d.action, reason: d.reason })));
    }
    printLook(s.latest);
  } finally {
    await connection.close();
  }
}

async function stop(config: FlywheelConfig, model: string, opts: { reason?: string; json?: boolean }): Promise<void> {
  const { client, connection } = await connectTemporal(config);
  try {
    const handle = client.workflow.getHandle(abWorkflowId(model));
    const d = await handle.describe().catch((err: Error) => {
      throw err.name === 'WorkflowNotFoundError' ? new CliError(`no A/B test for model ${model}`, 2) : err;
    });
    if (d.status.name !== 'RUNNING') throw new CliError(`the A/B test of ${model} is not running (${d.status.name.toLowerCase()})`, 2);
    await handle.signal(stopSignal, opts.reason ?? 'stopped by user');
    if (opts.json) printJson({ workflowId: handle.workflowId, stopping: true });
    else process.stdout.write(`stopping ${handle.workflowId}: it concludes with the data so far at its next look\n`);
  } finally {
    await connection.close();
  }
}

export function registerAbCommands(program: Command): void {
  const ab = program.command('ab').description('A/B tests of model versions, valid under continuous monitoring (mSPRT)');
  json(
    ab
      .command('start <model> <versions...>')
      .description('split traffic between versions (the first is the control) and decide by itself')
      .option('--metric <name>', 'primary metric: accuracy, click-rate or rating', 'accuracy')
      .option('--mde <effect>', 'smallest change worth detecting: absolute (0.01) or relative to the baseline (10%); sizes τ² and the maximum sample for 80% power')
      .option('--baseline <value>', "the control's rate or mean (default: read from its last 10 minutes of traffic)")
      .option('--tau2 <variance>', 'override: mSPRT mixing variance, fixed in advance (squared metric units); without --mde the test has no planned maximum sample')
      .option('--plan', 'print the plan (τ², samples, expected duration) and exit without starting')
      .option('--split <percents>', 'e.g. 50,50 (default: equal)')
      .option('--alpha <a>', 'false-positive rate (default 0.05)')
      .option('--min-sample <n>', 'primary-metric observations per arm before any decision (default 100)')
      .option('--min-duration <s>', 'seconds before any decision (default 0)')
      .option('--max-duration <s>', 'after this the result is "inconclusive"', '86400')
      .option('--interval <s>', 'seconds between looks (default 10)')
      .option('--max-error-rate <r>', 'guardrail: halt when an arm errs more')
      .option('--max-p95-ms <ms>', 'guardrail: halt when an arm is slower')
      .option('--segment-guardrail <attr=value>', 'guardrail: halt when an arm is worse than the control within this segment (errors or wrong labels, anytime-valid at α 0.01 over all of them; repeatable), e.g. plan=pro', (v: string, acc: string[] = []) => [...acc, v])
      .option('--promote', 'promote the winner through a canary rollout')
      .option('-w, --wait', 'wait for the decision'),
  ).action(withConfig((config, model: string, versions: string[], opts: StartOptions) => start(config, model, versions, opts)));
  json(ab.command('status <model>').description('per-arm counts, estimates, lift, interval and p-value')).action(
    withConfig((config, model: string, opts: { json?: boolean }) => status(config, model, opts)),
  );
  json(ab.command('stop <model>').description('conclude now with the data so far').option('--reason <text>')).action(
    withConfig((config, model: string, opts: { reason?: string; json?: boolean }) => stop(config, model, opts)),
  );
}
