/**
 * `flywheel hpo start|status` and `flywheel train --search`: a durable hyperparameter search.
 * Everything checkable is checked at the edge (space, sampler, pruner, dataset rows, the stack).
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { FlywheelConfig } from '../../config/index';
import { datasetAtEdge } from '../dataset-edge';
import { queuedRunAttributes } from '../../config/search-attributes';
import { MlflowClient } from '../../clients/mlflow';
import { connectTemporal } from '../../clients/temporal';
import { datasetDigest } from '../../lib/data/digest';
import type { SamplerName } from '../../lib/hpo/index';
import { checkSearchInput, DEFAULT_SPACES, searchWorkflowId, type HyperparameterSearchInput, type PrunerName, type SearchMetric } from '../../lib/pipeline/search-input';
import { searchStatusQuery, type SearchResult, type SearchStatus } from '../../workflows/hyperparameter-search';
import { liveStatus } from '../workflow-state';
import { CliError, printFields, printJson, printTable } from '../output';
import { parseSearchParamFlags, readSpaceFile } from '../search-space-args';
import { defaultModelName, parseParams } from './train';
import { watchWorkflow } from '../watch';

export interface HpoStartOptions {
  dataset: string;
  model?: string;
  family: string;
  label?: string;
  param: string[];
  space?: string;
  searchParam: string[];
  sampler: string;
  pruner: string;
  trials: string;
  parallel: string;
  metric: string;
  seed?: string;
  trainBest: boolean;
  wait?: boolean;
  json?: boolean;
}

export async function hpoStartCommand(config: FlywheelConfig, opts: HpoStartOptions): Promise<void> {
  const family = opts.family;
  const space = opts.space ? await readSpaceFile(opts.space) : opts.searchParam.length ? parseSearchParamFlags(opts.searchParam) : DEFAULT_SPACES[family === 'logreg' || family === 'logistic-regression' ? 'softmax-regression' : family];
  const model = opts.model ?? defaultModelName(opts.dataset);
  const input: HyperparameterSearchInput = {
    model,
    dataset: opts.dataset,
    labelColumn: opts.label,
    family,
    space,
    fixed: parseParams(opts.param),
    sampler: opts.sampler as SamplerName,
    pruner: opts.pruner as PrunerName,
    trials: Number(opts.trials),
    parallel: Number(opts.parallel),
    metric: opts.metric as SearchMetric,
    seed: opts.seed === undefined ? undefined : Number(opts.seed),
    trainBest: opts.trainBest,
    taskQueues: { cpu: config.taskQueues.cpu, control: config.taskQueues.control },
  };
  if (!['grid', 'random', 'tpe', 'gp'].includes(opts.sampler)) throw new CliError(`unknown sampler "${opts.sampler}" (known: grid, random, tpe, gp)`, 2);
  if (!['none', 'median', 'successive-halving'].includes(opts.pruner)) throw new CliError(`unknown pruner "${opts.pruner}" (known: none, median, successive-halving)`, 2);
  if (space === undefined) throw new CliError(`no default search space for family "${family}": pass --space or --search-param`, 2);
  const checked = checkSearchInput(input);
  if (!checked.ok) throw new CliError(checked.message, 2);

  const edge = await datasetAtEdge(config, opts.dataset, { model: input.model, label: opts.label, snapshot: true });
  const loaded = edge.loaded!;
  const digest = edge.digest!;
  const normalised: HyperparameterSearchInput = { ...input, dataset: edge.reference, space: checked.value.space, family: checked.value.family };

  const { client, connection } = await connectTemporal(config);
  try {
    if (!(await new MlflowClient(config.mlflow).health())) {
      throw new CliError(`MLflow is not reachable at ${config.mlflow.trackingUri}: start the stack with \`flywheel up\``, 3);
    }
    const workflowId = searchWorkflowId(normalised.model, digest);
    try {
      await client.workflow.start('HyperparameterSearch', {
        taskQueue: config.taskQueues.workflows,
        workflowId,
        args: [normalised],
        typedSearchAttributes: queuedRunAttributes(normalised.model, digest),
        staticSummary: `Search ${normalised.model}: ${normalised.sampler}, ${normalised.trials} trials × ${normalised.parallel} parallel`,
        staticDetails: `dataset ${loaded.source} (${digest}); metric ${checked.value.metric}; space ${JSON.stringify(checked.value.space)}`,
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) throw new CliError(`a search for model ${normalised.model} on this dataset is already running: flywheel hpo status ${workflowId}`, 2);
      throw err;
    }
    if (!opts.wait) {
      if (opts.json) printJson({ workflowId, model: normalised.model, datasetDigest: digest });
      else printFields({ started: workflowId, watch: `flywheel hpo status ${workflowId}` });
      return;
    }
    const result = await watchWorkflow<SearchResult, SearchStatus>(client, workflowId, { query: searchStatusQuery, render: renderSearchStatus, show: !opts.json, what: 'search', intervalMs: 500 });
    if (opts.json) printJson(searchJson(result));
    else printSearchResult(result);
  } finally {
    await connection.close();
  }
}

/** `train --search` prints what `train --wait --json` prints, plus the search. */
function searchJson(r: SearchResult) {
  return {
    workflowId: r.final?.workflowId ?? r.workflowId,
    model: r.model,
    version: r.final?.version,
    metrics: r.final?.metrics,
    mlflowRunId: r.final?.mlflowRunId,
    search: { workflowId: r.workflowId, metric: r.metric, direction: r.direction, trials: r.trials, best: r.best, hyperparameters: r.hyperparameters, mlflowRunId: r.mlflowRunId },
  };
}

function printSearchResult(r: SearchResult): void {
  printFields({
    search: r.workflowId,
    trials: `${r.trials.complete} complete, ${r.trials.pruned} pruned, ${r.trials.failed} failed`,
    best: `trial ${r.best.number}: ${r.metric} ${r.best.value.toFixed(4)}`,
    hyperparameters: r.hyperparameters,
    model: r.final ? `${r.final.model} v${r.final.version}` : undefined,
    accuracy: r.final?.metrics.accuracy,
    logLoss: r.final?.metrics.logLoss,
  });
}

export function renderSearchStatus(s: SearchStatus): string {
  const t = s.trials;
  const done = t.complete + t.pruned + t.failed;
  const best = s.best ? ` best #${s.best.number} ${s.metric}=${s.best.value.toFixed(4)}` : '';
  return `[${done}/${t.total}] ${s.model} ${s.stage}: ${t.running} running, ${t.complete} complete, ${t.pruned} pruned, ${t.failed} failed${best}${s.error ? ` error: ${s.error}` : ''}`;
}

export async function hpoStatusCommand(config: FlywheelConfig, workflowId: string, opts: { json?: boolean }): Promise<void> {
  const { client, connection } = await connectTemporal(config);
  try {
    const s = await liveStatus(client, workflowId, searchStatusQuery, { what: 'search', notFound: `no search with id ${workflowId}` });
    if (opts.json) {
      printJson(s);
      return;
    }
    process.stdout.write(`${renderSearchStatus(s)}\n`);
    if (s.best) process.stdout.write(`best params: ${JSON.stringify(s.best.params)}\n`);
    process.stdout.write('\n');
    printTable(s.recent.map((t) => ({ trial: t.number, state: t.state, value: t.value, steps: t.steps, params: t.params })));
  } finally {
    await connection.close();
  }
}
