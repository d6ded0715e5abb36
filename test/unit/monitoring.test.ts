/**
 * The monitoring configuration `flywheel up` generates (scripts/stack/monitoring.ts), checked by
 * the tools that will read it: `promtool check config` (which also checks every rule file it
 * names) and `amtool check-config`. And the rules' own contract: every alert has a runbook line and
 * promtool unit tests that expect it to fire and expect it not to (config/prometheus/tests).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { loadConfig, PROJECT_ROOT } from '../../config/index';
import { renderAlertmanagerConfig, renderPrometheusConfig, RULES_DIR } from '../../scripts/stack/monitoring';
import { stackUrls } from '../../scripts/stack/stack';
import { metricsBindHost } from '../../workers/runtime';

const execFileP = promisify(execFile);
const has = (bin: string) => (process.env.PATH ?? '').split(':').some((d) => d && fs.existsSync(path.join(d, bin)));
const PROMTOOL = has('promtool');
const AMTOOL = has('amtool');
const TESTS_DIR = path.join(PROJECT_ROOT, 'config', 'prometheus', 'tests');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-monitoring-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const config = loadConfig({
  FLYWHEEL_DATA_DIR: tmp,
  FLYWHEEL_PROMETHEUS_PORT: '19190',
  FLYWHEEL_ALERTMANAGER_PORT: '19193',
  FLYWHEEL_GATEWAY_PORT: '18388',
  FLYWHEEL_CPU_WORKER_METRICS_PORT: '19765',
  FLYWHEEL_TEMPORAL_METRICS_PORT: '19568',
  FLYWHEEL_METRICS_HOST: '0.0.0.0',
});

interface Rule { alert?: string; record?: string; expr: string; annotations?: Record<string, string> }
const ruleFiles = fs.readdirSync(RULES_DIR).filter((f) => f.endsWith('.yml'));
const rules: Rule[] = ruleFiles.flatMap((f) => (YAML.parse(fs.readFileSync(path.join(RULES_DIR, f), 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules));
const alerts = rules.filter((r) => r.alert).map((r) => r.alert!);

describe('monitoring configuration', () => {
  it('is on by default at 9090/9093, off with FLYWHEEL_MONITORING=off, and up prints its addresses only when on', () => {
    const on = loadConfig({});
    expect(on.monitoring).toMatchObject({ enabled: true, prometheusPort: 9090, alertmanagerPort: 9093 });
    expect(stackUrls(on)).toMatchObject({ prometheus: 'http://127.0.0.1:9090', alertmanager: 'http://127.0.0.1:9093' });
    const off = loadConfig({ FLYWHEEL_MONITORING: 'off' });
    expect(off.monitoring.enabled).toBe(false);
    expect(stackUrls(off)).not.toHaveProperty('prometheus');
    expect(() => loadConfig({ FLYWHEEL_MONITORING: 'no' })).toThrow(/FLYWHEEL_MONITORING/);
  });

  it('binds the workers\' metrics where FLYWHEEL_METRICS_HOST says (loopback by default)', () => {
    expect(loadConfig({}).metrics.host).toBe('127.0.0.1');
    expect(metricsBindHost(loadConfig({ FLYWHEEL_METRICS_HOST: '0.0.0.0' }).metrics.host)).toBe('0.0.0.0');
    expect(metricsBindHost('::')).toBe('[::]');
  });
});

describe('generated prometheus.yml', () => {
  const text = renderPrometheusConfig(config, { credentialsFile: path.join(tmp, 'prometheus.key') });
  const doc = YAML.parse(text) as {
    rule_files: string[];
    alerting: { alertmanagers: Array<{ static_configs: Array<{ targets: string[] }> }> };
    scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[]; labels?: Record<string, string> }>; authorization?: { credentials_file: string } }>;
  };
  const job = (name: string) => doc.scrape_configs.find((j) => j.job_name === name);

  it('scrapes the gateway with the metrics key, every worker, Temporal, PostgreSQL and the node from the configured ports', () => {
    expect(job('flywheel-gateway')?.static_configs[0]?.targets).toEqual(['127.0.0.1:18388']);
    expect(job('flywheel-gateway')?.authorization?.credentials_file).toBe(path.join(tmp, 'prometheus.key'));
    const workers = job('flywheel-workers')!.static_configs.map((s) => `${s.labels?.worker}@${s.targets[0]}`);
    expect(workers).toEqual(['workflow-worker@127.0.0.1:9464', 'cpu-worker@127.0.0.1:19765', 'control-worker@127.0.0.1:9467', 'gpu-worker@127.0.0.1:9466']);
    expect(job('temporal')?.static_configs[0]?.targets).toEqual(['127.0.0.1:19568']);
    expect(job('postgres')?.static_configs[0]?.targets).toEqual(['127.0.0.1:9187']);
    expect(job('node')?.static_configs[0]?.targets).toEqual(['127.0.0.1:9100']);
    expect(doc.alerting.alertmanagers[0]?.static_configs[0]?.targets).toEqual(['127.0.0.1:19193']);
    expect(doc.rule_files).toEqual([path.join(RULES_DIR, '*.yml')]);
  });

  it('leaves out Temporal when the server is not ours to run (its metrics port is not known)', () => {
    const remote = YAML.parse(renderPrometheusConfig(loadConfig({ FLYWHEEL_DATA_DIR: tmp, TEMPORAL_ADDRESS: 'temporal.example:7233' }))) as typeof doc;
    expect(remote.scrape_configs.map((j) => j.job_name)).not.toContain('temporal');
  });

  it.skipIf(!PROMTOOL)('passes `promtool check config` with every rule file it names', async () => {
    const file = path.join(tmp, 'prometheus.yml');
    fs.writeFileSync(file, text);
    fs.writeFileSync(path.join(tmp, 'prometheus.key'), 'fw_x_y\n', { mode: 0o600 });
    const { stdout } = await execFileP('promtool', ['check', 'config', file]);
    expect(stdout).toContain('SUCCESS');
    for (const f of ruleFiles) expect(stdout).toContain(`${f}`);
  });
});

describe('generated alertmanager.yml', () => {
  it.skipIf(!AMTOOL)('passes `amtool check-config`, with and without a webhook', async () => {
    for (const [name, opts] of [['plain', {}], ['webhook', { webhookUrl: 'http://127.0.0.1:9/alerts' }]] as const) {
      const file = path.join(tmp, `alertmanager-${name}.yml`);
      fs.writeFileSync(file, renderAlertmanagerConfig(opts));
      const { stdout } = await execFileP('amtool', ['check-config', file]);
      expect(stdout).toContain('SUCCESS');
    }
    expect(YAML.parse(renderAlertmanagerConfig({ webhookUrl: 'http://127.0.0.1:9/alerts' })).receivers[0].webhook_configs[0].url).toBe('http://127.0.0.1:9/alerts');
  });
});

describe('alert rules', () => {
  it('every alert has a summary and a runbook line', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(20);
    for (const r of rules.filter((x) => x.alert)) {
      expect((r.annotations?.runbook ?? '').trim().length, `${r.alert} runbook`).toBeGreaterThan(40);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
    }
  });

  it('every alert has a promtool test where it fires and one where it does not', () => {
    type Case = { alertname: string; exp_alerts?: unknown[] };
    const cases: Case[] = fs
      .readdirSync(TESTS_DIR)
      .filter((f) => f.endsWith('.yml'))
      .flatMap((f) => (YAML.parse(fs.readFileSync(path.join(TESTS_DIR, f), 'utf8')) as { tests: Array<{ alert_rule_test?: Case[] }> }).tests.flatMap((t) => t.alert_rule_test ?? []));
    const fires = new Set(cases.filter((c) => (c.exp_alerts ?? []).length > 0).map((c) => c.alertname));
    const quiet = new Set(cases.filter((c) => (c.exp_alerts ?? []).length === 0).map((c) => c.alertname));
    expect(alerts.filter((a) => !fires.has(a)), 'alerts never expected to fire').toEqual([]);
    expect(alerts.filter((a) => !quiet.has(a)), 'alerts never expected to stay quiet').toEqual([]);
  });

  it('the alerts of the learning loop read the metrics the activities emit', () => {
    const src = fs.readFileSync(path.join(PROJECT_ROOT, 'activities', 'domain-metrics.ts'), 'utf8');
    // The workers' exporter names them (workers/runtime.ts PROMETHEUS_NAMING): counters get _total,
    // histograms in seconds get _seconds (and the _bucket/_sum/_count series), gauges stay as named.
    const suffix: Record<string, string> = { count: '_total', gauge: '', seconds: '_seconds' };
    const emitted = new Set([...src.matchAll(/\b(count|gauge|seconds)\('(flywheel_[a-z_]+)'/g)].map((m) => `${m[2]}${suffix[m[1]!]}`));
    expect(emitted.size).toBeGreaterThan(5);
    const read = new Set(rules.flatMap((r) => [...r.expr.matchAll(/\b(flywheel_(?!gateway_)[a-z_]+)/g)].map((m) => m[1]!.replace(/_seconds_(bucket|sum|count)$/, '_seconds'))));
    expect([...read].filter((m) => !emitted.has(m))).toEqual([]);
  });
});
