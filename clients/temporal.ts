/** One place that opens a Temporal client from config, with an error a person can act on. */
import { Client, Connection } from '@temporalio/client';
import type { FlywheelConfig } from '../config/index';
import { cliIdentity } from './identity';

export class StackNotRunningError extends Error {
  override name = 'StackNotRunningError';
}

/** `identity` is what the workflow history records as the actor (default: the CLI's, clients/identity.ts). */
export async function connectTemporal(config: FlywheelConfig, identity: string = cliIdentity(config)): Promise<{ client: Client; connection: Connection }> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: config.temporal.address, connectTimeout: '3s' });
  } catch (err) {
    throw new StackNotRunningError(
      `Temporal is not reachable at ${config.temporal.address} (${(err as Error).message.split('\n')[0]}): start the stack with \`flywheel up\``,
    );
  }
  return { client: new Client({ connection, namespace: config.temporal.namespace, identity }), connection };
}
