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
import { existsSync } from 'node:fs';
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
 * The SDK gives the server 5 s to answer (sdk-core's ephemeral server start); a JVM on a busy
 * 2-core machine can miss that, so a start that times out is tried again.
 */
async function createTimeSkipping(attempts = 3): Promise<TestWorkflowEnvironment> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: TEST_SERVER } } });
    } catch (err) {
      if (attempt >= attempts || !/did not start|timeout|timed out/i.test(String((err as Error)?.message))) throw err;
      console.warn(`time-skipping test server did not answer in time (attempt ${attempt}/${attempts}): ${(err as Error).message.split('\n')[0]}`);
    }
  }
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
