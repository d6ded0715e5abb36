/**
 * Replays a dataset through the gateway as live traffic: rows at a fixed rate (open loop), each
 * from one of `units` recurring unit keys (so stickiness is exercised), and after `labelDelayMs`
 * the row's true class posted as `label` feedback, as a user confirming or correcting it would.
 *
 * Degrading a version (for canary demos) changes what that version *serves*, through the
 * gateway's fault injection (HTTP 500s, extra latency, another class served): the labels posted
 * back are always the truth. So accuracy computed from predictions joined with feedback drops for
 * that version only, exactly as it would for a genuinely worse model, and the analysis needs no
 * knowledge of the replay.
 */
import type { Dataset } from '../lib/data/table';
import { createRng } from '../lib/random';
import { JsonClient } from './http';
import type { LatencySummary } from './latency';
import { openLoop } from './load';

export interface Degrade {
  version: string;
  errorRate: number;
  extraLatencyMs: number;
  wrongLabelRate: number;
}

export interface ReplayOptions {
  url: string;
  model: string;
  dataset: Dataset;
  rate: number;
  durationMs: number;
  labelDelayMs: number;
  units: number;
  seed: number;
  /** Concurrent connections the client may open. */
  connections?: number;
  /** `model` names an online model (served at /v1/online/<name>/predict). */
  online?: boolean;
  /** The credential sent with every request (API key with predict + feedback, or an OIDC token). */
  apiKey?: string;
  /** For an https gateway: the certificates its certificate is checked against (traffic/http.ts gatewayCa). */
  ca?: string[];
}

export interface VersionTally {
  ok: number;
  failed: number;
  /** Share of this version's answered rows whose label was the true class. */
  accuracy: number;
  correct: number;
}

export interface ReplayReport {
  model: string;
  sent: number;
  ok: number;
  failed: number;
  byStatus: Record<string, number>;
  byVersion: Record<string, VersionTally>;
  throughputRps: number;
  latency: LatencySummary;
  maxScheduleLagMs: number;
  feedback: { sent: number; ok: number; failed: number };
  elapsedS: number;
}

/** `version=2,errors=0.2,latencyMs=50,wrongLabels=0.3` → Degrade; throws naming the bad part. */
export function parseDegrade(spec: string): Degrade {
  const out: Partial<Degrade> = { errorRate: 0, extraLatencyMs: 0, wrongLabelRate: 0 };
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [key, value] = part.split('=').map((s) => s.trim());
    if (!key || value === undefined || value === '') throw new Error(`--degrade: "${part}" must be key=value`);
    const n = Number(value);
    switch (key) {
      case 'version':
        out.version = value;
        break;
      case 'errors':
        if (!(n >= 0 && n <= 1)) throw new Error(`--degrade errors: must be a share in [0, 1], got ${value}`);
        out.errorRate = n;
        break;
      case 'wrongLabels':
        if (!(n >= 0 && n <= 1)) throw new Error(`--degrade wrongLabels: must be a share in [0, 1], got ${value}`);
        out.wrongLabelRate = n;
        break;
      case 'latencyMs':
        if (!(Number.isInteger(n) && n >= 0 && n <= 60_000)) throw new Error(`--degrade latencyMs: must be an integer number of ms in [0, 60000], got ${value}`);
        out.extraLatencyMs = n;
        break;
      default:
        throw new Error(`--degrade: unknown key "${key}" (expected version, errors, latencyMs, wrongLabels)`);
    }
  }
  if (!out.version) throw new Error('--degrade: version=V is required');
  return out as Degrade;
}

interface PredictBody {
  predictionId?: string;
  version?: string;
  label?: string;
}

export async function replay(opts: ReplayOptions): Promise<ReplayReport> {
  const { dataset } = opts;
  const client = new JsonClient(opts.url, opts.connections ?? 64, { apiKey: opts.apiKey, ca: opts.ca });
  const rng = createRng(opts.seed);
  const order = rng.shuffle(Uint32Array.from({ length: dataset.nRows }, (_, i) => i));
  // Units draw rows independently of which unit they are: tying rows to units would give each
  // version (units are sticky) its own subset of rows, and a difference in row difficulty would
  // pass for a difference between versions.
  const unitRng = createRng(opts.seed * 7919 + 1);
  const unitOf = (_i: number) => `unit-${unitRng.nextInt(opts.units)}`;
  const byStatus: Record<string, number> = {};
  const byVersion: Record<string, VersionTally> = {};
  const feedback = { sent: 0, ok: 0, failed: 0 };
  const pendingFeedback = new Set<Promise<void>>();
  const path = `/v1/${opts.online ? 'online' : 'models'}/${encodeURIComponent(opts.model)}/predict`;
  const runTag = `replay-${Date.now().toString(36)}-${opts.seed}`;

  const postLabel = (predictionId: string, truth: string, i: number) => {
    const p = new Promise<void>((resolve) => setTimeout(resolve, opts.labelDelayMs))
      .then(async () => {
        feedback.sent++;
        const res = await client.post('/v1/feedback', { predictionId, kind: 'label', label: truth, idempotencyKey: `${runTag}-${i}` });
        if (res.status === 201 || res.status === 200) feedback.ok++;
        else feedback.failed++;
      })
      .catch(() => {
        feedback.failed++;
      })
      .finally(() => pendingFeedback.delete(p));
    pendingFeedback.add(p);
  };

  try {
    const result = await openLoop({
      rate: opts.rate,
      durationMs: opts.durationMs,
      send: async (i) => {
        const row = order[i % dataset.nRows]!;
        const features = Array.from(dataset.x.subarray(row * dataset.nFeatures, (row + 1) * dataset.nFeatures));
        const truth = dataset.classes[dataset.y[row]!]!;
        let status = 0;
        let body: PredictBody = {};
        try {
          const res = await client.post(path, { unitKey: unitOf(i), features });
          status = res.status;
          body = (res.body ?? {}) as PredictBody;
        } finally {
          byStatus[String(status)] = (byStatus[String(status)] ?? 0) + 1;
        }
        if (body.version) {
          const t = (byVersion[body.version] ??= { ok: 0, failed: 0, accuracy: 0, correct: 0 });
          if (status === 200) {
            t.ok++;
            if (body.label === truth) t.correct++;
          } else t.failed++;
        }
        if (status === 200 && body.predictionId) postLabel(body.predictionId, truth, i);
        return status === 200;
      },
    });
    await Promise.all(pendingFeedback);
    for (const t of Object.values(byVersion)) t.accuracy = t.ok ? Math.round((t.correct / t.ok) * 10_000) / 10_000 : 0;
    return {
      model: opts.model,
      sent: result.sent,
      ok: result.ok,
      failed: result.failed,
      byStatus,
      byVersion,
      throughputRps: result.throughputRps,
      latency: result.latency,
      maxScheduleLagMs: result.maxScheduleLagMs ?? 0,
      feedback,
      elapsedS: result.elapsedS,
    };
  } finally {
    client.close();
  }
}
