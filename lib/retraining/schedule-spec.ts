/**
 * The when of a retraining schedule, checked at the CLI edge with one line naming the flag:
 * exactly one of a cron expression (5 fields, as cron and Temporal read it) or an interval.
 */
export const OVERLAP_POLICIES = ['skip', 'buffer-one', 'buffer-all', 'cancel-other', 'terminate-other', 'allow-all'] as const;
export type OverlapName = (typeof OVERLAP_POLICIES)[number];

export type ScheduleWhen = { kind: 'cron'; expression: string } | { kind: 'every'; ms: number; text: string };

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "15m", "24h", "7d" → milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

export function parseWhen(opts: { cron?: string; every?: string }): { ok: true; value: ScheduleWhen } | { ok: false; message: string } {
  if ((opts.cron === undefined) === (opts.every === undefined)) return { ok: false, message: 'give exactly one of --cron "0 2 * * *" or --every 24h' };
  if (opts.every !== undefined) {
    const ms = parseDuration(opts.every);
    if (ms === undefined) return { ok: false, message: `--every: "${opts.every}" must be a duration like 90s, 15m, 24h or 7d` };
    if (ms < 60_000) return { ok: false, message: `--every: ${opts.every} is shorter than a minute; a retraining trains a model each time` };
    return { ok: true, value: { kind: 'every', ms, text: opts.every } };
  }
  const fields = opts.cron!.trim().split(/\s+/);
  if (fields.length !== 5 || !fields.every((f) => /^[\d*/,\-A-Za-z?]+$/.test(f))) {
    return { ok: false, message: `--cron: "${opts.cron}" must have 5 fields (minute hour day-of-month month day-of-week), e.g. "0 2 * * *"` };
  }
  return { ok: true, value: { kind: 'cron', expression: fields.join(' ') } };
}

export function parseOverlap(name: string): { ok: true; value: OverlapName } | { ok: false; message: string } {
  return (OVERLAP_POLICIES as readonly string[]).includes(name)
    ? { ok: true, value: name as OverlapName }
    : { ok: false, message: `--overlap: "${name}" is not a policy (${OVERLAP_POLICIES.join(', ')})` };
}

/** "buffer-one" → Temporal's "BUFFER_ONE". */
export const overlapConstant = (name: OverlapName) => name.toUpperCase().replace(/-/g, '_') as Uppercase<string>;
