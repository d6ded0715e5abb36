/**
 * mTLS to Temporal, for real: the dev server has no TLS, so Debian's nginx terminates TLS in front
 * of it (`ssl_verify_client on`, `grpc_pass`), with throwaway certificates made by openssl. Every
 * connection below is built by clients/temporal.ts's temporalConnectionOptions from environment
 * variables, as production builds them. Needs no shared stack: its own dev server and proxy.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTemporal, temporalConnectionOptions } from '../../clients/temporal';
import { connectWorker } from '../../workers/runtime';
import { ConfigError, loadConfig, PROJECT_ROOT } from '../../config/index';
import { DATASET_DIGEST, MODEL_NAME, PIPELINE_STAGE } from '../../config/search-attributes';
import { makePki, NGINX, startGrpcMtlsProxy, type GrpcProxy, type Pki } from './helpers/tls';

const FIXTURE_WORKFLOWS = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/tls/workflows.ts');
const hasNginx = fs.existsSync(NGINX);
const GPU_WORKER_DIR = path.join(PROJECT_ROOT, 'gpu-worker');
const GPU_WORKER_PYTHON = path.join(GPU_WORKER_DIR, '.venv/bin/python');
if (!hasNginx) console.warn(`temporal-tls: skipped, no ${NGINX} (scripts/setup.sh installs Debian's nginx-light as root)`);

let dir: string;
let pki: Pki;
let server: TestWorkflowEnvironment;
let proxy: GrpcProxy;

/** The environment a deployment would set, pointing at the proxy. */
function tlsEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: `127.0.0.1:${proxy.port}`,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TLS_CA: pki.caPem,
    TEMPORAL_TLS_CERT: pki.clientCert,
    TEMPORAL_TLS_KEY: pki.clientKey,
    ...extra,
  };
}

/** A config from exactly these variables (not the test process's own). */
function configFrom(env: Record<string, string | undefined>) {
  return loadConfig(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv);
}

/** Resolves with the error the frontend's describeNamespace fails with, or undefined when it answers. */
async function tryDescribe(env: Record<string, string | undefined>): Promise<Error | undefined> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ ...temporalConnectionOptions(configFrom(env)), connectTimeout: '5s' });
    await connection.withDeadline(Date.now() + 10_000, () => connection!.workflowService.describeNamespace({ namespace: 'default' }));
    return undefined;
  } catch (err) {
    return err as Error;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

describe.skipIf(!hasNginx)('Temporal through an mTLS proxy (nginx ssl_verify_client on)', () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-tls-'));
    pki = makePki(dir);
    server = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: path.join(PROJECT_ROOT, '.venv/bin/temporal') },
        searchAttributes: [MODEL_NAME, PIPELINE_STAGE, DATASET_DIGEST],
      },
    });
    proxy = await startGrpcMtlsProxy(pki, server.address);
  });

  afterAll(async () => {
    await proxy?.stop();
    await server?.teardown();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a worker and a client with the CA and a client certificate run a workflow to completion through the proxy', async () => {
    const config = configFrom(tlsEnv());
    expect(config.temporal.tls).toMatchObject({ caPath: pki.caPem, certPath: pki.clientCert, keyPath: pki.clientKey });
    const options = temporalConnectionOptions(config);
    expect(options.tls?.clientCertPair?.crt).toBeDefined();

    // The production entry points: the workers' connectWorker and the CLI's connectTemporal.
    const nativeConnection = await connectWorker(config);
    const { client, connection } = await connectTemporal(config, 'flywheel-tls-test');
    try {
      const taskQueue = `tls-${process.pid}`;
      const worker = await Worker.create({
        connection: nativeConnection,
        namespace: 'default',
        taskQueue,
        workflowsPath: FIXTURE_WORKFLOWS,
        activities: { echo: async (text: string) => text.toUpperCase() },
      });
      const workflowId = `tls-echo-${process.pid}-${Date.now()}`;
      const result = await worker.runUntil(
        client.workflow.execute('tlsEcho', {
          taskQueue,
          workflowId,
          args: ['through nginx'],
          typedSearchAttributes: [{ key: PIPELINE_STAGE, value: 'tls-test' }],
        }),
      );
      expect(result).toBe('echoed: THROUGH NGINX');

      // The history is the server's, read back through the proxy: the activity really ran there.
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      const types = (history.events ?? []).map((e) => e.eventType);
      expect(types).toContain(10 /* ACTIVITY_TASK_SCHEDULED */);
      expect(types).toContain(12 /* ACTIVITY_TASK_COMPLETED */);

      // (e) The CLI, configured only by environment variables, lists it through the proxy.
      const cli = await runCli(['workflows', 'list', '--json'], tlsEnv());
      expect(cli.code, cli.stderr).toBe(0);
      const rows = JSON.parse(cli.stdout) as Array<{ workflowId: string; status: string }>;
      expect(rows.find((r) => r.workflowId === workflowId)?.status).toBe('COMPLETED');
    } finally {
      await connection.close();
      await nativeConnection.close();
    }
  });

  it('the proxy answers a client with a valid certificate (the control for the refusals below)', async () => {
    expect(await tryDescribe(tlsEnv())).toBeUndefined();
  });

  it('(b) a client with the CA but no client certificate is refused', async () => {
    const err = await tryDescribe(tlsEnv({ TEMPORAL_TLS_CERT: undefined as unknown as string, TEMPORAL_TLS_KEY: undefined as unknown as string }));
    expect(err).toBeDefined();
  });

  it('(c) a client with a certificate from another CA is refused', async () => {
    const err = await tryDescribe(tlsEnv({ TEMPORAL_TLS_CERT: pki.strangerCert, TEMPORAL_TLS_KEY: pki.strangerKey }));
    expect(err).toBeDefined();
  });

  it('(d) plain text to the TLS port fails', async () => {
    const err = await tryDescribe({ TEMPORAL_ADDRESS: `127.0.0.1:${proxy.port}`, TEMPORAL_NAMESPACE: 'default' });
    expect(err).toBeDefined();
  });

  it('a client that does not trust the server certificate refuses the proxy', async () => {
    const err = await tryDescribe(tlsEnv({ TEMPORAL_TLS_CA: pki.strangerCaPem }));
    expect(err).toBeDefined();
  });

  it('the CLI without a client certificate fails with a clear message and a non-zero exit', async () => {
    const env = tlsEnv();
    delete (env as Partial<typeof env>).TEMPORAL_TLS_CERT;
    delete (env as Partial<typeof env>).TEMPORAL_TLS_KEY;
    const cli = await runCli(['workflows', 'list', '--json'], env);
    expect(cli.code).not.toBe(0);
    expect(cli.stdout + cli.stderr).toMatch(/Temporal is not reachable.*TLS settings/);
  });

  it.skipIf(!fs.existsSync(GPU_WORKER_PYTHON))('the Python worker connects with the same variables and polls through the proxy; without a certificate it exits', async () => {
    const taskQueue = `tls-torch-${process.pid}`;
    const good = await runPythonWorker(tlsEnv(), taskQueue, (line) => line === 'gpu worker ready');
    try {
      expect(good.matched, good.output).toBe(true);
      // The server itself sees its poller on the queue (read through the proxy).
      const connection = await Connection.connect(temporalConnectionOptions(configFrom(tlsEnv())));
      try {
        let pollers = 0;
        while (pollers === 0) {
          const r = await connection.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType: 2 /* ACTIVITY */ });
          pollers = r.pollers?.length ?? 0;
          if (pollers === 0) await new Promise((r) => setTimeout(r, 200));
        }
        expect(pollers).toBeGreaterThan(0);
      } finally {
        await connection.close();
      }
    } finally {
      await good.stop();
    }

    const env = tlsEnv();
    delete (env as Partial<typeof env>).TEMPORAL_TLS_CERT;
    delete (env as Partial<typeof env>).TEMPORAL_TLS_KEY;
    const bad = await runPythonWorker(env, taskQueue, (line) => line === 'gpu worker ready');
    const code = await bad.exited;
    expect(bad.matched).toBe(false);
    expect(code).toBe(1);
    expect(bad.output).toMatch(/cannot reach Temporal at 127\.0\.0\.1:\d+/);
  });

  it('a certificate without its key is one clear configuration error', () => {
    const env = tlsEnv();
    delete (env as Partial<typeof env>).TEMPORAL_TLS_KEY;
    expect(() => configFrom(env)).toThrow(ConfigError);
    expect(() => configFrom(env)).toThrow(/TEMPORAL_TLS_CERT\/TEMPORAL_TLS_KEY/);
  });
});

/** Starts `python -m flywheel_gpu_worker --device cpu` from this checkout; resolves once `until` matches a line or it exits. */
function runPythonWorker(env: Record<string, string>, taskQueue: string, until: (line: string) => boolean) {
  const child = spawn(GPU_WORKER_PYTHON, ['-u', '-m', 'flywheel_gpu_worker', '--device', 'cpu', '--task-queue', taskQueue], {
    cwd: GPU_WORKER_DIR,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), PYTHONPATH: GPU_WORKER_DIR, FLYWHEEL_DATA_DIR: path.join(dir, 'data'), FLYWHEEL_GPU_WORKER_METRICS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const state = { output: '', matched: false };
  return new Promise<{ output: string; matched: boolean; exited: Promise<number | null>; stop(): Promise<void> }>((resolve) => {
    const result = {
      get output() { return state.output; },
      get matched() { return state.matched; },
      exited,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited;
      },
    };
    const onData = (b: Buffer) => {
      state.output += b.toString();
      if (!state.matched && state.output.split('\n').some(until)) {
        state.matched = true;
        resolve(result);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => resolve(result));
  });
}

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // Only what the CLI needs plus these variables: nothing of the test process's own Temporal settings.
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), FLYWHEEL_DATA_DIR: path.join(dir, 'data') };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/flywheel.mjs', ...args], { cwd: PROJECT_ROOT, env: { ...base, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
