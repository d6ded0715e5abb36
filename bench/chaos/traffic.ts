/**
 * Production-like traffic through the stack's gateway while parts die: predictions at a steady
 * rate, each answered prediction labelled a little later, every label retried with the same
 * idempotency key until it is acknowledged (as a careful client does) or `retryForMs` passes.
 * Every acknowledged key is kept, so the report can count which of them the database lost.
 */
import type { Dataset } from '../../lib/data/table';
import { JsonClient } from '../../traffic/http';

export interface TrafficTally {
  predictions: { sent: number; ok: number; failed: number; byStatus: Record<string, number> };
  feedback: { acknowledged: number; gaveUp: number; retries: number };
}

export interface Traffic {
  tally: TrafficTally;
  /** Idempotency keys the gateway acknowledged (200/201). */
  acknowledged: string[];
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function startTraffic(opts: { url: string; apiKey: string; models: string[]; dataset: Dataset; ratePerModel: number; runTag: string; labelDelayMs?: number; retryForMs?: number }): Traffic {
  const client = new JsonClient(opts.url, 32, { apiKey: opts.apiKey });
  const tally: TrafficTally = { predictions: { sent: 0, ok: 0, failed: 0, byStatus: {} }, feedback: { acknowledged: 0, gaveUp: 0, retries: 0 } };
  const acknowledged: string[] = [];
  const pending = new Set<Promise<void>>();
  const { dataset } = opts;
  let running = true;
  let n = 0;

  const label = async (predictionId: string, truth: string, key: string) => {
    await sleep(opts.labelDelayMs ?? 100);
    const giveUpAt = Date.now() + (opts.retryForMs ?? 180_000);
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) tally.feedback.retries++;
      const res = await client.post('/v1/feedback', { predictionId, kind: 'label', label: truth, idempotencyKey: key }).catch(() => undefined);
      if (res && (res.status === 200 || res.status === 201)) {
        tally.feedback.acknowledged++;
        acknowledged.push(key);
        return;
      }
      // 4xx other than 429 will not change on a retry (and must not happen here).
      if (res && res.status >= 400 && res.status < 500 && res.status !== 429) break;
      if (Date.now() > giveUpAt) break;
      await sleep(Math.min(5_000, 250 * 2 ** attempt));
    }
    tally.feedback.gaveUp++;
  };

  const one = async (model: string) => {
    const i = n++;
    const row = i % dataset.nRows;
    const features = Array.from(dataset.x.subarray(row * dataset.nFeatures, (row + 1) * dataset.nFeatures));
    tally.predictions.sent++;
    const res = await client.post(`/v1/models/${encodeURIComponent(model)}/predict`, { unitKey: `unit-${i % 500}`, features }).catch(() => undefined);
    const code = String(res?.status ?? 'network');
    tally.predictions.byStatus[code] = (tally.predictions.byStatus[code] ?? 0) + 1;
    const body = (res?.body ?? {}) as { predictionId?: string };
    if (res?.status !== 200 || !body.predictionId) {
      tally.predictions.failed++;
      return;
    }
    tally.predictions.ok++;
    const p = label(body.predictionId, dataset.classes[dataset.y[row]!]!, `${opts.runTag}-${i}`).finally(() => pending.delete(p));
    pending.add(p);
  };

  const loop = (async () => {
    const periodMs = 1000 / (opts.ratePerModel * opts.models.length);
    let next = Date.now();
    while (running) {
      for (const model of opts.models) {
        if (!running) break;
        const p = one(model).finally(() => pending.delete(p));
        pending.add(p);
        next += periodMs;
        const wait = next - Date.now();
        if (wait > 0) await sleep(wait);
        else if (wait < -5_000) next = Date.now(); // fell behind (a frozen event loop): do not burst
      }
    }
  })();

  return {
    tally,
    acknowledged,
    async stop() {
      running = false;
      await loop;
      while (pending.size) await Promise.all([...pending]);
      client.close();
    },
  };
}
