/** The workflow worker: runs Flywheel's deterministic workflows and no activities. */
import { Worker } from '@temporalio/worker';
import { loadConfig } from '../config/index';
import { connectWorker, installRuntime, logReady } from './runtime';
import { WORKFLOWS_PATH } from './workflow-worker-path';

async function main(): Promise<void> {
  const config = loadConfig();
  installRuntime(config, 'workflow-worker', config.metrics.workflowWorkerPort);
  const connection = await connectWorker(config);
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.taskQueues.workflows,
    workflowsPath: WORKFLOWS_PATH,
  });
  logReady('workflow-worker', config.taskQueues.workflows);
  await worker.run();
  await connection.close();
}

main().catch((err) => {
  console.error(JSON.stringify({ level: 'error', component: 'workflow-worker', msg: 'worker failed', error: String(err?.stack ?? err) }));
  process.exit(1);
});
