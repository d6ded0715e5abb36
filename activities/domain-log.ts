/**
 * Domain events in the worker's log (a deploy, a rollback and its reason, a drift event, a
 * retraining decision, a fact committed) through the Temporal SDK's activity logger: the worker's
 * Runtime logger (workers/runtime.ts) writes each as one JSON line, and the SDK adds the workflow id,
 * run id (`workflowRunId`), activity type and attempt. Every event names its model when it has one.
 *
 * Outside an activity (the CLI or a test calling the function directly) it does nothing: those
 * callers report what they did themselves.
 */
import { Context } from '@temporalio/activity';

type Level = 'info' | 'warn';

export function domainLog(level: Level, event: string, fields: Record<string, unknown>): void {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return;
  }
  ctx.log[level](event, { event, ...fields });
}
