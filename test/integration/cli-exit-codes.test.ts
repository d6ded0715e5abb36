/**
 * One exit-code policy for every command, as a user meets it (the real CLI process, the real
 * stack): bad input, unknown names and refused requests exit 2, the stack being down exits 3, and
 * either way stderr is one line. Then `workflows show` on a workflow of every kind exits 0.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config/index';
import { MODEL_NAME } from '../../config/search-attributes';
import type { WorkflowType } from '../../cli/renderers/index';
import { driftMonitorId } from '../../lib/retraining/spec';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';

let env: TestEnv;
let cliEnv: Record<string, string>;
const model = uniqueModelName('exit');
const started: string[] = [];

function flywheel(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/flywheel.mjs', ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...cliEnv, ...extraEnv } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function workflowsFor(name: string): Promise<number> {
  let n = 0;
  for await (const _ of env.client.workflow.list({ query: `${MODEL_NAME.name} = "${name}"` })) n++;
  return n;
}

beforeAll(async () => {
  env = await openTestEnv('cli-exit');
  cliEnv = { FLYWHEEL_TASK_QUEUE_WORKFLOWS: env.taskQueues.workflows, FLYWHEEL_TASK_QUEUE_CPU: env.taskQueues.cpu, FLYWHEEL_TASK_QUEUE_CONTROL: env.taskQueues.control };
  // One registered version (v1) of the model the cases name; nothing deployed, nothing running.
  const r = await runWorkers(env, () => flywheel(['train', '--dataset', 'iris', '--model', model, '-p', 'epochs=5', '--wait', '--json']));
  expect(r.code, r.stderr).toBe(0);
  started.push(JSON.parse(r.stdout).workflowId);
});
afterAll(async () => {
  for (const id of started) await env?.client.workflow.getHandle(id).terminate('test over').catch(() => undefined);
  await env?.close();
});

const NO_TEMPORAL = { TEMPORAL_ADDRESS: '127.0.0.1:1' };
const NO_MLFLOW = { MLFLOW_TRACKING_URI: 'http://127.0.0.1:1' };
const NO_POSTGRES = { DATABASE_URL: 'postgres://flywheel@127.0.0.1:1/flywheel' };

// [args, expected exit code, the one stderr line, environment]
type Case = [string[], 0 | 1 | 2 | 3, RegExp, Record<string, string>?];
const cases = (): Case[] => [
  // usage: one line and where the usage is
  [['nosuch'], 2, /^flywheel: unknown command 'nosuch' \(see `flywheel --help`\)$/],
  [['canary', 'start'], 2, /^flywheel: missing required argument 'model' \(see `flywheel canary start --help`\)$/],
  [['ab', 'start', model], 2, /^flywheel: missing required argument 'versions' \(see `flywheel ab start --help`\)$/],
  [['deploy', model], 2, /^flywheel: missing required argument 'version' \(see `flywheel deploy --help`\)$/],
  [['train'], 2, /^flywheel: required option '-d, --dataset <ref>' not specified \(see `flywheel train --help`\)$/],
  [['train', '--dataset', 'iris', '--bogus'], 2, /^flywheel: unknown option '--bogus'/],
  [['workflows', 'show'], 2, /^flywheel: missing required argument 'workflowId'/],
  // bad values
  [['train', '--dataset', 'mnist', '--model', model], 2, /^flywheel: dataset mnist: unknown dataset/],
  [['hpo', 'start', '--dataset', 'iris', '--model', model, '--sampler', 'bayes'], 2, /^flywheel: unknown sampler "bayes"/],
  [['workflows', 'list', '--limit', '0'], 2, /^flywheel: --limit must be a positive integer/],
  [['serve', '--port', '99999'], 2, /^flywheel: --port: expected a port number/],
  [['deploy', model, 'abc'], 2, /^flywheel: version must be a registered version number such as 1 or 12 \(got "abc"\)$/],
  [['canary', 'start', model, '1', '--steps', 'bogus'], 2, /^flywheel: /],
  [['canary', 'start', model, '1', '--analysis', '/nonexistent/analysis.yaml'], 2, /^flywheel: cannot read analysis file \/nonexistent\/analysis\.yaml: no such file$/],
  [['ab', 'start', model, '1'], 2, /^flywheel: /],
  [['ab', 'start', model, '1', '1'], 2, /^flywheel: /],
  [['knowledge', 'ingest', '/nonexistent/t.jsonl'], 2, /^flywheel: transcript \/nonexistent\/t\.jsonl: no such file$/],
  [['drift', 'events', model, '--limit', '0'], 2, /^flywheel: --limit must be an integer/],
  // unknown names: model, version, workflow id
  [['models', 'show', `${model}-nope`], 2, /^flywheel: no registered model named .*-nope \(see flywheel models list\)$/],
  [['models', 'show', model, '99'], 2, /^flywheel: model .* has no version 99$/],
  [['deploy', `${model}-nope`, '1'], 2, /^flywheel: model .*-nope version 1 is not in the MLflow registry/],
  [['deploy', model, '99'], 2, /^flywheel: model .* version 99 is not in the MLflow registry/],
  [['canary', 'start', `${model}-nope`, '2'], 2, /^flywheel: no registered model named .*-nope/],
  [['canary', 'start', model, '99'], 2, /^flywheel: model .* has no version 99 \(see flywheel models show/],
  [['canary', 'start', model, '1'], 2, /^flywheel: model .* has no stable version serving traffic/],
  [['canary', 'start', model, '1', '--stable', '1'], 2, /^flywheel: candidate and stable are the same version \(1\)$/],
  [['ab', 'start', `${model}-nope`, '1', '2', '--mde', '0.1'], 2, /^flywheel: no registered model named .*-nope/],
  [['ab', 'start', model, '1', '99', '--mde', '0.1'], 2, /^flywheel: model .* has no version 99/],
  [['canary', 'status', model], 2, /^flywheel: no rollout for model /],
  [['canary', 'abort', model], 2, /^flywheel: no running rollout for model /],
  [['ab', 'status', model], 2, /^flywheel: no A\/B test for model /],
  [['ab', 'stop', model], 2, /^flywheel: no A\/B test for model /],
  [['drift', 'status', model], 2, /^flywheel: no drift monitor for model /],
  [['drift', 'stop', model], 2, /^flywheel: no drift monitor for model /],
  [['hpo', 'status', 'search-nope'], 2, /^flywheel: no search with id search-nope$/],
  [['workflows', 'show', 'wf-nope'], 2, /^flywheel: no workflow with id wf-nope/],
  [['knowledge', 'status', 'knowledge-nope'], 2, /^flywheel: no knowledge validation with id knowledge-nope$/],
  [['knowledge', 'fact', 'f-000000000000'], 2, /^flywheel: no fact f-000000000000 in the knowledge graph$/],
  [['online', 'status', `${model}-nope`], 2, /^flywheel: no online model /],
  [['online', 'start', model, '--from', 'x'], 2, /^flywheel: --from must be a registered version number/],
  [['online', 'start', `${model}-nope`, '--from', '1'], 2, /^flywheel: model .*-nope version 1 is not in the MLflow registry/],
  [['drift', 'start', `${model}-nope`, '--dataset', 'iris'], 2, /^flywheel: no registered model named .*-nope/],
  [['report'], 2, /^flywheel: missing required argument 'model' \(see `flywheel report --help`\)$/],
  [['report', model, '--since', '3x'], 2, /^flywheel: --since: a duration such as 30d, 12h, 90m or 600s \(got "3x"\)$/],
  [['report', `${model}-nope`], 2, /^flywheel: no registered model named .*-nope \(see flywheel models list\)$/],
  // a malformed environment is bad input too
  [['models', 'list'], 2, /^flywheel: invalid environment variable MLFLOW_TRACKING_URI/, { MLFLOW_TRACKING_URI: 'not a url' }],
  // the stack is down
  [['workflows', 'list'], 3, /^flywheel: Temporal is not reachable at 127\.0\.0\.1:1 .*flywheel up/, NO_TEMPORAL],
  [['canary', 'status', model], 3, /^flywheel: Temporal is not reachable/, NO_TEMPORAL],
  [['models', 'list'], 3, /^flywheel: MLflow is not reachable at http:\/\/127\.0\.0\.1:1/, NO_MLFLOW],
  [['deploy', model, '1'], 3, /^flywheel: MLflow is not reachable/, NO_MLFLOW],
  [['knowledge', 'fact', 'f-000000000000'], 3, /^flywheel: .*(PostgreSQL|ECONNREFUSED|flywheel up)/, NO_POSTGRES],
  [['report', model, '--out', '/nonexistent/never-written.html'], 3, /^flywheel: MLflow is not reachable/, NO_MLFLOW],
  [['report', model, '--out', '/nonexistent/never-written.html'], 3, /^flywheel: Temporal is not reachable/, NO_TEMPORAL],
  [['report', model, '--out', '/nonexistent/never-written.html'], 3, /^flywheel: .*(PostgreSQL|ECONNREFUSED|flywheel up)/, NO_POSTGRES],
];

// Each case is a process of its own (a second or more of start-up): a few at a time.
describe.concurrent('exit codes: 2 bad input, 3 stack down, one line on stderr', () => {
  it.each(cases().map((c) => [c[0].join(' ') + (c[3] ? ` (${Object.keys(c[3]).join(',')})` : ''), c] as const))('%s', async (_name, [args, code, line, extraEnv]) => {
    const r = await flywheel(args, extraEnv);
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(line);
    expect(r.code, r.stderr).toBe(code);
  });
});

describe('after the bad input', () => {
  it('started no workflow for the model the cases name (only its one training)', async () => {
    expect(await workflowsFor(model)).toBe(1);
  });

  it('a reader that goes away (| head -1) ends the command quietly with 0', async () => {
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['bin/flywheel.mjs', 'models', 'show', model], { cwd: PROJECT_ROOT, env: { ...process.env, ...cliEnv } });
      child.stdout.destroy(); // the reading end is closed before the command writes
      let stderr = '';
      child.stderr.on('data', (b) => (stderr += b));
      child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('--json errors are one JSON document with the same exit code', async () => {
    const r = await flywheel(['models', 'show', `${model}-nope`, '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({ error: `no registered model named ${model}-nope (see flywheel models list)`, exitCode: 2 });
  });
});

describe('workflows show renders every workflow type', () => {
  it('a completed training pipeline: status is the execution status, stages and the registered version', async () => {
    const r = await flywheel(['workflows', 'show', started[0]!]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^status: +completed$/m);
    expect(r.stdout).toMatch(/^type: +TrainingPipeline$/m);
  });

  // Every other type, started with an input its own checks refuse: a real run of each, closed in a second.
  const types: WorkflowType[] = ['HyperparameterSearch', 'CanaryRollout', 'ABTest', 'DriftMonitor', 'Retraining', 'KnowledgeValidation', 'OnlineSnapshot'];
  it(`a failed run of each other type (${types.join(', ')}): its status and the reason`, async () => {
    await runWorkers(
      env,
      async () => {
        for (const type of types) {
          // The ids the status commands look for, so each reports the failed run (exit 1, with the reason).
          const statusCommand: Partial<Record<WorkflowType, [string, string[]]>> = {
            CanaryRollout: [`canary-${model}`, ['canary', 'status', model]],
            ABTest: [`ab-${model}`, ['ab', 'status', model]],
            DriftMonitor: [driftMonitorId(model), ['drift', 'status', model]],
            HyperparameterSearch: [`show-search-${model}`, ['hpo', 'status', `show-search-${model}`]],
            KnowledgeValidation: [`show-knowledge-${model}`, ['knowledge', 'status', `show-knowledge-${model}`]],
          };
          const id = statusCommand[type]?.[0] ?? `show-${type}-${model}`;
          started.push(id);
          await env.client.workflow.start(type, { taskQueue: env.taskQueues.workflows, workflowId: id, args: [{ taskQueues: { cpu: env.taskQueues.cpu } }] });
          await Promise.race([env.client.workflow.getHandle(id).result().catch(() => undefined), new Promise((r) => setTimeout(r, 20_000))]);
          const r = await flywheel(['workflows', 'show', id]);
          expect.soft(r.code, `${type}: ${r.stderr}`).toBe(0);
          expect.soft(r.stdout, type).toMatch(new RegExp(`^type: +${type}$`, 'm'));
          expect.soft(r.stdout, type).toMatch(/^status: +failed$/m);
          expect.soft(r.stdout, type).toMatch(/^outcome: +failed: \S/m);
          const json = JSON.parse((await flywheel(['workflows', 'show', id, '--json'])).stdout);
          expect.soft(json, type).toMatchObject({ workflowId: id, type, status: 'FAILED' });
          expect.soft(typeof json.failure, type).toBe('string');
          const status = statusCommand[type];
          if (status) {
            const st = await flywheel(status[1]);
            expect.soft(st.code, `${type}: ${st.stderr}`).toBe(1);
            expect.soft(st.stderr.trim().split('\n'), type).toHaveLength(1);
            expect.soft(st.stderr.trim(), type).toMatch(new RegExp(`^flywheel: the .* ${id} failed: \\S`));
          }
        }
      },
      { activities: false },
    );
  });
});
