/**
 * Which unknown prediction ids feedback may wait for (issue 14's guard, serving/feedback-guard.ts):
 * an id whose UUIDv7 time is within the grace window may belong to a prediction whose batch another
 * gateway has not written yet, so it is looked up again until `t + graceMs`; an older id, or one
 * more than a second in the future, was never made here and is refused at once — a forger holds
 * a request at most `graceMs` of its own time. Pure: the clock and the id times are arguments.
 */
export interface GraceDecision {
  /** Ids worth waiting for. */
  held: string[];
  /** When the last of them stops being worth waiting for (0 when none is held). */
  until: number;
}

export const FUTURE_TOLERANCE_MS = 1_000;

export function graceFor(ids: Iterable<string>, timeOf: (id: string) => number, now: number, graceMs: number): GraceDecision {
  const held: string[] = [];
  let until = 0;
  for (const id of ids) {
    const t = timeOf(id);
    if (t > now - graceMs && t <= now + FUTURE_TOLERANCE_MS) {
      held.push(id);
      until = Math.max(until, t + graceMs);
    }
  }
  return { held, until };
}
