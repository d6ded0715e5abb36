/**
 * `flywheel online start|status|snapshot|stop` on the real stack, through the real CLI process:
 * bad input refused at the edge with one line and exit 2; a started online model served by a
 * gateway, taught by a label, snapshotted on request by the OnlineSnapshot workflow, stopped.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_NAME } from '../../config/search-attributes';
import { PROJECT_ROOT } from '../../config/index';
import { createGateway, type Gateway } from '../../serving/app';
import { JsonClient } from '../../traffic/http';
import type { TrainingPipelineResult } from '../../workflows/training-pipeline';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';
import { testApiKey } from './helpers/auth';

let env: TestEnv;
const model = uniqueModelName('iris-ocli');
const name = `${model}-on`;
let version: string;

function flywheel(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const cliEnv = { FLYWHEEL_TASK_QUEUE_WORKFLOWS: env.taskQueues.workflows, FLYWHEEL_TASK_QUEUE_CPU: env.taskQueues.cpu, FLYWHEEL_TASK_QUEUE_CONTROL: env.taskQueues.control };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/flywheel.mjs', ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...cliEnv } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

beforeAll(async () => {
  env = await openTestEnv('online-cli');
  const result = await runWorkers(env, async () => {
    const handle = await env.client.workflow.start('TrainingPipeline', {
      taskQueue: env.taskQueues.workflows,
      workflowId: `train-${model}`,
      args: [{ model, dataset: 'builtin:iris', family: 'softmax-regression', hyperparameters: { epochs: 10 }, taskQueues: { cpu: env.taskQueues.cpu } }],
      typedSearchAttributes: [{ key: MODEL_NAME, value: model }],
    });
    return (await handle.result()) as TrainingPipelineResult;
  });
  version = result.version;
});

afterAll(async () => {
  await env?.db.query('DELETE FROM online_predictions WHERE model = $1', [name]);
  await env?.db.query('DELETE FROM online_snapshots WHERE name = $1', [name]);
  await env?.db.query('DELETE FROM online_models WHERE name = $1', [name]);
  await env?.close();
});

describe('flywheel online', () => {
  it('refuses bad input with one line and exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['online', 'start', model, '--from', version, '--snapshot-every', 'soon'], /^flywheel: --snapshot-every: expected seconds or a duration like 30s, 10m, 2h \(got soon\)$/],
      [['online', 'start', model, '--from', '999'], new RegExp(`^flywheel: model ${model} version 999 is not in the MLflow registry`)],
      [['online', 'start', model, '--from', version, '--name', 'bad name'], /^flywheel: name: bad name must be letters, digits/],
      [['online', 'start', model, '--from', version, '--learning-rate', '-1'], /^flywheel: learningRate: must be a number in \[0, 10\], got -1$/],
    ];
    for (const [args, message] of cases) {
      const r = await flywheel(args);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(message);
      expect(r.code).toBe(2);
    }
  });

  it('starts, learns, snapshots on request and stops', async () => {
    await runWorkers(env, async () => {
      const started = await flywheel(['online', 'start', model, '--from', version, '--name', name, '--snapshot-every', '1h', '--learning-rate', '0.2', '--json']);
      expect(started.code, started.stderr).toBe(0);
      expect(JSON.parse(started.stdout)).toMatchObject({ name, model, version, generation: 1, created: true, snapshotWorkflowId: `online-snapshot-${name}`, everySeconds: 3600 });

      const gateway: Gateway = await createGateway({ ...env.config, gateway: { ...env.config.gateway, threads: 1, pollMs: 200 } }, { port: 0, logger: false });
      const client = new JsonClient(await gateway.listen(), 4, { apiKey: await testApiKey(env, 'online-cli') });
      try {
        const p = (await client.post(`/v1/online/${name}/predict`, { features: [5.1, 3.5, 1.4, 0.2] })).body as { predictionId: string };
        expect((await client.post('/v1/feedback', { predictionId: p.predictionId, kind: 'label', label: 'virginica' })).status).toBe(201);
      } finally {
        client.close();
        // Closing checkpoints the learnt state, which the snapshot reads.
        await gateway.close();
      }

      expect((await flywheel(['online', 'snapshot', name])).code).toBe(0);
      let status: { model: { learned: string }; snapshots: Array<{ version: string }>; workflow: { registered: number } } | undefined;
      for (let i = 0; i < 100; i++) {
        const r = await flywheel(['online', 'status', name, '--json']);
        status = JSON.parse(r.stdout);
        if (status!.snapshots.length > 0) break;
        await new Promise((res) => setTimeout(res, 300));
      }
      expect(Number(status!.model.learned)).toBe(1);
      expect(status!.snapshots).toHaveLength(1);
      expect(status!.workflow.registered).toBe(1);
      const text = await flywheel(['online', 'status', name]);
      expect(text.stdout).toMatch(/learned:\s+1 labels \(feedback ids \d+…\d+\)/);

      const stopped = await flywheel(['online', 'stop', name, '--json']);
      expect(JSON.parse(stopped.stdout)).toEqual({ name, stopped: true, workflowSignalled: true });
      const handle = env.client.workflow.getHandle(`online-snapshot-${name}`);
      expect((await handle.result()).state).toBe('stopped');
    });
  });
});
