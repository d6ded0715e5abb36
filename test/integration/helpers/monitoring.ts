/**
 * A real Prometheus and Alertmanager (Debian's) for one test, with the configuration `flywheel up`
 * renders (scripts/stack/monitoring.ts) at a 1 s scrape and evaluation interval, scraping the
 * gateway and workers the test names in `config`, and the stack's Temporal and exporters.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import type { FlywheelConfig } from '../../../config/index';
import { MONITORING_BINARIES, renderAlertmanagerConfig, renderPrometheusConfig } from '../../../scripts/stack/monitoring';

export const MONITORING_INSTALLED = fs.existsSync(MONITORING_BINARIES.prometheus) && fs.existsSync(MONITORING_BINARIES.alertmanager);

export async function freePort(): Promise<number> {
  const srv = net.createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as net.AddressInfo;
  srv.close();
  return port;
}

/** Polls `probe` until it returns a value (not undefined), at most `tries` times, 500 ms apart. */
export async function eventually<T>(probe: () => Promise<T | undefined>, tries = 240): Promise<T | undefined> {
  for (let i = 0; i < tries; i++) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 500));
  }
  return undefined;
}

export interface TestMonitoring {
  prometheus: string;
  alertmanager: string;
  /** Where the configuration, data and logs are. */
  dir: string;
  /** `health[: lastError]` of the job's first target (of `worker` for flywheel-workers), undefined before its first scrape. */
  targetHealth(job: string, worker?: string): Promise<string | undefined>;
  close(): Promise<void>;
}

/** `config` names the gateway URL and worker metrics ports to scrape; `keyFile` holds a key with the `metrics` scope. */
export async function startMonitoring(config: FlywheelConfig, opts: { keyFile: string; webhookUrl?: string }): Promise<TestMonitoring> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-monitoring-'));
  const procs: ChildProcess[] = [];
  const start = (bin: string, args: string[], log: string) => {
    const out = fs.openSync(path.join(dir, log), 'a');
    procs.push(spawn(bin, args, { cwd: dir, stdio: ['ignore', out, out] }));
    fs.closeSync(out);
  };
  const [promPort, amPort] = [await freePort(), await freePort()];
  const c = { ...config, monitoring: { ...config.monitoring, prometheusPort: promPort, alertmanagerPort: amPort } };
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), renderPrometheusConfig(c, { credentialsFile: opts.keyFile, intervalSeconds: 1 }));
  fs.writeFileSync(path.join(dir, 'alertmanager.yml'), renderAlertmanagerConfig({ webhookUrl: opts.webhookUrl, groupWait: '1s', groupInterval: '1s', repeatInterval: '1h' }));
  start(MONITORING_BINARIES.alertmanager, [`--config.file=${dir}/alertmanager.yml`, `--storage.path=${dir}/am`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address='], 'alertmanager.log');
  start(MONITORING_BINARIES.prometheus, [`--config.file=${dir}/prometheus.yml`, `--storage.tsdb.path=${dir}/tsdb`, `--web.listen-address=127.0.0.1:${promPort}`], 'prometheus.log');
  const prometheus = `http://127.0.0.1:${promPort}`;
  const alertmanager = `http://127.0.0.1:${amPort}`;
  const close = async () => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => (p.exitCode === null ? once(p, 'exit') : undefined)));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  for (const url of [`${prometheus}/-/ready`, `${alertmanager}/-/ready`]) {
    const ready = await eventually(async () => ((await fetch(url)).ok ? true : undefined), 120);
    if (!ready) {
      const logs = ['prometheus.log', 'alertmanager.log'].map((f) => fs.readFileSync(path.join(dir, f), 'utf8').slice(-2000)).join('\n');
      await close();
      throw new Error(`${url} never answered:\n${logs}`);
    }
  }
  return {
    prometheus,
    alertmanager,
    dir,
    async targetHealth(job, worker) {
      const body = (await (await fetch(`${prometheus}/api/v1/targets`)).json()) as { data: { activeTargets: Array<{ labels: Record<string, string>; health: string; lastError: string }> } };
      const t = body.data.activeTargets.find((x) => x.labels.job === job && (worker === undefined || x.labels.worker === worker));
      return t && t.health !== 'unknown' ? `${t.health}${t.lastError ? `: ${t.lastError}` : ''}` : undefined;
    },
    close,
  };
}
