/**
 * How every command talks: a table or lines for people, one JSON document with --json, one line on error.
 *
 * One exit-code policy for every command (README, "Exit codes"):
 *   0  done
 *   1  a failure while running (a workflow failed, a check inside it refused, an unexpected error)
 *   2  bad input: a malformed argument or option, an unknown model, version or workflow id, a
 *      request the current state refuses (a rollout already running); nothing was started
 *   3  the stack is down: Temporal, MLflow or PostgreSQL unreachable (`flywheel up`)
 */

export const EXIT = { ok: 0, failure: 1, badInput: 2, stackDown: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
  }
}

/** Bad input: exit 2. */
export const badInput = (message: string) => new CliError(message, EXIT.badInput);

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printTable(rows: Record<string, unknown>[], columns?: string[]): void {
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const cols = columns ?? Object.keys(rows[0]!);
  const cells = rows.map((r) => cols.map((c) => formatCell(r[c])));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(`${line(cols.map((c) => c.toUpperCase()))}\n`);
  for (const row of cells) process.stdout.write(`${line(row)}\n`);
}

export function printFields(fields: Record<string, unknown>): void {
  const width = Math.max(...Object.keys(fields).map((k) => k.length));
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    process.stdout.write(`${`${k}:`.padEnd(width + 2)}${formatCell(v)}\n`);
  }
}

export function formatCell(v: unknown): string {
  if (v === undefined || v === null) return '-';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(4);
  if (v instanceof Date) return v.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  if (Array.isArray(v)) return v.join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/**
 * The one place an error becomes a line and an exit code. CliErrors carry their own code; the
 * errors of the clients underneath are classified here, so every command maps them alike.
 */
export function classifyError(err: unknown): { message: string; exitCode: number } {
  const e = err as { name?: string; message?: string; code?: unknown; errorCode?: string; status?: number; cause?: unknown };
  const first = (m: string | undefined) => (m ?? String(err)).split('\n')[0]!;
  if (err instanceof CliError) return { message: first(err.message), exitCode: err.exitCode };
  const name = e?.name;
  if (name === 'StackNotRunningError') return { message: first(e.message), exitCode: EXIT.stackDown };
  if (name === 'ConfigError') return { message: first(e.message), exitCode: EXIT.badInput };
  if (name === 'MlflowError') {
    if (e.errorCode === 'UNREACHABLE') return { message: `${first(e.message)}: start the stack with \`flywheel up\``, exitCode: EXIT.stackDown };
    if (e.status === 400 || e.status === 404) {
      // MLflow's own words, without the request line: "MLflow GET x failed (400 CODE): message".
      const m = /failed \((\d+)(?: ([A-Z_]+))?\): (.*)$/.exec(first(e.message));
      return { message: `MLflow refused the request: ${m?.[3] ?? first(e.message)}`, exitCode: EXIT.badInput };
    }
    return { message: first(e.message), exitCode: EXIT.failure };
  }
  if (name === 'WorkflowNotFoundError' || name === 'NamespaceNotFoundError') return { message: first(e.message), exitCode: EXIT.badInput };
  if (isUnreachable(err)) return { message: `${first(e.message)}: is the stack running? (\`flywheel status\`, \`flywheel up\`)`, exitCode: EXIT.stackDown };
  return { message: err instanceof Error ? first(err.message) : String(err), exitCode: EXIT.failure };
}

/** PostgreSQL refusing connections, or a Temporal call failing with UNAVAILABLE (gRPC 14). */
function isUnreachable(err: unknown): boolean {
  const seen = new Set<unknown>();
  let e = err as { code?: unknown; cause?: unknown; errors?: unknown[] } | undefined;
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e);
    if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'EHOSTUNREACH' || e.code === '57P03' || e.code === 14) return true;
    if (Array.isArray(e.errors) && e.errors.some((x) => (x as { code?: unknown }).code === 'ECONNREFUSED')) return true;
    e = e.cause as typeof e;
  }
  return false;
}

/** Runs a command body; any failure becomes one line on stderr (or a JSON error) and an exit code. */
export async function runCommand(json: boolean | undefined, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    const { message, exitCode } = classifyError(err);
    if (json) process.stdout.write(`${JSON.stringify({ error: message, exitCode })}\n`);
    else process.stderr.write(`flywheel: ${message}\n`);
    process.exitCode = exitCode;
  }
}

/**
 * A reader that goes away (`flywheel … | head -1`) closes stdout: the rest of the output has no one
 * to read it, so the command ends quietly with 0 instead of an EPIPE stack trace.
 */
export function quietOnClosedStdout(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(EXIT.ok);
      throw err;
    });
  }
}
