/**
 * Segments on the real stack (issue 15): a real gateway (throwaway database of the running
 * PostgreSQL) serves requests carrying `segment: {plan}`; labels come back through its feedback
 * route, right for the "pro" plan and mostly wrong for "free" (a regression planted in one segment);
 * the real `flywheel data segments --by plan` reports accuracy, errors and label coverage per plan
 * and flags "free" — and only "free" — as behind the rest with anytime-valid evidence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonClient } from '../../traffic/http';
import { runFlywheel } from './helpers/cli';
import { FEATURES, startLocalGateway, type LocalGateway } from './helpers/local-gateway';

let g: LocalGateway;
let client: JsonClient;

beforeAll(async () => {
  g = await startLocalGateway('segments');
  client = new JsonClient(g.baseUrl, 8, { apiKey: g.apiKey });
});

afterAll(async () => {
  client?.close();
  await g?.close();
});

/** The CLI on this test's own database. */
const cli = (args: string[]) => runFlywheel(args, { DATABASE_URL: g.dbUrl });

describe('flywheel data segments', () => {
  it('reports each plan and flags the one whose labels disagree, not the other', async () => {
    const items: Array<{ predictionId: string; kind: string; label: string }> = [];
    for (const plan of ['pro', 'free', 'team']) {
      const res = await client.post(`/v1/models/${g.model}/predict`, { instances: Array.from({ length: 100 }, () => FEATURES), segment: { plan } });
      expect(res.status).toBe(200);
      const b = res.body as { predictionIds: string[]; labels: string[] };
      b.predictionIds.forEach((predictionId, i) => {
        const served = b.labels[i]!;
        // pro: all right; free: 60 of 100 wrong; team: 80 labelled, all right (coverage 0.8).
        const wrong = plan === 'free' && i < 60;
        if (plan === 'team' && i >= 80) return;
        items.push({ predictionId, kind: 'label', label: wrong ? g.classes.find((c) => c !== served)! : served });
      });
    }
    await g.gateway.recorder.flush();
    const fb = await client.post('/v1/feedback/batch', { items });
    expect((fb.body as { stored: number }).stored).toBe(items.length);

    const r = await cli(['data', 'segments', g.model, '--by', 'plan', '--since', '1h', '--json']);
    expect(r.code, r.out).toBe(0);
    const report = JSON.parse(r.out) as { overall: { predictions: number; labelled: number }; segments: Array<{ value: string; predictions: number; labelled: number; accuracy: number; labelCoverage: number; behind: boolean; e: number }> };
    expect(report.overall).toMatchObject({ predictions: 300, labelled: 280 });
    const byPlan = Object.fromEntries(report.segments.map((s) => [s.value, s]));
    expect(Object.keys(byPlan)).toEqual(['free', 'pro', 'team']);
    expect(byPlan['free']).toMatchObject({ predictions: 100, labelled: 100, accuracy: 0.4, labelCoverage: 1, behind: true });
    expect(byPlan['pro']).toMatchObject({ accuracy: 1, behind: false });
    expect(byPlan['team']).toMatchObject({ labelled: 80, accuracy: 1, labelCoverage: 0.8, behind: false });
    expect(byPlan['free']!.e).toBeGreaterThanOrEqual(100);

    const bad = await cli(['data', 'segments', g.model, '--by', 'plan', '--alpha', '2']);
    expect([bad.code, bad.out.trim()]).toEqual([2, 'flywheel: --alpha: "2" must be between 0 and 1']);
  }, 60_000);
});
