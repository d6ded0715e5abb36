/**
 * The canary's segment guardrail counts on the real stack: a real gateway (throwaway database of
 * the running PostgreSQL) serves requests carrying `segment: {plan}`, labels come back through its
 * feedback route, and the real collect activity (activities/canary.ts collectRolloutWindow, as each
 * look of the sequential judge calls it) counts the window within each named segment: requests,
 * first labels and wrong ones per plan, nothing from outside the window or the segment; the A/B
 * test's (activities/experiment.ts collectExperimentMetrics) the same, cumulatively.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCanaryActivities } from '../../activities/canary';
import { createExperimentActivities } from '../../activities/experiment';
import { closePools } from '../../clients/db';
import { loadConfig } from '../../config/index';
import { JsonClient } from '../../traffic/http';
import { FEATURES, startLocalGateway, type LocalGateway } from './helpers/local-gateway';

let g: LocalGateway;
let client: JsonClient;

beforeAll(async () => {
  g = await startLocalGateway('canary-seg');
  client = new JsonClient(g.baseUrl, 8, { apiKey: g.apiKey });
});

afterAll(async () => {
  client?.close();
  await closePools();
  await g?.close();
});

describe('collectRolloutWindow with segment guardrails', () => {
  it('counts each named segment within the window: requests, first labels, wrong labels', async () => {
    const since = Date.now() - 1000;
    const sent: Record<string, { ids: string[]; labels: string[] }> = {};
    for (const [plan, n] of [['pro', 40], ['free', 60]] as const) {
      const res = await client.post(`/v1/models/${g.model}/predict`, { instances: Array.from({ length: n }, () => FEATURES), segment: { plan, country: 'FR' } });
      expect(res.status).toBe(200);
      const b = res.body as { predictionIds: string[]; labels: string[] };
      sent[plan] = { ids: b.predictionIds, labels: b.labels };
    }
    // Without a segment: counted in the whole, never in a segment.
    expect((await client.post(`/v1/models/${g.model}/predict`, { instances: Array.from({ length: 10 }, () => FEATURES) })).status).toBe(200);
    await g.gateway.recorder.flush();
    // pro: 30 labelled, 12 wrong; free: 20 labelled, all right.
    const wrongOf = (served: string) => g.classes.find((c) => c !== served)!;
    const items = [
      ...sent['pro']!.ids.slice(0, 30).map((predictionId, i) => ({ predictionId, kind: 'label', label: i < 12 ? wrongOf(sent['pro']!.labels[i]!) : sent['pro']!.labels[i]! })),
      ...sent['free']!.ids.slice(0, 20).map((predictionId, i) => ({ predictionId, kind: 'label', label: sent['free']!.labels[i]! })),
    ];
    expect(((await client.post('/v1/feedback/batch', { items })).body as { stored: number }).stored).toBe(50);
    await g.gateway.recorder.flush();

    const acts = createCanaryActivities({ ...loadConfig(), postgres: { ...loadConfig().postgres, url: g.dbUrl } });
    const to = Date.now() + 1000;
    const w = await acts.collectRolloutWindow({
      model: g.model,
      versions: [{ version: '1', thresholds: {} }],
      fromMs: since,
      toMs: to,
      predictionsSinceMs: since,
      segments: [{ attribute: 'plan', value: 'pro' }, { attribute: 'plan', value: 'free' }, { attribute: 'country', value: 'FR' }, { attribute: 'plan', value: 'team' }],
    });
    const v = w['1']!;
    expect(v).toMatchObject({ requests: 110, labelled: 50, incorrect: 12 });
    expect(v.segments).toEqual([
      { requests: 40, errors: 0, labelled: 30, incorrect: 12 },
      { requests: 60, errors: 0, labelled: 20, incorrect: 0 },
      { requests: 100, errors: 0, labelled: 50, incorrect: 12 },
      { requests: 0, errors: 0, labelled: 0, incorrect: 0 },
    ]);

    // A window that ends before the traffic counts none of it, in any segment.
    const before = await acts.collectRolloutWindow({ model: g.model, versions: [{ version: '1', thresholds: {} }], fromMs: since - 60_000, toMs: since, predictionsSinceMs: since - 60_000, segments: [{ attribute: 'plan', value: 'pro' }] });
    expect(before['1']!.segments).toEqual([{ requests: 0, errors: 0, labelled: 0, incorrect: 0 }]);
    // Without guardrails the window has no segment counts (the shape rollouts without them always had).
    const plain = await acts.collectRolloutWindow({ model: g.model, versions: [{ version: '1', thresholds: {} }], fromMs: since, toMs: to, predictionsSinceMs: since });
    expect(plain['1']!.segments).toBeUndefined();

    // The A/B test's collect activity counts the same segments cumulatively since the test began.
    const ab = createExperimentActivities({ ...loadConfig(), postgres: { ...loadConfig().postgres, url: g.dbUrl } });
    const arms = await ab.collectExperimentMetrics({ model: g.model, versions: ['1'], sinceMs: since, primaryMetric: 'accuracy', segments: [{ attribute: 'plan', value: 'pro' }, { attribute: 'plan', value: 'free' }, { attribute: 'plan', value: 'team' }] });
    expect(arms[0]).toMatchObject({ requests: 110, n: 50, sum: 38 });
    expect(arms[0]!.segments).toEqual([
      { requests: 40, errors: 0, labelled: 30, incorrect: 12 },
      { requests: 60, errors: 0, labelled: 20, incorrect: 0 },
      { requests: 0, errors: 0, labelled: 0, incorrect: 0 },
    ]);
    expect((await ab.collectExperimentMetrics({ model: g.model, versions: ['1'], sinceMs: since, primaryMetric: 'accuracy' }))[0]!.segments).toBeUndefined();
  }, 60_000);
});
