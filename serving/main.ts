/**
 * The gateway as a process: `node --import tsx serving/main.ts` (or `flywheel serve`). Applies
 * migrations first, so it can start before anything else has created the serving tables.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig, type FlywheelConfig } from '../config/index';
import { migrate } from '../db/migrate';
import { createGateway } from './app';
import { startTracing } from '../clients/tracing';

export async function serve(config: FlywheelConfig, opts: { port?: number; host?: string } = {}): Promise<void> {
  await migrate(config.postgres.url);
  const gateway = await createGateway(config, opts);
  const url = await gateway.listen();
  gateway.app.log.info({ url, threads: config.gateway.threads }, 'gateway ready');
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      gateway.app.log.info({ signal }, 'gateway stopping: finishing requests and writing buffered predictions');
      gateway.close().then(resolve, (err: Error) => {
        gateway.app.log.error({ err: err.message }, 'gateway did not stop cleanly');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  startTracing('gateway');
  serve(loadConfig()).then(
    () => process.exit(0),
    (err: Error) => {
      console.error(`gateway failed to start: ${err.message}`);
      process.exit(1);
    },
  );
}
