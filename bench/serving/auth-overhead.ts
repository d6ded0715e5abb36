/**
 * What authentication costs the gateway: the same gateway code, the same model, the same client,
 * in one run, three ways — no authentication (FLYWHEEL_GATEWAY_AUTH=off, the baseline), an API key
 * (hash + cached key record), and an OIDC JWT (RS256 signature checked against a cached JWKS from a
 * real issuer over HTTP). The modes are interleaved round by round so that a change in the
 * machine's load hits all of them alike; medians over the rounds are reported.
 *
 *   npx tsx bench/serving/auth-overhead.ts [--duration 5] [--rounds 3] [--connections 16] [--rate 500] [--threads 2] [--json]
 *
 * Needs the local stack's PostgreSQL and MLflow. The gateways get a database of their own
 * (flywheel_bench_auth). Both run with the default per-client rate limit (600,000/min), far above
 * what is sent, so the difference is authentication alone.
 */
import os from 'node:os';
import path from 'node:path';
import fsp from 'node:fs/promises';
import pg from 'pg';
import { deployVersion } from '../../activities/deploy';
import { createApiKey } from '../../clients/api-keys';
import { MlflowClient } from '../../clients/mlflow';
import { createScratchDatabase } from '../../scripts/stack/postgres';
import { loadConfig } from '../../config/index';
import { migrate } from '../../db/migrate';
import { loadDataset } from '../../datasets/load';
import { JsonClient } from '../../traffic/http';
import { closedLoop, openLoop, type LoadResult } from '../../traffic/load';
import { startLocalIssuer } from '../../test/integration/helpers/oidc-issuer';
import { ApiKeyVerifier, OidcVerifier } from '../../serving/auth';
import { BENCH_MODEL, benchOnnx, ensureVersion } from './models';
import { freePort, startServer, stopServer, waitHttp, type Server } from './processes';
import { positiveFlag as flag } from '../flags';

const BENCH_DB = 'flywheel_bench_auth';

const opts = {
  durationS: flag('duration', 5),
  rounds: flag('rounds', 3),
  connections: flag('connections', 16),
  rate: flag('rate', 500),
  threads: flag('threads', 2),
  json: process.argv.includes('--json'),
};
const log = (line: string) => process.stderr.write(`${line}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

type Mode = 'none' | 'api-key' | 'jwt';

async function main(): Promise<void> {
  const config = loadConfig();
  const mlflow = new MlflowClient(config.mlflow);
  if (!(await mlflow.health())) throw new Error(`MLflow is not reachable at ${config.mlflow.trackingUri}: run \`flywheel up\``);
  // Made with the admin login, owned by Flywheel's role (scripts/stack/postgres-roles.ts).
  const benchUrl = await createScratchDatabase(config, BENCH_DB);
  await migrate(benchUrl);
  const db = new pg.Pool({ connectionString: benchUrl, max: 2 });
  const version = await ensureVersion(mlflow, benchOnnx(1));
  await deployVersion(db, mlflow, { model: BENCH_MODEL, version });
  const { key } = await createApiKey(db, { name: 'bench-auth', scopes: ['predict'] });
  const issuer = await startLocalIssuer('flywheel-gateway');
  const token = await issuer.token({ azp: 'bench', scope: 'predict' }, { expiresIn: '2h' });

  const workDir = path.join(config.dataDir, 'bench-auth');
  await fsp.mkdir(workDir, { recursive: true });
  const servers: Server[] = [];
  const base = { ...process.env, DATABASE_URL: benchUrl, FLYWHEEL_GATEWAY_THREADS: String(opts.threads), FLYWHEEL_LOG_LEVEL: 'warn' };
  const [portOff, portOn] = [await freePort(), await freePort()];
  try {
    const off = startServer('gateway (auth off)', process.execPath, ['--import', 'tsx', 'serving/main.ts'], { ...base, FLYWHEEL_GATEWAY_PORT: String(portOff), FLYWHEEL_GATEWAY_AUTH: 'off' }, path.join(workDir, 'gateway-off.log'));
    servers.push(off);
    const on = startServer(
      'gateway (auth on)',
      process.execPath,
      ['--import', 'tsx', 'serving/main.ts'],
      { ...base, FLYWHEEL_GATEWAY_PORT: String(portOn), FLYWHEEL_GATEWAY_AUTH: 'on', FLYWHEEL_OIDC_ISSUER: issuer.issuer, FLYWHEEL_OIDC_AUDIENCE: 'flywheel-gateway' },
      path.join(workDir, 'gateway-on.log'),
    );
    servers.push(on);
    await waitHttp(off, `http://127.0.0.1:${portOff}/healthz`, 60_000);
    await waitHttp(on, `http://127.0.0.1:${portOn}/healthz`, 60_000);

    const iris = await loadDataset('builtin:iris');
    if (!iris.ok) throw new Error(iris.error.message);
    const ds = iris.value.dataset;
    const rows = Array.from({ length: ds.nRows }, (_, r) => Array.from(ds.x.subarray(r * ds.nFeatures, (r + 1) * ds.nFeatures)));
    const clients: Record<Mode, JsonClient> = {
      none: new JsonClient(`http://127.0.0.1:${portOff}`, opts.connections),
      'api-key': new JsonClient(`http://127.0.0.1:${portOn}`, opts.connections, { apiKey: key }),
      jwt: new JsonClient(`http://127.0.0.1:${portOn}`, opts.connections, { apiKey: token }),
    };
    for (const [mode, c] of Object.entries(clients)) {
      const r = await c.post(`/v1/models/${BENCH_MODEL}/predict`, { features: rows[0] });
      if (r.status !== 200) throw new Error(`${mode}: predict answered ${r.status} ${JSON.stringify(r.body)}`);
    }
    const results: Record<Mode, { closed: LoadResult[]; open: LoadResult[] }> = { none: { closed: [], open: [] }, 'api-key': { closed: [], open: [] }, jwt: { closed: [], open: [] } };
    const loadBefore = os.loadavg()[0]!;
    for (let round = 1; round <= opts.rounds; round++) {
      for (const mode of ['none', 'api-key', 'jwt'] as Mode[]) {
        const c = clients[mode];
        const send = async (i: number) => (await c.post(`/v1/models/${BENCH_MODEL}/predict`, { unitKey: `u-${i % 5000}`, features: rows[i % rows.length] })).status === 200;
        await closedLoop({ connections: opts.connections, durationMs: 1_000, send });
        log(`round ${round}/${opts.rounds}, ${mode}: closed loop ${opts.connections} connections, then open loop ${opts.rate} req/s, ${opts.durationS} s each`);
        results[mode].closed.push(await closedLoop({ connections: opts.connections, durationMs: opts.durationS * 1000, send }));
        results[mode].open.push(await openLoop({ rate: opts.rate, durationMs: opts.durationS * 1000, send, maxInFlight: 256 }));
      }
    }
    for (const c of Object.values(clients)) c.close();
    // The verification itself, in this process, warm (cached key record, cached JWKS): CPU per request,
    // much less sensitive to a shared machine's load than the HTTP figures above.
    const keyVerifier = new ApiKeyVerifier(db, 60_000);
    const oidcVerifier = new OidcVerifier({ issuer: issuer.issuer, audience: 'flywheel-gateway', clockToleranceS: 30 });
    const perCallUs = async (fn: () => Promise<unknown>, n: number) => {
      for (let i = 0; i < 200; i++) await fn();
      const samples: number[] = [];
      for (let r = 0; r < 5; r++) {
        const t0 = performance.now();
        for (let i = 0; i < n; i++) await fn();
        samples.push(((performance.now() - t0) * 1000) / n);
      }
      return Math.round(Math.min(...samples) * 10) / 10;
    };
    const verifyUs = {
      apiKey: await perCallUs(() => keyVerifier.verify(key), 20_000),
      jwtSeenBefore: await perCallUs(() => oidcVerifier.verify(token), 20_000),
      jwtSignatureCheck: await perCallUs(() => oidcVerifier.verifyUncached(token), 5_000),
    };
    const summary = Object.fromEntries(
      (Object.keys(results) as Mode[]).map((m) => {
        const r = results[m];
        return [
          m,
          {
            closedRps: median(r.closed.map((x) => x.throughputRps)),
            closedP50Ms: median(r.closed.map((x) => x.latency.p50Ms)),
            closedP99Ms: median(r.closed.map((x) => x.latency.p99Ms)),
            openP50Ms: median(r.open.map((x) => x.latency.p50Ms)),
            openP99Ms: median(r.open.map((x) => x.latency.p99Ms)),
            failed: [...r.closed, ...r.open].reduce((a, x) => a + x.failed, 0),
          },
        ];
      }),
    ) as Record<Mode, { closedRps: number; closedP50Ms: number; closedP99Ms: number; openP50Ms: number; openP99Ms: number; failed: number }>;
    const report = {
      command: `npx tsx bench/serving/auth-overhead.ts ${process.argv.slice(2).join(' ')}`.trim(),
      machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, loadAverageAtStart: Math.round(loadBefore * 100) / 100, loadAverageAtEnd: Math.round(os.loadavg()[0]! * 100) / 100 },
      options: opts,
      jwksFetches: issuer.jwksFetches(),
      verifyMicroseconds: verifyUs,
      summary,
      rounds: results,
    };
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return;
    }
    const n = summary.none;
    const pct = (a: number, b: number) => `${a >= b ? '+' : ''}${Math.round(((a - b) / b) * 1000) / 10}%`;
    process.stdout.write(`\n| mode | closed loop ${opts.connections} conns req/s | vs none | closed p50 / p99 ms | open ${opts.rate} req/s p50 / p99 ms | failed |\n|---|---|---|---|---|---|\n`);
    for (const m of ['none', 'api-key', 'jwt'] as Mode[]) {
      const s = summary[m];
      process.stdout.write(`| ${m} | ${s.closedRps} | ${m === 'none' ? '—' : pct(s.closedRps, n.closedRps)} | ${s.closedP50Ms} / ${s.closedP99Ms} | ${s.openP50Ms} / ${s.openP99Ms} | ${s.failed} |\n`);
    }
    process.stdout.write(`\nverification alone, in process (best of 5): API key ${verifyUs.apiKey} µs, JWT seen before ${verifyUs.jwtSeenBefore} µs, JWT signature check ${verifyUs.jwtSignatureCheck} µs per request\n`);
    process.stdout.write(`medians over ${opts.rounds} interleaved rounds; JWKS fetched ${issuer.jwksFetches()} time(s); load average ${report.machine.loadAverageAtStart} → ${report.machine.loadAverageAtEnd} on ${report.machine.cpus} CPUs\n`);
  } finally {
    for (const s of servers) await stopServer(s);
    await issuer.close();
    await db.end();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench/serving/auth-overhead: ${err.message}`);
    process.exit(1);
  },
);
