/**
 * What a workflow is, from Temporal itself rather than from its last query answer: a workflow that
 * failed a second after it started still answers its `status` query with "progressing" (the state
 * it held when it failed), so every status command asks describe() first and reports a failed,
 * terminated, cancelled or timed-out workflow as such, with the reason from its result.
 */
import type { Client, WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import { badInput, CliError, EXIT } from './output';
import { innermost } from './watch';

/** How long a status query may take: a closed workflow with no worker polling its queue never answers. */
export const QUERY_DEADLINE_MS = 5000;

export type ClosedBadly = 'FAILED' | 'TERMINATED' | 'CANCELLED' | 'TIMED_OUT';
const CLOSED_BADLY = new Set<string>(['FAILED', 'TERMINATED', 'CANCELLED', 'TIMED_OUT']);

export const isClosedBadly = (status: string): status is ClosedBadly => CLOSED_BADLY.has(status);

/** "failed", "terminated", "cancelled", "timed out". */
export const statusWord = (status: string) => status.toLowerCase().replace('_', ' ');

/** describe(), with an unknown id as bad input (exit 2) in the caller's words. */
export async function describeWorkflow(handle: WorkflowHandle, notFound: string): Promise<WorkflowExecutionDescription> {
  try {
    return await handle.describe();
  } catch (err) {
    if ((err as Error).name === 'WorkflowNotFoundError') throw badInput(notFound);
    throw err;
  }
}

/** Why a workflow that closed badly closed: the innermost cause of its failure (a termination's reason). */
export async function failureReason(handle: WorkflowHandle, status: string): Promise<string> {
  try {
    await handle.result();
    return statusWord(status);
  } catch (err) {
    const reason = innermost(err);
    return reason || statusWord(status);
  }
}

/** A query answered within QUERY_DEADLINE_MS, or undefined. */
export async function tryQuery<S>(client: Client, handle: WorkflowHandle, query: QueryDefinition<S> | string): Promise<S | undefined> {
  try {
    return await client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query<S>(query));
  } catch {
    return undefined;
  }
}

export interface StatusOptions {
  /** "rollout", "A/B test": the words of the error lines. */
  what: string;
  /** The line for an unknown id (exit 2). */
  notFound: string;
}

/**
 * The status of a workflow that is running or completed; a workflow that failed, was terminated,
 * cancelled or timed out is an error (exit 1) that says so, with the reason.
 */
export async function liveStatus<S>(client: Client, workflowId: string, query: QueryDefinition<S>, opts: StatusOptions): Promise<S> {
  const handle = client.workflow.getHandle(workflowId);
  const d = await describeWorkflow(handle, opts.notFound);
  if (isClosedBadly(d.status.name)) throw new CliError(`the ${opts.what} ${workflowId} ${statusWord(d.status.name)}: ${await failureReason(handle, d.status.name)}`, EXIT.failure);
  const s = await tryQuery(client, handle, query);
  if (s !== undefined) return s;
  if (d.status.name === 'RUNNING') throw new CliError(`the ${opts.what} ${workflowId} is running but did not answer its status query: is the workflow worker running? (flywheel up)`, EXIT.failure);
  throw new CliError(`the ${opts.what} ${workflowId} ${statusWord(d.status.name)}, and no worker answers its status query now: see flywheel workflows show ${workflowId}`, EXIT.failure);
}
