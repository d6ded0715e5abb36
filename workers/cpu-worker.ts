/** The CPU activity pool: data, training, export and evaluation, with few slots (trainings are heavy). */
import { Worker } from '@temporalio/worker';
import { loadConfig } from '../config/index';
import { createActivities } from '../activities/index';
import { closePools } from '../clients/db';
import { resolveGitCommit } from './git-commit';
import { workerIdentity } from '../clients/identity';
import { activityTracingOptions } from '../clients/tracing';
import { connectWorker, installRuntime, logDrainOnSignal, logReady, shutdownOptions } from './runtime';

async function main(): Promise<void> {
  const config = loadConfig();
  installRuntime(config, 'cpu-worker', config.metrics.cpuWorkerPort);
  const connection = await connectWorker(config);
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    identity: workerIdentity('cpu-worker'),
    taskQueue: config.taskQueues.cpu,
    activities: createActivities(config, resolveGitCommit(config)),
    maxConcurrentActivityTaskExecutions: config.cpuWorker.maxConcurrentActivities,
    ...shutdownOptions(config),
    ...activityTracingOptions(),
  });
  logDrainOnSignal('cpu-worker', config);
  logReady('cpu-worker', config.taskQueues.cpu);
  await worker.run();
  await closePools();
  await connection.close();
}

main().catch((err) => {
  console.error(JSON.stringify({ level: 'error', component: 'cpu-worker', msg: 'worker failed', error: String(err?.stack ?? err) }));
  process.exit(1);
});
