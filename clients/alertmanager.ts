/** Alertmanager's API v2, read-only: the alerts it holds now (what its UI shows). */
import type { FlywheelConfig } from '../config/index';
import type { AlertmanagerAlert } from '../lib/alerts/firing';

/** The stack's Alertmanager (scripts/stack/monitoring.ts binds it to loopback on this port). */
export const alertmanagerBaseUrl = (config: FlywheelConfig) => `http://127.0.0.1:${config.monitoring.alertmanagerPort}`;

/** Active alerts, silenced and inhibited ones left out. Throws when Alertmanager does not answer within `timeoutMs`. */
export async function fetchActiveAlerts(baseUrl: string, timeoutMs = 3000): Promise<AlertmanagerAlert[]> {
  const res = await fetch(`${baseUrl}/api/v2/alerts?active=true&silenced=false&inhibited=false`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`Alertmanager answered HTTP ${res.status}`);
  return (await res.json()) as AlertmanagerAlert[];
}
