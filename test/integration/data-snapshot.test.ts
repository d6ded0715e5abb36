/**
 * Training data from production on the real stack (issue 15): predictions served by a real gateway
 * (throwaway database of the running PostgreSQL) with their logged features, labels posted to its
 * feedback route, then the real `flywheel data snapshot` CLI: only predictions labelled within the
 * attribution window become rows, with the features the model saw and the label given, in serving
 * order; coverage, versions and counts are recorded as lineage; the dataset is content-addressed and
 * loads back as `stored:<digest>` with its production source; bad requests are refused with exit 2.
 * Only trusted labels become training data: with `flywheel feedback-clients set` naming one key, a
 * second key's labels, and a trusted client's label flagged as a contradicting burst, are left out.
 */
import { spawn } from 'node:child_process';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config/index';
import { loadConfig } from '../../config/index';
import { loadDataset } from '../../datasets/load';
import { EXCLUDED_FROM_DECISIONS } from '../../datasets/decision-feedback';
import { testApiKey } from './helpers/auth';
import { hostProcessEnv } from './helpers/env';
import { JsonClient } from '../../traffic/http';
import { startLocalGateway, type LocalGateway } from './helpers/local-gateway';

let g: LocalGateway;
let client: JsonClient;
let dbUrl: string;
let dataDir: string;

beforeAll(async () => {
  g = await startLocalGateway('snapshot');
  client = new JsonClient(g.baseUrl, 8, { apiKey: g.apiKey });
  dbUrl = (g.db as unknown as { options: { connectionString: string } }).options.connectionString;
  dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'flywheel-snapshot-'));
});

afterAll(async () => {
  client?.close();
  await g?.close();
  if (dataDir) await fsp.rm(dataDir, { recursive: true, force: true });
});

function cli(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/flywheel.mjs', ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...hostProcessEnv(loadConfig(), dataDir), DATABASE_URL: dbUrl, FLYWHEEL_DATA_DIR: dataDir } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

const rows = Array.from({ length: 12 }, (_, i) => [i / 10 + 0.01, 1 - i / 7, i % 3, 2.5]);

describe('flywheel data snapshot', () => {
  const labelOf = (i: number) => g.classes[i % 3]!;
  let ids: string[] = [];

  it('joins served predictions with their first label within the attribution window, in serving order', async () => {
    // One prediction per request, so the serving order is the sending order.
    for (const r of rows) {
      const res = await client.post(`/v1/models/${g.model}/predict`, { features: r, segment: { plan: 'pro' } });
      expect(res.status).toBe(200);
      ids.push((res.body as { predictionId: string }).predictionId);
      // Serving order is kept to the millisecond (created_at): one row per millisecond at most.
      await new Promise((r) => setTimeout(r, 2));
    }
    await g.gateway.recorder.flush();
    // Labels for 0–8; 9–11 stay unlabelled.
    const items = ids.slice(0, 9).map((predictionId, i) => ({ predictionId, kind: 'label', label: labelOf(i), idempotencyKey: `snap-${i}` }));
    const fb = await client.post('/v1/feedback/batch', { items });
    expect(fb.status, JSON.stringify(fb.body)).toBe(200);
    expect((fb.body as { stored: number }).stored).toBe(9);
    // A label that arrived after the attribution window does not count: row 8's is moved two hours on.
    await g.db.query("UPDATE feedback SET created_at = created_at + interval '2 hours' WHERE prediction_id = $1", [ids[8]]);
    // A second, later label for row 4 (the gateway refuses second labels; another writer may not): the first counts.
    await g.db.query("INSERT INTO feedback (prediction_id, kind, label, created_at) VALUES ($1, 'label', $2, now() + interval '1 minute')", [ids[4], labelOf(5)]);

    const res = await cli(['data', 'snapshot', g.model, '--window', '1h', '--attribution', '1h', '--to', new Date(Date.now() + 1000).toISOString(), '--json']);
    expect(res.code, res.out).toBe(0);
    const r = JSON.parse(res.out) as Record<string, unknown> & { digest: string; versions: Record<string, number> };
    expect(r).toMatchObject({ predictions: 12, withFeatures: 12, labelled: 8, rows: 8, nRows: 8, nFeatures: 4, incompleteFeatures: 0, unknownLabel: 0, labelCoverage: 8 / 12, versions: { '1': 8 } });
    expect(r.source).toMatch(new RegExp(`^production:${g.model}\\?window=1h&to=`));

    const loaded = await loadDataset(`stored:${r.digest}`, { storeRoot: path.join(dataDir, 'datasets') });
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    const ds = loaded.value.dataset;
    expect(loaded.value.source).toBe(r.source);
    expect(ds.classes).toEqual([...g.classes]);
    const got = Array.from({ length: ds.nRows }, (_, i) => [Array.from(ds.x.subarray(i * 4, i * 4 + 4)), ds.classes[ds.y[i]!]]);
    expect(got).toEqual(rows.slice(0, 8).map((x, i) => [x.map(Math.fround), labelOf(i)]));

    const lineage = await g.db.query('SELECT model, window_text, versions, predictions, labelled, production_rows, label_coverage FROM dataset_snapshots WHERE digest = $1', [r.digest]);
    expect(lineage.rows).toEqual([{ model: g.model, window_text: '1h', versions: { '1': 8 }, predictions: '12', labelled: '8', production_rows: '8', label_coverage: 8 / 12 }]);
    const stored = await g.db.query('SELECT n_rows, uri FROM datasets WHERE digest = $1', [r.digest]);
    expect(stored.rows).toEqual([{ n_rows: 8, uri: r.source }]);
  });

  it('refuses, with exit 2 and nothing written, below --min-label-coverage, a bad --mix and a model never deployed', async () => {
    const before = (await g.db.query('SELECT count(*)::int AS n FROM dataset_snapshots')).rows[0].n as number;
    const low = await cli(['data', 'snapshot', g.model, '--window', '1h', '--attribution', '1h', '--min-label-coverage', '0.9']);
    expect([low.code, low.out]).toEqual([2, expect.stringMatching(/label coverage 0\.667 is below --min-label-coverage 0\.9/)]);
    // iris has classes the model does not know.
    const mix = await cli(['data', 'snapshot', g.model, '--window', '1h', '--mix', 'iris:0.3']);
    expect([mix.code, mix.out]).toEqual([2, expect.stringMatching(/--mix iris: the reference dataset's class "setosa" is not one of the model's/)]);
    const none = await cli(['data', 'snapshot', 'no-such-model', '--window', '1h']);
    expect([none.code, none.out]).toEqual([2, expect.stringMatching(/never deployed/)]);
    const badWindow = await cli(['data', 'snapshot', g.model, '--window', 'a week']);
    expect([badWindow.code, badWindow.out.trim()]).toEqual([2, 'flywheel: --window: "a week" must be a duration like 6h or 7d']);
    expect((await g.db.query('SELECT count(*)::int AS n FROM dataset_snapshots')).rows[0].n).toBe(before);
  });

  it('the same traffic and window end give the same digest (content-addressed)', async () => {
    const to = new Date(Date.now() + 1000).toISOString();
    const a = await cli(['data', 'snapshot', g.model, '--window', '1h', '--to', to, '--json']);
    const b = await cli(['data', 'snapshot', g.model, '--window', '1h', '--to', to, '--json']);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect((JSON.parse(a.out) as { digest: string }).digest).toBe((JSON.parse(b.out) as { digest: string }).digest);
  });

  it('takes labels only from the clients the model trusts, never a flagged burst', async () => {
    // Six more predictions; the model's list names this test's gateway key only.
    const more = Array.from({ length: 6 }, (_, i) => [5 + i, 0.5, i % 3, -1]);
    const moreIds: string[] = [];
    for (const r of more) {
      const res = await client.post(`/v1/models/${g.model}/predict`, { features: r });
      expect(res.status).toBe(200);
      moreIds.push((res.body as { predictionId: string }).predictionId);
      await new Promise((r) => setTimeout(r, 2));
    }
    await g.gateway.recorder.flush();
    const set = await cli(['feedback-clients', 'set', g.model, 'test:snapshot', '--json']);
    expect(set.code, set.out).toBe(0);
    const otherKey = await testApiKey({ config: { ...loadConfig(), postgres: { ...loadConfig().postgres, url: dbUrl } }, db: g.db }, 'snapshot-untrusted');
    const other = new JsonClient(g.baseUrl, 2, { apiKey: otherKey });
    try {
      // 12-14 labelled by the trusted key, 15-17 by the other one (its labels disagree: they would be learnt as 'c').
      const trusted = await client.post('/v1/feedback/batch', { items: moreIds.slice(0, 3).map((predictionId, i) => ({ predictionId, kind: 'label', label: labelOf(12 + i) })) });
      const untrusted = await other.post('/v1/feedback/batch', { items: moreIds.slice(3).map((predictionId) => ({ predictionId, kind: 'label', label: 'c' })) });
      expect([trusted.status, untrusted.status]).toEqual([200, 200]);
    } finally {
      other.close();
    }
    // The trusted key's label on 14 is flagged as a contradicting burst (as serving/feedback-trust.ts would): left out too.
    await g.db.query(`UPDATE feedback SET quality_flags = array_append(quality_flags, $2) WHERE prediction_id = $1`, [moreIds[2], EXCLUDED_FROM_DECISIONS]);

    const res = await cli(['data', 'snapshot', g.model, '--window', '1h', '--attribution', '1h', '--to', new Date(Date.now() + 1000).toISOString(), '--json']);
    expect(res.code, res.out).toBe(0);
    const r = JSON.parse(res.out) as Record<string, unknown> & { digest: string };
    // The first 12 as before (their labels came through the trusted key), 12 and 13; 14-17 counted as untrusted.
    expect(r).toMatchObject({ predictions: 18, withFeatures: 18, labelled: 10, untrustedLabel: 4, rows: 10, labelCoverage: 10 / 18 });
    const loaded = await loadDataset(`stored:${r.digest}`, { storeRoot: path.join(dataDir, 'datasets') });
    if (!loaded.ok) throw loaded.error;
    const ds = loaded.value.dataset;
    const got = Array.from({ length: ds.nRows }, (_, i) => [Array.from(ds.x.subarray(i * 4, i * 4 + 4)), ds.classes[ds.y[i]!]]);
    expect(got).toEqual([...rows.slice(0, 8).map((x, i) => [x.map(Math.fround), labelOf(i)]), ...more.slice(0, 2).map((x, i) => [x.map(Math.fround), labelOf(12 + i)])]);
  });
});
