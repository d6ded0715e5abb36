/**
 * `flywheel canary start|status|promote|pause|resume|abort`: canary rollouts as durable workflows.
 * One rollout per model (workflow id `canary-<model>`); steering goes through workflow updates, so
 * an impossible request (resume a rollout that is not paused) is refused with the workflow's reason.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Command } from 'commander';
import type { FlywheelConfig } from '../../config/index';
import { MODEL_NAME, PIPELINE_STAGE } from '../../config/search-attributes';
import { connectTemporal } from '../../clients/temporal';
import type { MetricReport } from '../../lib/rollout/sequential-judge';
import { checkRollout, DEFAULT_STEPS, parseSegmentGuardrail, parseSteps, type AnalysisSpec, type CanaryRolloutInput } from '../../lib/rollout/spec';
import { abortUpdate, pauseUpdate, promoteUpdate, resumeUpdate, rolloutStatusQuery, type RolloutResult, type RolloutStatus } from '../../workflows/canary-rollout';
import { json, withConfig } from '../command-kit';
import { CliError, formatCell, printFields, printJson, printTable } from '../output';
import { readSpaceFile } from '../search-space-args';
import { innermost, watchWorkflow } from '../watch';
import { checkCanaryStart } from '../edge';
import { liveStatus } from '../workflow-state';

export const canaryWorkflowId = (model: string) => `canary-${model}`;

interface StartOptions {
  steps?: string;
  stable?: string;
  interval?: string;
  minSample?: string;
  minLabelled?: string;
  failureLimit?: string;
  judge?: string;
  alpha?: string;
  analysis?: string;
  segmentGuardrail?: string[];
  wait?: boolean;
  json?: boolean;
}

async function startCanary(config: FlywheelConfig, model: string, version: string, opts: StartOptions): Promise<void> {
  let steps = DEFAULT_STEPS;
  if (opts.steps) {
    const parsed = parseSteps(opts.steps);
    if (!parsed.ok) throw new CliError(parsed.message, 2);
    steps = parsed.steps;
  }
  const analysis: Partial<AnalysisSpec> = opts.analysis ? ((await readSpaceFile(opts.analysis, 'analysis file')) as Partial<AnalysisSpec>) : {};
  const num = (v: string | undefined, key: keyof AnalysisSpec) => {
    if (v === undefined) return;
    (analysis as Record<string, number>)[key] = Number(v);
  };
  num(opts.interval, 'intervalSeconds');
  num(opts.minSample, 'minSamplePerStep');
  num(opts.minLabelled, 'minLabelledSample');
  num(opts.failureLimit, 'failureLimit');
  num(opts.alpha, 'alpha');
  if (opts.judge !== undefined) analysis.judge = opts.judge as AnalysisSpec['judge'];
  if (opts.segmentGuardrail?.length) {
    analysis.segmentGuardrails = [...(analysis.segmentGuardrails ?? [])];
    for (const text of opts.segmentGuardrail) {
      const parsed = parseSegmentGuardrail(text);
      if (!parsed.ok) throw new CliError(parsed.message, 2);
      analysis.segmentGuardrails.push(parsed.value);
    }
  }
  const input: CanaryRolloutInput = { model, candidateVersion: version, stableVersion: opts.stable, steps, analysis, taskQueues: { cpu: config.taskQueues.cpu, control: config.taskQueues.control } };
  const checked = checkRollout(input);
  if (!checked.ok) throw new CliError(checked.message, 2);

  const { client, connection } = await connectTemporal(config);
  try {
    const workflowId = canaryWorkflowId(model);
    await checkCanaryStart(config, client, workflowId, model, version, opts.stable);
    try {
      await client.workflow.start('CanaryRollout', {
        taskQueue: config.taskQueues.workflows,
        workflowId,
        // The analysis as resolved now, defaults included: a later release that changes a default
        // cannot change the decisions of a rollout already running (its replay reads this input).
        args: [{ ...input, analysis: checked.value.analysis }],
        typedSearchAttributes: [
          { key: MODEL_NAME, value: model },
          { key: PIPELINE_STAGE, value: 'canary' },
        ],
        staticSummary: `Canary ${model} v${version}: ${steps.map((s) => (s.shadow ? 'shadow' : `${s.weight}%`)).join(' → ')}`,
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new CliError(`a rollout of model ${model} is already running (${workflowId}): see flywheel canary status ${model}, or abort it first`, 2);
      }
      throw err;
    }
    if (!opts.wait) {
      if (opts.json) printJson({ workflowId, model, candidateVersion: version });
      else printFields({ started: workflowId, watch: `flywheel canary status ${model}` });
      return;
    }
    const result = await watchWorkflow<RolloutResult, RolloutStatus>(client, workflowId, { query: rolloutStatusQuery, render: renderRollout, show: !opts.json, what: 'rollout', intervalMs: 1000 });
    if (opts.json) printJson(result);
    else printFields({ rollout: result.workflowId, outcome: result.outcome, reason: result.reason, stable: `v${result.stableVersion}`, candidate: `v${result.candidateVersion}` });
  } finally {
    await connection.close();
  }
}

export function renderRollout(s: RolloutStatus): string {
  const weights = Object.entries(s.weights)
    .map(([v, w]) => `v${v} ${w / 100}%`)
    .join(', ');
  const last = s.analyses[s.analyses.length - 1];
  return `${s.model} v${s.candidateVersion}: ${s.state}, step ${s.step}/${s.steps.length} (${weights || 'no traffic yet'})${last ? `, last analysis ${last.verdict}: ${last.reason}` : ''}`;
}

async function statusCommand(config: FlywheelConfig, model: string, opts: { json?: boolean }): Promise<void> {
  const { client, connection } = await connectTemporal(config);
  try {
    const s = await liveStatus(client, canaryWorkflowId(model), rolloutStatusQuery, { what: 'rollout', notFound: `no rollout for model ${model}` });
    if (opts.json) {
      printJson(s);
      return;
    }
    process.stdout.write(`${renderRollout(s)}\n\ndecisions:\n`);
    printTable(s.decisions.map((d) => ({ at: d.at, action: d.action, reason: d.reason })));
    process.stdout.write('\nanalyses (newest last):\n');
    printTable(
      s.analyses.slice(-10).map((a) => ({
        at: a.at,
        step: a.step,
        verdict: a.verdict,
        requests: `${a.candidateRequests}/${a.stableRequests}`,
        checks: a.checks.map(renderCheck).join(' '),
      })),
    );
  } finally {
    await connection.close();
  }
}

/** One metric of a look: the sequential judge's evidence (harm E / its threshold, no-regression E / its threshold), or the first judge's rate. */
function renderCheck(c: RolloutStatus['analyses'][number]['checks'][number]): string {
  const e = (c as Partial<MetricReport>).evidence;
  if (!e) return `${c.metric}=${formatCell(c.candidate)}:${c.verdict}`;
  const n = (x: number) => (x >= 1e4 ? x.toExponential(1) : Number(x.toPrecision(3)).toString());
  if (c.segment) return `${c.segment}/${c.metric}:${c.verdict} harm ${n(e.harmE)}/${n(e.harmThreshold)}`;
  return `${c.metric}:${c.verdict} harm ${n(e.harmE)}/${n(e.harmThreshold)} safe ${n(e.safetyE)}/${n(e.safetyThreshold)}`;
}

type Steer = typeof promoteUpdate | typeof pauseUpdate | typeof abortUpdate;

async function steer(config: FlywheelConfig, model: string, update: Steer | typeof resumeUpdate, reason: string | undefined, opts: { json?: boolean }): Promise<void> {
  const { client, connection } = await connectTemporal(config);
  try {
    const handle = client.workflow.getHandle(canaryWorkflowId(model));
    let s: RolloutStatus;
    try {
      s = update === resumeUpdate ? await handle.executeUpdate(resumeUpdate) : await handle.executeUpdate(update as Steer, { args: [reason ?? ''] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw new CliError(`${update.name} refused: ${innermost(err)}`, 2);
      if ((err as Error).name === 'WorkflowNotFoundError') throw new CliError(`no running rollout for model ${model}`, 2);
      throw err;
    }
    if (opts.json) printJson(s);
    else process.stdout.write(`${update.name}: accepted\n${renderRollout(s)}\n`);
  } finally {
    await connection.close();
  }
}

export function registerCanaryCommands(program: Command): void {
  const canary = program.command('canary').description('canary rollouts with automatic analysis and rollback');
  json(
    canary
      .command('start <model> <version>')
      .description('roll a registered version out step by step against the version serving now')
      .option('--steps <list>', 'WEIGHT[:PAUSE] list, e.g. 5:30s,25:1m,50:1m,100; may begin with shadow:DURATION (the candidate answers every request unseen, judged on the same requests, rolled back before any exposure if worse), e.g. shadow:10m,5:30s,100', undefined)
      .option('--stable <version>', 'compare against this version (default: the one with most traffic)')
      .option('--interval <seconds>', 'analysis interval')
      .option('--min-sample <n>', 'fixed-horizon judge: candidate requests an analysis needs')
      .option('--min-labelled <n>', 'fixed-horizon judge: labelled candidate predictions needed to judge accuracy')
      .option('--judge <name>', 'sequential (default: valid at every look) or fixed-horizon (the first judge, for comparison)')
      .option('--alpha <p>', 'sequential judge: probability of rolling back a candidate no worse than stable, over the whole rollout (default 0.01)')
      .option('--failure-limit <n>', 'fixed-horizon judge: failed analyses tolerated before rollback (default 0)')
      .option('--analysis <file>', 'analysis spec as JSON/YAML (metrics, limits, judges)')
      .option('--segment-guardrail <attr=value>', 'sequential judge: also compare error rate and accuracy within this segment at every look, rolling back on harm there (repeatable), e.g. plan=pro', (v: string, acc: string[] = []) => [...acc, v])
      .option('-w, --wait', 'wait for the outcome, printing each change'),
  ).action(withConfig((config, model: string, version: string, opts: StartOptions) => startCanary(config, model, version, opts)));
  json(canary.command('status <model>').description('current step, weights, analyses and decisions')).action(
    withConfig((config, model: string, opts: { json?: boolean }) => statusCommand(config, model, opts)),
  );
  for (const [name, update, help] of [
    ['promote', promoteUpdate, 'skip the remaining steps: candidate to 100% and champion'],
    ['pause', pauseUpdate, 'hold the current step (analyses continue)'],
    ['abort', abortUpdate, 'roll back now: candidate to 0%, rejected with the reason'],
  ] as const) {
    json(canary.command(`${name} <model>`).description(help).option('--reason <text>', 'recorded with the decision')).action(
      withConfig((config, model: string, opts: { reason?: string; json?: boolean }) => steer(config, model, update, opts.reason, opts)),
    );
  }
  json(canary.command('resume <model>').description('continue a paused rollout')).action(
    withConfig((config, model: string, opts: { json?: boolean }) => steer(config, model, resumeUpdate, undefined, opts)),
  );
}
