/**
 * Waits for a workflow's result while rendering its `status` query live on stderr: one line
 * rewritten in place on a terminal, a new line per change otherwise (logs, CI). A failed workflow
 * becomes one CliError with the innermost cause, the message a person can act on.
 */
import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import { CliError } from './output';

export interface WatchOptions<S> {
  query: QueryDefinition<S>;
  render(status: S): string;
  /** Print progress at all (false under --json). */
  show: boolean;
  /** What failed, for the error line: "training failed: …". */
  what: string;
  intervalMs?: number;
}

export async function watchWorkflow<R, S>(client: Client, workflowId: string, opts: WatchOptions<S>): Promise<R> {
  const handle = client.workflow.getHandle(workflowId);
  const tty = opts.show && process.stderr.isTTY;
  let last = '';
  let done = false;
  const poll = (async () => {
    while (!done) {
      try {
        const line = opts.render(await handle.query(opts.query));
        if (opts.show && line !== last) process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
        last = line;
      } catch {
        /* the first workflow task may not have run yet */
      }
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 400));
    }
  })();
  try {
    return (await handle.result()) as R;
  } catch (err) {
    if (err instanceof WorkflowFailedError) throw new CliError(`${opts.what} failed: ${innermost(err)}`);
    throw err;
  } finally {
    done = true;
    await poll;
    if (tty) process.stderr.write('\n');
  }
}

export function innermost(err: unknown): string {
  let e = err as { message?: string; cause?: unknown };
  while (e.cause) e = e.cause as typeof e;
  return e.message ?? String(err);
}
