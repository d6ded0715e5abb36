/** `flywheel workflows list|show`: what Flywheel is running and has run, from Temporal itself. */
import type { WorkflowExecutionInfo } from '@temporalio/client';
import type { FlywheelConfig } from '../../config/index';
import { MODEL_NAME, PIPELINE_STAGE } from '../../config/search-attributes';
import { connectTemporal } from '../../clients/temporal';
import { CliError, printFields, printJson, printTable } from '../output';
import { renderWorkflow } from '../renderers/index';
import { took } from '../renderers/types';
import { describeWorkflow, failureReason, isClosedBadly, statusWord, tryQuery } from '../workflow-state';

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
    const description = await describeWorkflow(handle, `no workflow with id ${workflowId} (see flywheel workflows list)`);
    const execution = description.status.name;
    // Every Flywheel workflow answers a `status` query; which shape is up to its type (the renderer's).
    const status = await tryQuery<unknown>(client, handle, 'status');
    const result = execution === 'COMPLETED' ? await handle.result().catch(() => undefined) : undefined;
    const failure = isClosedBadly(execution) ? await failureReason(handle, execution) : undefined;
    const summary = summarise(description);
    if (opts.json) {
      printJson({ ...summary, historyLength: description.historyLength, failure, detail: status, result });
      return;
    }
    printFields({
      workflowId: summary.workflowId,
      runId: summary.runId,
      type: summary.type,
      status: statusWord(execution),
      model: summary.model,
      'search stage': summary.stage,
      started: summary.started,
      closed: summary.closed,
      took: took(summary.started, summary.closed ?? undefined),
      events: description.historyLength,
    });
    const lines = renderWorkflow(summary.type, { workflowId, execution, status, result, failure });
    if (lines.length) process.stdout.write(`${lines[0] === '' ? '' : '\n'}${lines.join('\n')}\n`);
    if (status === undefined && execution !== 'RUNNING' && result === undefined && failure === undefined) {
      process.stdout.write('\n(no worker answered its status query: details appear while the workflow worker runs)\n');
    }
  } finally {
    await connection.close();
  }
}
