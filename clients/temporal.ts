/** One place that opens a Temporal client from config, with an error a person can act on. */
import { clientTracingInterceptors } from './tracing';
import fs from 'node:fs';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { ConfigError, type FlywheelConfig } from '../config/index';
import { cliIdentity } from './identity';

/** What both `Connection.connect` (clients) and `NativeConnection.connect` (workers) take. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
}

function readPem(file: string, variable: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new ConfigError(`${variable}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/**
 * The address, TLS and API key of every production Temporal connection (CLI, workers, reconciler,
 * schedules), from TEMPORAL_TLS, TEMPORAL_TLS_CA/CERT/KEY/SERVER_NAME and TEMPORAL_API_KEY. The PEM
 * files are read here, at connect time, so a rotated certificate is picked up by the next connection.
 */
export function temporalConnectionOptions(config: FlywheelConfig): TemporalConnectionOptions {
  const { address, tls, apiKey } = config.temporal;
  if (!tls) return { address };
  const out: TLSConfig = {};
  if (tls.serverName) out.serverNameOverride = tls.serverName;
  if (tls.caPath) out.serverRootCACertificate = readPem(tls.caPath, 'TEMPORAL_TLS_CA');
  if (tls.certPath && tls.keyPath) out.clientCertPair = { crt: readPem(tls.certPath, 'TEMPORAL_TLS_CERT'), key: readPem(tls.keyPath, 'TEMPORAL_TLS_KEY') };
  return { address, tls: out, ...(apiKey ? { apiKey } : {}) };
}

export class StackNotRunningError extends Error {
  override name = 'StackNotRunningError';
}

/** `identity` is what the workflow history records as the actor (default: the CLI's, clients/identity.ts). */
export async function connectTemporal(config: FlywheelConfig, identity: string = cliIdentity(config)): Promise<{ client: Client; connection: Connection }> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...temporalConnectionOptions(config), connectTimeout: '3s' });
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new StackNotRunningError(
      `Temporal is not reachable at ${config.temporal.address} (${(err as Error).message.split('\n')[0]}): ${
        config.temporal.tls
          ? 'check the address and the TLS settings (TEMPORAL_TLS_CA, TEMPORAL_TLS_CERT/KEY, TEMPORAL_TLS_SERVER_NAME, TEMPORAL_API_KEY)'
          : 'start the stack with `flywheel up`'
      }`,
    );
  }
  return { client: new Client({ connection, namespace: config.temporal.namespace, identity, interceptors: clientTracingInterceptors() }), connection };
}
