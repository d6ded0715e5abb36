/**
 * A real gateway on a throwaway database of the running PostgreSQL: one deployed model (a softmax
 * regression built in-process, served from a local ONNX file) and one online model, so no
 * Temporal or MLflow is needed. Authentication is on, with a key in that database's key store.
 */
import { randomUUID } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { setTrafficWeights } from '../../../activities/traffic';
import { hostDataDir } from './env';
import { loadConfig } from '../../../config/index';
import { createScratchDatabase, dropDatabase } from '../../../scripts/stack/postgres';
import { migrate } from '../../../db/migrate';
import { softmaxRegressionToOnnx } from '../../../lib/onnx/softmax-regression-graph';
import { fromSoftmaxRegressionParams } from '../../../lib/online/softmax-regression';
import { createGateway, type Gateway, type GatewayOptions } from '../../../serving/app';
import { sha256 } from '../../../serving/onnx-source';
import { gatewayCa, JsonClient } from '../../../traffic/http';
import { testApiKey } from './auth';

export const FEATURES = [5.1, 3.5, 1.4, 0.2];
/** The small three-class model the local-gateway tests serve (registered as ONNX by those that need MLflow too). */
export const TEST_MODEL_PARAMS = {
  family: 'softmax-regression' as const,
  nFeatures: 4,
  classes: ['a', 'b', 'c'],
  mean: [0, 0, 0, 0],
  scale: [1, 1, 1, 1],
  weights: [0.5, -0.2, 0.1, 0.3, -0.4, 0.2, 0.6, -0.1, 0.1, 0.3, -0.5, 0.2],
  bias: [0, 0.1, -0.1],
};

export interface LocalGateway {
  gateway: Gateway;
  baseUrl: string;
  apiKey: string;
  /** The throwaway database, and its URL (for a CLI or another process on it). */
  db: pg.Pool;
  dbUrl: string;
  model: string;
  online: string;
  classes: readonly string[];
  close(): Promise<void>;
}

export interface SeededDatabase {
  url: string;
  db: pg.Pool;
  model: string;
  online: string;
  classes: readonly string[];
  drop(): Promise<void>;
}

/**
 * The throwaway database alone: migrated, one deployed softmax regression (a local ONNX file) at
 * 100 % and one online model warm-started from it. For gateways of a test's own (processes too).
 */
export async function seedGatewayDatabase(name: string): Promise<SeededDatabase> {
  const config = loadConfig();
  const dbName = `flywheel_${name.replace(/-/g, '_')}_${randomUUID().slice(0, 8)}`;
  const url = await createScratchDatabase(config, dbName);
  await migrate(url);
  const db = new pg.Pool({ connectionString: url, max: 2 });
  db.on('error', () => undefined);
  const workDir = await fsp.mkdtemp(path.join(os.tmpdir(), `flywheel-${name}-`));
  const model = `${name}-iris`;
  const online = `${name}-online`;
  const onnx = softmaxRegressionToOnnx(TEST_MODEL_PARAMS);
  const onnxPath = path.join(workDir, 'model.onnx');
  await fsp.writeFile(onnxPath, onnx);
  await db.query(`INSERT INTO deployments (model, version, onnx_uri, onnx_sha256, n_features, classes, state) VALUES ($1, '1', $2, $3, 4, $4, 'active')`, [
    model,
    onnxPath,
    sha256(onnx),
    JSON.stringify(TEST_MODEL_PARAMS.classes),
  ]);
  await setTrafficWeights(db, { model, weights: { '1': 10_000 } });
  const learner = fromSoftmaxRegressionParams(TEST_MODEL_PARAMS, { learningRate: 0.05 });
  await db.query('INSERT INTO online_models (name, base_model, base_version, state) VALUES ($1, $2, $3, $4)', [online, model, '1', JSON.stringify(learner.toJSON())]);
  return {
    url,
    db,
    model,
    online,
    classes: TEST_MODEL_PARAMS.classes,
    async drop() {
      await db.end();
      await dropDatabase(config, dbName);
      await fsp.rm(workDir, { recursive: true, force: true });
    },
  };
}

/**
 * `beforeListen` runs on the fastify instance before it starts (hooks must be added before then).
 */
export async function startLocalGateway(
  name: string,
  opts: GatewayOptions & { beforeListen?: (g: Gateway) => void } = {},
): Promise<LocalGateway> {
  const config = loadConfig();
  const { url, db, model, online, drop } = await seedGatewayDatabase(name);

  // A host of its own: the gateway reads models from MLflow, never from a shared folder.
  const host = hostDataDir(config, 'gateway');
  const cfg = { ...config, dataDir: host.dataDir, postgres: { ...config.postgres, url }, gateway: { ...config.gateway, threads: 1, pollMs: 200, flushMs: 50 } };
  const { beforeListen, ...gatewayOpts } = opts;
  const gateway = await createGateway(cfg, { port: 0, logger: false, ...gatewayOpts });
  beforeListen?.(gateway);
  const baseUrl = await gateway.listen();
  const apiKey = await testApiKey({ config: cfg, db }, name);
  // The online model is read by a poll: wait until it is served.
  const probe = new JsonClient(baseUrl, 1, { apiKey, ca: gatewayCa(config) });
  const deadline = Date.now() + 15_000;
  while (!gateway.app.hasRoute({ method: 'GET', url: '/v1/online' }) || !(await onlineServed())) {
    if (Date.now() > deadline) throw new Error(`online model ${online} not served within 15 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  probe.close();
  async function onlineServed(): Promise<boolean> {
    // JsonClient rather than fetch: an https gateway (FLYWHEEL_GATEWAY_TLS_*) is checked against FLYWHEEL_GATEWAY_CA.
    const res = await probe.request('GET', '/v1/online');
    const body = res.body as { models?: Array<{ name: string }> };
    return body.models?.some((m) => m.name === online) ?? false;
  }

  return {
    gateway,
    baseUrl,
    apiKey,
    db,
    dbUrl: url,
    model,
    online,
    classes: TEST_MODEL_PARAMS.classes,
    async close() {
      await gateway.close();
      await drop();
      host.remove();
    },
  };
}
