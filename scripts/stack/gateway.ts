/**
 * The serving gateway as a stack service: `node --import tsx serving/main.ts` in the background,
 * healthy once `GET /healthz` answers 200 (it has read the deployment tables and loaded what
 * they name).
 */
import { PROJECT_ROOT, type FlywheelConfig } from '../../config/index';
import { gatewayCa, JsonClient } from '../../traffic/http';
import { isHttpOk } from './health';
import { launch, logFile, ownedProcess, stopProcess, type ProcessRecord, type ProcessSpec } from './processes';

export const GATEWAY = 'gateway' as const;
const ENTRY = 'serving/main.ts';

export function gatewayHealthUrl(config: FlywheelConfig): string {
  return `${config.gateway.url}/healthz`;
}

export function gatewaySpec(): ProcessSpec {
  // The same environment as this process, so the gateway loads the same configuration.
  return { name: GATEWAY, command: process.execPath, args: ['--import', 'tsx', ENTRY], cwd: PROJECT_ROOT, env: process.env };
}

export async function isGatewayHealthy(config: FlywheelConfig): Promise<boolean> {
  if (!config.gateway.tls) return isHttpOk(gatewayHealthUrl(config));
  // HTTPS: the certificate is checked against FLYWHEEL_GATEWAY_CA (fetch would need NODE_EXTRA_CA_CERTS).
  const client = new JsonClient(config.gateway.url, 1, { ca: gatewayCa(config) });
  try {
    return (await client.request('GET', '/healthz', undefined, 3000)).status === 200;
  } catch {
    return false;
  } finally {
    client.close();
  }
}

export async function ownedGateway(config: FlywheelConfig): Promise<ProcessRecord | undefined> {
  return ownedProcess(config, GATEWAY);
}

/** Startup downloads and loads every deployed model: allow for a slow MLflow. */
export async function startGateway(config: FlywheelConfig): Promise<ProcessRecord> {
  return launch(config, gatewaySpec(), { what: 'serving gateway', healthy: () => isGatewayHealthy(config), timeoutMs: 90_000 });
}

/** SIGTERM lets it finish requests in flight and write buffered predictions. */
export async function stopGateway(config: FlywheelConfig): Promise<boolean> {
  return stopProcess(config, GATEWAY);
}

export function gatewayLogFile(config: FlywheelConfig): string {
  return logFile(config, GATEWAY);
}

/** The entry for stack.ts's SERVICES list (same shape as its `Service`). */
export const gatewayService = {
  name: GATEWAY,
  label: 'serving gateway',
  startable: () => true,
  healthy: isGatewayHealthy,
  owned: ownedGateway,
  start: (config: FlywheelConfig) => startGateway(config),
  stop: stopGateway,
  url: (config: FlywheelConfig) => config.gateway.url,
  logFile: async (config: FlywheelConfig) => gatewayLogFile(config),
  ports: (config: FlywheelConfig) => [{ port: config.gateway.port, env: 'FLYWHEEL_GATEWAY_PORT' }],
};
