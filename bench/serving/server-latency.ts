/**
 * The gateway's own view of latency, from its Prometheus histogram: time from request routed to
 * response ready, which excludes the client and the kernel's scheduling of the client. On a
 * shared machine this separates what the gateway does from what the neighbours do.
 */
import type { JsonClient } from '../../traffic/http';

const BUCKET = /^flywheel_gateway_predict_request_duration_seconds_bucket\{le="([^"]+)",model="([^"]+)",version="[^"]+"\} (\d+)/;

/** le (seconds) → cumulative count, summed over the model's versions. */
export async function latencyBuckets(client: JsonClient, model: string): Promise<Map<number, number>> {
  const text = (await client.request('GET', '/metrics')).body as string;
  const out = new Map<number, number>();
  for (const line of text.split('\n')) {
    const m = BUCKET.exec(line);
    if (!m || m[2] !== model) continue;
    const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
    out.set(le, (out.get(le) ?? 0) + Number(m[3]));
  }
  return out;
}

/** The upper bound (ms) of the bucket holding quantile q of the requests between two scrapes. */
export function quantileBetween(before: Map<number, number>, after: Map<number, number>, q: number): number {
  const les = [...after.keys()].sort((a, b) => a - b);
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  for (const le of les) {
    if ((after.get(le) ?? 0) - (before.get(le) ?? 0) >= q * total) return le * 1000;
  }
  return Infinity;
}
