/**
 * The control pool: quick control-plane activities (traffic weights, deploys, registry tags and
 * aliases, rollout/A-B/drift reads, pipeline and study records) on their own queue and slots, so a
 * failing canary's rollback never waits behind trainings holding the CPU pool.
 *
 * A process of its own rather than a second Worker inside the CPU worker: the CPU pool's ONNX
 * evaluation (session.run) and dataset splitting block its event loop for seconds, and a pool that
 * exhausts memory dies whole; neither may stall or take down the rollback path. The two pools also
 * scale and restart independently (one KEDA scaler per queue).
 * It registers every activity, so it also serves executions that still name `cpu` for control work.
 */
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
  installRuntime(config, 'control-worker', config.metrics.controlWorkerPort);
  const connection = await connectWorker(config);
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    identity: workerIdentity('control-worker'),
    taskQueue: config.taskQueues.control,
    activities: createActivities(config, resolveGitCommit(config)),
    maxConcurrentActivityTaskExecutions: config.controlWorker.maxConcurrentActivities,
    ...shutdownOptions(config),
    ...activityTracingOptions(),
  });
  logDrainOnSignal('control-worker', config);
  logReady('control-worker', config.taskQueues.control);
  await worker.run();
  await closePools();
  await connection.close();
}

main().catch((err) => {
  console.error(JSON.stringify({ level: 'error', component: 'control-worker', msg: 'worker failed', error: String(err?.stack ?? err) }));
  process.exit(1);
});
