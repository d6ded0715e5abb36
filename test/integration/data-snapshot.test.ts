/**
 * Training data from production on the real stack (issue 15): predictions served by a real gateway
 * (throwaway database of the running PostgreSQL) with their logged features, labels posted to its
 * feedback route, then the real `flywheel data snapshot` CLI: only predictions labelled within the
 * attribution window become rows, with the features the model saw and the label given, in serving
 * order; coverage, versions and counts are recorded as lineage; the dataset is content-addressed and
 * loads back as `stored:<digest>` with its production source; bad requests are refused with exit 2.
 */
import { spawn } from 'node:child_process';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config/index';
import { loadDataset } from '../../datasets/load';
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
    const child = spawn(process.execPath, ['bin/flywheel.mjs', ...args], { cwd: PROJECT_ROOT, env: { ...process.env, DATABASE_URL: dbUrl, FLYWHEEL_DATA_DIR: dataDir } });
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
});
