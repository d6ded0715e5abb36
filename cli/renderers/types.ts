/** What a `workflows show` renderer gets, and the small helpers every renderer shares. */
import { formatCell } from '../output';

export interface WorkflowView<S, R> {
  workflowId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, TERMINATED, CANCELLED, TIMED_OUT, CONTINUED_AS_NEW. */
  execution: string;
  /** The workflow's `status` query answer, when a worker answered it. */
  status?: S;
  /** Its result, when it completed. */
  result?: R;
  /** Why it failed, was terminated, cancelled or timed out. */
  failure?: string;
}

/**
 * Lines for people under the common fields (id, type, status, times): the stage, the decisions or
 * stages with their timings, and the outcome with its reason.
 */
export type Renderer<S, R> = (view: WorkflowView<S, R>) => string[];

/** "1.2 s" between two instants, or undefined when either is missing. */
export function took(from: string | Date | undefined, to: string | Date | undefined): string | undefined {
  if (!from || !to) return undefined;
  const ms = new Date(to).getTime() - new Date(from).getTime();
  if (!Number.isFinite(ms)) return undefined;
  return ms < 1000 ? `${ms} ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`;
}

/** `key: value` lines, aligned, skipping undefined values. */
export function fields(values: Record<string, unknown>): string[] {
  const present = Object.entries(values).filter(([, v]) => v !== undefined);
  if (present.length === 0) return [];
  const width = Math.max(...present.map(([k]) => k.length));
  return present.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${formatCell(v)}`);
}

/** A titled block: a blank line, the title, then the lines indented; nothing when there are no lines. */
export function section(title: string, lines: string[]): string[] {
  return lines.length === 0 ? [] : ['', `${title}:`, ...lines.map((l) => `  ${l}`)];
}

/** The outcome line for a workflow that did not complete: "failed: <reason>". */
export function closedBadly(view: WorkflowView<unknown, unknown>): string[] {
  return view.failure === undefined ? [] : fields({ outcome: `${view.execution.toLowerCase().replace('_', ' ')}: ${view.failure}` });
}

export const pct = (bp: number) => `${bp / 100}%`;
