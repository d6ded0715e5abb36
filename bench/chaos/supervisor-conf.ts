import fs from 'node:fs';
import path from 'node:path';
import { dataPaths, type FlywheelConfig } from '../../config/index';

/** The stack's supervisord configuration when `flywheel up` runs the stack under one. */
export function supervisorConfFile(config: FlywheelConfig): string | undefined {
  const file = path.join(dataPaths(config).run, 'supervisord.conf');
  return fs.existsSync(file) ? file : undefined;
}
