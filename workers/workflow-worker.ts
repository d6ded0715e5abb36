/** The workflow worker: runs Flywheel's deterministic workflows and no activities. */
import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { loadConfig, type FlywheelConfig } from '../config/index';
import { workerIdentity } from '../clients/identity';
import { workflowTracingOptions } from '../clients/tracing';
import { connectWorker, installRuntime, logDrainOnSignal, logReady, shutdownOptions } from './runtime';

async function main(): Promise<void> {
  const config = loadConfig();
  installRuntime(config, 'workflow-worker', config.metrics.workflowWorkerPort);
  const connection = await connectWorker(config);
  const codePath = bundleInChildProcess(config);
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    identity: workerIdentity('workflow-worker'),
    taskQueue: config.taskQueues.workflows,
    workflowBundle: { codePath },
    ...shutdownOptions(config),
    ...workflowTracingOptions(),
  });
  await rm(codePath, { force: true }); // read into memory by create()
  logDrainOnSignal('workflow-worker', config);
  logReady('workflow-worker', config.taskQueues.workflows);
  await worker.run();
  await connection.close();
}

/** Webpack's peak memory stays in the short-lived child; this process only loads the result. */
function bundleInChildProcess(config: FlywheelConfig): string {
  const out = path.join(config.dataDir, 'build', `workflow-bundle-${process.pid}.js`);
  const script = fileURLToPath(new URL('./bundle-workflows.ts', import.meta.url));
  execFileSync(process.execPath, ['--import', 'tsx', script, out], { stdio: ['ignore', 'ignore', 'inherit'] });
  return out;
}

main().catch((err) => {
  console.error(JSON.stringify({ level: 'error', component: 'workflow-worker', msg: 'worker failed', error: String(err?.stack ?? err) }));
  process.exit(1);
});
