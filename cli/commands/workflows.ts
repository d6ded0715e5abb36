/** `flywheel workflows list|show`: what Flywheel is running and has run, from Temporal itself. */
import type { WorkflowExecutionInfo } from '@temporalio/client';
import type { FlywheelConfig } from '../../config/index';
import { MODEL_NAME, PIPELINE_STAGE } from '../../config/search-attributes';
import { connectTemporal } from '../../clients/temporal';
import { statusQuery, type TrainingStatus } from '../../workflows/training-pipeline';
import { CliError, printFields, printJson, printTable } from '../output';
import { renderTrainingStatus } from '../render-status';

export async function listWorkflows(config: FlywheelConfig, opts: { model?: string; limit: string; json?: boolean }): Promise<void> {
  const limit = Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new CliError(`--limit must be a positive integer (got ${opts.limit})`, 2);
  const { client, connection } = await connectTemporal(config);
  try {
    // Every Flywheel workflow sets its stage (knowledge batches have no model), so the stage finds them all.
    const query = opts.model ? `${MODEL_NAME.name} = ${JSON.stringify(opts.model)}` : `${PIPELINE_STAGE.name} IS NOT NULL`;
    const rows: ReturnType<typeof summarise>[] = [];
    for await (const wf of client.workflow.list({ query, pageSize: Math.min(limit, 100) })) {
      rows.push(summarise(wf));
      if (rows.length >= limit) break;
    }
    if (opts.json) printJson(rows);
    else printTable(rows, ['workflowId', 'type', 'status', 'model', 'stage', 'started', 'closed']);
  } finally {
    await connection.close();
  }
}

function summarise(wf: Omit<WorkflowExecutionInfo, 'raw'>) {
  return {
    workflowId: wf.workflowId,
    runId: wf.runId,
    type: wf.type,
    status: wf.status.name,
    model: wf.typedSearchAttributes.get(MODEL_NAME),
    stage: wf.typedSearchAttributes.get(PIPELINE_STAGE),
    started: wf.startTime,
    closed: wf.closeTime,
  };
}

export async function showWorkflow(config: FlywheelConfig, workflowId: string, opts: { json?: boolean }): Promise<void> {
  const { client, connection } = await connectTemporal(config);
  try {
    const handle = client.workflow.getHandle(workflowId);
    let description;
    try {
      description = await handle.describe();
    } catch (err) {
      if ((err as Error).name === 'WorkflowNotFoundError') throw new CliError(`no workflow with id ${workflowId}`, 2);
      throw err;
    }
    let status: TrainingStatus | undefined;
    try {
      status = await handle.query(statusQuery);
    } catch {
      /* closed long ago with no worker to answer, or not a pipeline */
    }
    let result: unknown;
    if (description.status.name === 'COMPLETED') result = await handle.result();
    const out = { ...summarise(description), historyLength: description.historyLength, status, result };
    if (opts.json) {
      printJson(out);
      return;
    }
    printFields({
      workflowId: out.workflowId,
      runId: out.runId,
      type: out.type,
      status: out.status,
      model: out.model,
      stage: out.stage,
      started: out.started,
      closed: out.closed,
      events: out.historyLength,
      progress: status ? renderTrainingStatus(status) : undefined,
    });
    if (status) {
      process.stdout.write('\nstages:\n');
      for (const s of status.stages) process.stdout.write(`  ${s.state.padEnd(8)} ${s.name}${s.finishedAt && s.startedAt ? ` (${ms(s.startedAt, s.finishedAt)})` : ''}\n`);
      if (status.metrics) process.stdout.write(`\nmetrics: ${JSON.stringify(status.metrics)}\n`);
      if (status.error) process.stdout.write(`\nerror: ${status.error}\n`);
    }
  } finally {
    await connection.close();
  }
}

function ms(a: string, b: string): string {
  return `${Date.parse(b) - Date.parse(a)} ms`;
}
