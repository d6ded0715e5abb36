/**
 * The credential a client on this machine (the CLI, `flywheel traffic replay`, the demo) sends to
 * the gateway: FLYWHEEL_API_KEY, else the local admin key `flywheel up` wrote to
 * <data folder>/credentials/cli.key (0600). Undefined when neither exists (a gateway running with
 * FLYWHEEL_GATEWAY_AUTH=off needs none).
 */
import fs from 'node:fs';
import path from 'node:path';
import { dataPaths, type FlywheelConfig } from '../config/index';

export function cliKeyFile(config: FlywheelConfig): string {
  return path.join(dataPaths(config).credentials, 'cli.key');
}

export function clientApiKey(config: FlywheelConfig): string | undefined {
  if (config.apiKey) return config.apiKey;
  try {
    const key = fs.readFileSync(cliKeyFile(config), 'utf8').trim();
    return key.length > 0 ? key : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the key with 0600 in a 0700 folder (created if needed); never overwrites another key. */
export function writeCliKey(config: FlywheelConfig, key: string): string {
  const file = cliKeyFile(config);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.chmodSync(path.dirname(file), 0o700);
  fs.writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return file;
}
