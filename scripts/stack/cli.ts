/**
 * A stand-in for `flywheel up|down|status` while the real CLI is written:
 *   npx tsx scripts/stack/cli.ts up|down|status [--no-workers] [--gpu] [--json]
 */
import { loadConfig } from '../../config/index';
import { StackError } from './errors';
import { down, status, up, type ServiceStatus } from './stack';

function printTable(rows: ServiceStatus[]): void {
  for (const r of rows) {
    const pid = r.pid ? `pid ${r.pid}` : '';
    console.log(`  ${r.name.padEnd(16)} ${r.state.padEnd(10)} ${pid.padEnd(11)} ${r.url ?? ''}${r.detail ? `  (${r.detail})` : ''}`);
  }
}

async function main(argv: string[]): Promise<number> {
  const [command] = argv.filter((a) => !a.startsWith('--'));
  const json = argv.includes('--json');
  const config = loadConfig();
  const onProgress = json ? undefined : (line: string) => console.log(line);
  switch (command) {
    case 'up': {
      const result = await up(config, { workers: !argv.includes('--no-workers'), gpu: argv.includes('--gpu'), ...(argv.includes('--no-monitoring') ? { monitoring: false } : {}), onProgress });
      if (json) return console.log(JSON.stringify(result, null, 2)), 0;
      console.log(`stack up in ${(result.elapsedMs / 1000).toFixed(1)} s`);
      printTable(result.services);
      console.log(`Temporal UI  ${result.urls.temporalUi}\nMLflow UI    ${result.urls.mlflowUi}`);
      if (result.urls.prometheus) console.log(`Prometheus   ${result.urls.prometheus}\nAlertmanager ${result.urls.alertmanager}`);
      return 0;
    }
    case 'down': {
      const stopped = await down(config, { onProgress });
      if (json) return console.log(JSON.stringify({ stopped }, null, 2)), 0;
      console.log(stopped.length ? `stopped ${stopped.join(', ')}` : 'nothing of ours was running');
      return 0;
    }
    case 'status': {
      const rows = await status(config);
      if (json) console.log(JSON.stringify(rows, null, 2));
      else printTable(rows);
      return rows.some((r) => r.state === 'unhealthy') ? 1 : 0;
    }
    default:
      console.error('usage: npx tsx scripts/stack/cli.ts up|down|status [--no-workers] [--gpu] [--json]');
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof StackError ? `error: ${err.message}` : err);
    process.exit(1);
  },
);
