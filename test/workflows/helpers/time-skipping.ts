/**
 * Workflow tests on Temporal's time-skipping test server: the real workflow code (the same bundle
 * the workflow worker runs, from workflows/index.ts) against scripted activities registered under
 * the real activity names. Timers of hours fire in milliseconds of wall time: the server skips
 * ahead whenever nothing is running, while a test awaits a result or calls `env.sleep`.
 *
 * The server is the Java one from Maven Central that scripts/setup.sh puts in .flywheel/tools
 * (FLYWHEEL_TEST_SERVER overrides the path); without it (no Java) these tests skip and say why.
 * Each test gets a server of its own: time skipping is global to a server, and a failed test's
 * workflow (an in-flight activity, a task no worker will take) would hold every later test's clock.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { SEARCH_ATTRIBUTE_FLAGS } from '../../../config/search-attributes';
import { WORKFLOWS_PATH } from '../../../workers/workflow-worker-path';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const TEST_SERVER = process.env.FLYWHEEL_TEST_SERVER ?? path.join(ROOT, '.flywheel/tools/temporal-test-server/temporal-test-server');
export const hasTestServer = existsSync(TEST_SERVER);
export const NO_TEST_SERVER = `no time-skipping test server at ${TEST_SERVER}: run scripts/setup.sh (needs java and mvn)`;

export interface Queues {
  workflows: string;
  cpu: string;
  control: string;
}

export interface TimeSkipping {
  env: TestWorkflowEnvironment;
  /** Runs a workflow worker and activity workers (CPU and control queues) on queues of this call's own while fn runs. */
  withWorkers<T>(activities: object, fn: (queues: Queues) => Promise<T>): Promise<T>;
  /** The server's clock (ms since the epoch): it moves by skipped time, not wall time. */
  now(): Promise<number>;
  close(): Promise<void>;
}

// Workers log every state change at INFO and warn that a workflow-only worker polls no activities
// (and that the test server is not a 1.16+ server): errors are what a test run needs to show.
try {
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } } });
} catch {
  // already installed in this test worker
}

/** temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD (every Flywheel attribute is a keyword; scripts/stack/temporal.ts has the table). */
const INDEXED_VALUE_TYPE_KEYWORD = 2;

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

export async function openTimeSkipping(): Promise<TimeSkipping> {
  const env = await createTimeSkipping();
  // The workflows upsert Flywheel's search attributes; the stack registers them at start, so here too.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTE_FLAGS.map((f) => [f.split('=')[0]!, INDEXED_VALUE_TYPE_KEYWORD])),
  });
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  const code = await bundle;
  return {
    env,
    async withWorkers(activities, fn) {
      const suffix = randomUUID().slice(0, 8);
      const queues: Queues = { workflows: `ts-wf-${suffix}`, cpu: `ts-cpu-${suffix}`, control: `ts-control-${suffix}` };
      const workers = [
        await Worker.create({ connection: env.nativeConnection, namespace: env.namespace, taskQueue: queues.workflows, workflowBundle: code }),
        ...(await Promise.all([queues.cpu, queues.control].map((taskQueue) => Worker.create({ connection: env.nativeConnection, namespace: env.namespace, taskQueue, activities })))),
      ];
      const running = workers.map((w) => w.run());
      try {
        return await fn(queues);
      } finally {
        for (const w of workers) w.shutdown();
        await Promise.all(running);
      }
    },
    now: () => env.currentTimeMs(),
    close: () => env.teardown(),
  };
}

/**
 * The Java test server, started here rather than by the SDK: sdk-core gives an ephemeral server a
 * fixed 5 s to open its port, and a JVM on a busy 2-core machine (CI with the rest of the suite
 * beside it) misses that again and again. We spawn the same wrapper on a free port, wait as long as
 * the JVM needs (it exits or it answers), and attach to it as a time-skipping server.
 */
async function createTimeSkipping(): Promise<TestWorkflowEnvironment> {
  const port = await freePort();
  const child = spawn(TEST_SERVER, [String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  for (;;) {
    if (await portAnswers(port)) break;
    const code = await Promise.race([exited, new Promise<'alive'>((r) => setTimeout(() => r('alive'), 200))]);
    if (code !== 'alive') throw new Error(`the time-skipping test server exited (${code}) before it answered: ${stderr.trim()}`);
  }
  // TestWorkflowEnvironment.create is what createTimeSkipping() calls after starting its own server;
  // it is not in the public typings, but attaching to an existing server as time-skipping is exactly it.
  const create = (TestWorkflowEnvironment as unknown as { create(opts: object): Promise<TestWorkflowEnvironment> }).create.bind(TestWorkflowEnvironment);
  const env = await create({ server: { type: 'existing' }, address: `127.0.0.1:${port}`, namespace: 'default', supportsTimeSkipping: true, connectionOptions: {} });
  const teardown = env.teardown.bind(env);
  env.teardown = async () => {
    await teardown();
    child.kill('SIGKILL');
    await exited;
  };
  return env;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

const quietLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error(message: string, meta?: Record<string, unknown>) {
    console.error(message, meta ?? '');
  },
};

/**
 * Every call the scripted activities receive, in order, and a way to wait for one: tests move on
 * when the workflow has done something, never after a wall-clock delay.
 */
export class CallLog {
  readonly calls: Array<{ name: string; input: any; at: number }> = [];
  private waiters: Array<{ match: (c: { name: string; input: any }) => boolean; resolve: (c: { name: string; input: any }) => void }> = [];

  record(name: string, input: unknown, at: number): void {
    const call = { name, input, at };
    this.calls.push(call);
    this.waiters = this.waiters.filter((w) => (w.match(call) ? (w.resolve(call), false) : true));
  }

  of(name: string): any[] {
    return this.calls.filter((c) => c.name === name).map((c) => c.input);
  }

  names(): string[] {
    return this.calls.map((c) => c.name);
  }

  /** Resolves with the first call (already made or still to come) that matches. */
  waitFor(name: string, match: (input: any) => boolean = () => true): Promise<{ name: string; input: any }> {
    const m = (c: { name: string; input: any }) => c.name === name && match(c.input);
    const done = this.calls.find(m);
    if (done) return Promise.resolve(done);
    return new Promise((resolve) => this.waiters.push({ match: m, resolve }));
  }
}
