/**
 * Segments on the real stack (issue 15): a real gateway (throwaway database of the running
 * PostgreSQL) serves requests carrying `segment: {plan}`; labels come back through its feedback
 * route, right for the "pro" plan and mostly wrong for "free" (a regression planted in one segment);
 * the real `flywheel data segments --by plan` reports accuracy, errors and label coverage per plan
 * and flags "free" — and only "free" — as behind the rest with anytime-valid evidence. The
 * gateway's own segment gauges (serving/segment-gauges.ts), recomputed from the same tables, put
 * flywheel_gateway_segment_behind to 1 for "free" on /metrics and keep it 0 for the other plans and
 * for a second attribute ("region") whose two values carry the same share of wrong labels.
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
      for (const region of ['east', 'west']) {
        const res = await client.post(`/v1/models/${g.model}/predict`, { instances: Array.from({ length: 50 }, () => FEATURES), segment: { plan, region } });
        expect(res.status).toBe(200);
        const b = res.body as { predictionIds: string[]; labels: string[] };
        b.predictionIds.forEach((predictionId, i) => {
          const served = b.labels[i]!;
          // pro: all right; free: 60 of 100 wrong (30 per region); team: 80 labelled, all right (coverage 0.8).
          const wrong = plan === 'free' && i < 30;
          if (plan === 'team' && i >= 40) return;
          items.push({ predictionId, kind: 'label', label: wrong ? g.classes.find((c) => c !== served)! : served });
        });
      }
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

    // The gateway's gauges: one recomputation now (the timer would do the same every interval).
    const exported = await g.gateway.segments.refresh();
    expect(exported.map((x) => `${x.attribute}=${x.segment}:${x.behind}`).sort()).toEqual(['plan=free:1', 'plan=pro:0', 'plan=team:0', 'region=east:0', 'region=west:0']);
    const text = (await client.request('GET', '/metrics')).body as string;
    const gauge = (name: string, attribute: string, segment: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`model="${g.model}"`) && l.includes(`attribute="${attribute}"`) && l.includes(`segment="${segment}"`));
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    expect(gauge('flywheel_gateway_segment_behind', 'plan', 'free')).toBe(1);
    expect(gauge('flywheel_gateway_segment_behind', 'plan', 'pro')).toBe(0);
    expect(gauge('flywheel_gateway_segment_behind', 'plan', 'team')).toBe(0);
    expect(gauge('flywheel_gateway_segment_behind', 'region', 'east')).toBe(0);
    expect(gauge('flywheel_gateway_segment_behind', 'region', 'west')).toBe(0);
    // The same evidence as the report, and the accuracies it compares.
    expect(gauge('flywheel_gateway_segment_evidence', 'plan', 'free')! / byPlan['free']!.e).toBeCloseTo(1, 9);
    expect(gauge('flywheel_gateway_segment_accuracy_ratio', 'plan', 'free')).toBe(0.4);
    expect(gauge('flywheel_gateway_segment_rest_accuracy_ratio', 'plan', 'free')).toBe(1);
    expect(gauge('flywheel_gateway_segment_label_coverage_ratio', 'plan', 'team')).toBe(0.8);
    expect(gauge('flywheel_gateway_segment_accuracy_ratio', 'region', 'east')).toBe(gauge('flywheel_gateway_segment_accuracy_ratio', 'region', 'west'));
    expect(text).toMatch(/flywheel_gateway_segment_checks_total\{outcome="ok"\} [1-9]/);

    const bad = await cli(['data', 'segments', g.model, '--by', 'plan', '--alpha', '2']);
    expect([bad.code, bad.out.trim()]).toEqual([2, 'flywheel: --alpha: "2" must be between 0 and 1']);

    // Only labels that may count are read (datasets/decision-feedback.ts): with the model's list naming
    // another client, these labels no longer make "free" look behind, in the report or on /metrics.
    const set = await cli(['feedback-clients', 'set', g.model, 'someone-else']);
    expect(set.code, set.out).toBe(0);
    const untrusted = await cli(['data', 'segments', g.model, '--by', 'plan', '--since', '1h', '--json']);
    expect((JSON.parse(untrusted.out) as { overall: { labelled: number } }).overall.labelled).toBe(0);
    expect((await g.gateway.segments.refresh()).filter((x) => x.behind === 1)).toEqual([]);
    const after = (await client.request('GET', '/metrics')).body as string;
    expect(after).toContain(`flywheel_gateway_segment_behind{model="${g.model}",attribute="plan",segment="free"} 0`);
  }, 60_000);
});
