/**
 * `flywheel traffic show|set|fault|replay`: the weights the gateway routes by, injected faults,
 * and a load generator that replays a dataset through the gateway with delayed true labels.
 */
import type { Command } from 'commander';
import type { FlywheelConfig } from '../../config/index';
import { closePools, getPool } from '../../clients/db';
import { getTrafficWeights, setFault, setTrafficWeights } from '../../activities/traffic';
import { loadDataset } from '../../datasets/load';
import { gatewayCa, JsonClient } from '../../traffic/http';
import { clientCredential } from '../../traffic/credentials';
import { OidcLoginError } from '../../clients/oidc-login';
import { audited, localActor } from '../../clients/audit';
import { parseDegrade, replay, type Degrade, type ReplayReport } from '../../traffic/replay';
import { CliError, printFields, printJson, printTable } from '../output';
import { asCliError, type WithConfig } from './serving';

async function guarded<T>(config: FlywheelConfig, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asCliError(config, err);
  } finally {
    await closePools();
  }
}

/** `1=9000,2=1000` (basis points) or `1=90%,2=10%`. */
export function parseWeights(spec: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([^=]+)=\s*([0-9.]+)\s*(%?)$/.exec(part);
    if (!m) throw new CliError(`weights: "${part}" must be version=basisPoints or version=percent% (e.g. 1=9000,2=1000 or 1=90%,2=10%)`, 2);
    const n = m[3] ? Math.round(Number(m[2]) * 100) : Number(m[2]);
    out[m[1]!.trim()] = n;
  }
  return out;
}

function number(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new CliError(`${name}: expected a number, got ${value}`, 2);
  return n;
}

async function showCommand(config: FlywheelConfig, model: string, opts: { json?: boolean }): Promise<void> {
  const t = await guarded(config, () => getTrafficWeights(getPool(config.postgres.url), model));
  if (t.versions.length === 0) throw new CliError(`model ${model} has no deployments (flywheel deploy ${model} <version>)`, 2);
  if (opts.json) return printJson(t);
  printFields({ model: t.model, revision: t.revision });
  printTable(t.versions.map((v) => ({ version: v.version, state: v.state, weight: `${v.weight / 100}%`, basisPoints: v.weight })));
}

async function setCommand(config: FlywheelConfig, model: string, spec: string, opts: { json?: boolean }): Promise<void> {
  const weights = parseWeights(spec);
  const pool = getPool(config.postgres.url);
  const r = await guarded(config, () =>
    audited(pool, { actor: localActor(config), action: 'traffic.set', target: `model:${model}`, detail: { weights } }, () => setTrafficWeights(pool, { model, weights }), (x) => ({ previous: x.previous, revision: x.revision })),
  );
  if (opts.json) return printJson(r);
  const fmt = (w: Record<string, number>) => Object.entries(w).map(([v, bp]) => `v${v} ${bp / 100}%`).join(', ');
  process.stdout.write(r.changed ? `${model}: ${fmt(r.previous)} → ${fmt(r.weights)} (revision ${r.revision})\n` : `${model}: already ${fmt(r.weights)}\n`);
}

async function faultCommand(
  config: FlywheelConfig,
  model: string,
  version: string,
  opts: { errors?: string; latencyMs?: string; wrongLabels?: string; clear?: boolean; json?: boolean },
): Promise<void> {
  const input = opts.clear
    ? { model, version }
    : { model, version, errorRate: number('--errors', opts.errors), extraLatencyMs: number('--latency-ms', opts.latencyMs), wrongLabelRate: number('--wrong-labels', opts.wrongLabels) };
  const pool = getPool(config.postgres.url);
  const r = await guarded(config, () => audited(pool, { actor: localActor(config), action: 'traffic.fault', target: `model:${model}/v${version}`, detail: { ...input } }, () => setFault(pool, input)));
  if (opts.json) return printJson(r);
  const none = !r.errorRate && !r.extraLatencyMs && !r.wrongLabelRate;
  process.stdout.write(none ? `${model} v${version}: no injected faults\n` : `${model} v${version}: errors ${r.errorRate}, +${r.extraLatencyMs} ms, wrong labels ${r.wrongLabelRate}\n`);
}

interface ReplayCliOptions {
  model: string;
  dataset: string;
  rate: string;
  duration: string;
  labelDelayMs: string;
  units: string;
  seed: string;
  degrade?: string;
  online?: boolean;
  url?: string;
  json?: boolean;
}

interface GatewayModels {
  models: Array<{ model: string; versions: Array<{ version: string; nFeatures: number; fault: unknown }> }>;
}

/** Waits until the gateway serves `version` with the fault just written (it reloads on NOTIFY). */
async function waitForFault(client: JsonClient, model: string, degrade: Degrade, present: boolean): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const res = await client.request('GET', '/v1/models');
    const v = (res.body as GatewayModels).models?.find((m) => m.model === model)?.versions.find((x) => x.version === degrade.version);
    if (v && (v.fault !== null) === present) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new CliError(`the gateway did not pick up the fault injection for ${model} v${degrade.version} within 5 s`);
}

async function replayCommand(config: FlywheelConfig, opts: ReplayCliOptions): Promise<void> {
  const rate = number('--rate', opts.rate)!;
  const durationS = number('--duration', opts.duration)!;
  const labelDelayMs = number('--label-delay-ms', opts.labelDelayMs)!;
  const units = number('--units', opts.units)!;
  const seed = number('--seed', opts.seed)!;
  if (!(rate > 0 && rate <= 20_000)) throw new CliError(`--rate: requests per second in (0, 20000], got ${opts.rate}`, 2);
  if (!(durationS > 0 && durationS <= 3600)) throw new CliError(`--duration: seconds in (0, 3600], got ${opts.duration}`, 2);
  if (!(labelDelayMs >= 0)) throw new CliError(`--label-delay-ms: must be ≥ 0, got ${opts.labelDelayMs}`, 2);
  if (!(Number.isInteger(units) && units >= 1)) throw new CliError(`--units: a positive integer, got ${opts.units}`, 2);
  let degrade: Degrade | undefined;
  try {
    degrade = opts.degrade === undefined ? undefined : parseDegrade(opts.degrade);
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
  const loaded = await loadDataset(opts.dataset, { cwd: process.cwd() });
  if (!loaded.ok) throw new CliError(`dataset ${opts.dataset}: ${loaded.error.message}`, 2);
  const dataset = loaded.value.dataset;

  const url = opts.url ?? config.gateway.url;
  const apiKey = await clientCredential(config).catch((err: Error) => {
    throw err instanceof OidcLoginError ? new CliError(err.message, /cannot reach/.test(err.message) ? 3 : 2) : err;
  });
  const ca = gatewayCa(config);
  const probe = new JsonClient(url, 1, { apiKey, ca });
  if (opts.online && degrade) throw new CliError('--degrade applies to registered versions, not to an online model', 2);
  let served: GatewayModels['models'][number] | undefined;
  let online: { name: string; nFeatures: number } | undefined;
  try {
    const res = await probe.request('GET', opts.online ? '/v1/online' : '/v1/models');
    if (res.status === 401 || res.status === 403) {
      probe.close();
      throw new CliError(`the gateway at ${url} refused this client: ${(res.body as { error?: string })?.error ?? res.status} (set FLYWHEEL_API_KEY, or create a key with \`flywheel keys create\`)`);
    }
    if (opts.online) online = (res.body as { models?: Array<{ name: string; nFeatures: number }> }).models?.find((m) => m.name === opts.model);
    else served = (res.body as GatewayModels).models?.find((m) => m.model === opts.model);
  } catch (err) {
    if (err instanceof CliError) throw err;
    probe.close();
    throw new CliError(`the gateway is not reachable at ${url} (${(err as Error).message}): start it with \`flywheel serve\``);
  }
  if (opts.online ? !online : !served) {
    probe.close();
    throw new CliError(
      opts.online
        ? `the gateway at ${url} runs no online model named ${opts.model} (flywheel online start)`
        : `the gateway at ${url} does not serve model ${opts.model} (flywheel deploy ${opts.model} <version>)`,
    );
  }
  const mismatch = online
    ? online.nFeatures !== dataset.nFeatures && { version: 'online', nFeatures: online.nFeatures }
    : served!.versions.find((v) => v.nFeatures !== dataset.nFeatures);
  if (mismatch) {
    probe.close();
    throw new CliError(`dataset ${opts.dataset} has ${dataset.nFeatures} features, but ${opts.model} ${mismatch.version === 'online' ? 'online' : `v${mismatch.version}`} takes ${mismatch.nFeatures}`, 2);
  }

  const pool = getPool(config.postgres.url);
  let report: ReplayReport;
  try {
    if (degrade) {
      await setFault(pool, { model: opts.model, version: degrade.version, errorRate: degrade.errorRate, extraLatencyMs: degrade.extraLatencyMs, wrongLabelRate: degrade.wrongLabelRate });
      await waitForFault(probe, opts.model, degrade, true);
    }
    try {
      report = await replay({ url, model: opts.model, dataset, rate, durationMs: durationS * 1000, labelDelayMs, units, seed, online: opts.online, apiKey, ca });
    } finally {
      // The degradation lasts for this replay only.
      if (degrade) await setFault(pool, { model: opts.model, version: degrade.version }).catch(() => undefined);
    }
  } catch (err) {
    throw asCliError(config, err);
  } finally {
    probe.close();
    await closePools();
  }
  if (opts.json) return printJson({ ...report, dataset: loaded.value.source, rate, durationS, degrade: degrade ?? null });
  printFields({
    sent: report.sent,
    ok: report.ok,
    failed: report.failed,
    statuses: Object.entries(report.byStatus).map(([s, n]) => `${s}×${n}`),
    throughput: `${report.throughputRps} req/s`,
    latency: `p50 ${report.latency.p50Ms} ms, p90 ${report.latency.p90Ms} ms, p99 ${report.latency.p99Ms} ms, max ${report.latency.maxMs} ms`,
    feedback: `${report.feedback.ok} stored, ${report.feedback.failed} failed`,
  });
  printTable(Object.entries(report.byVersion).map(([version, t]) => ({ version, ok: t.ok, failed: t.failed, accuracy: t.accuracy })));
}

export function registerTrafficCommands(program: Command, withConfig: WithConfig): void {
  const traffic = program.command('traffic').description('traffic weights, fault injection and load replay for the serving gateway');
  traffic
    .command('show <model>')
    .description("a model's deployed versions and their traffic weights")
    .option('--json', 'print one JSON document for scripts')
    .action(withConfig((config, model: string, opts: { json?: boolean }) => showCommand(config, model, opts)));
  traffic
    .command('set <model> <weights>')
    .description('set weights atomically, e.g. 1=9000,2=1000 (basis points) or 1=90%,2=10%; they must sum to 100%')
    .option('--json', 'print one JSON document for scripts')
    .action(withConfig((config, model: string, weights: string, opts: { json?: boolean }) => setCommand(config, model, weights, opts)));
  traffic
    .command('fault <model> <version>')
    .description('make a version worse on purpose: errors, extra latency, wrong labels (all 0 or --clear removes it)')
    .option('--errors <share>', 'share of requests answered with HTTP 500, 0..1')
    .option('--latency-ms <ms>', 'extra latency per request')
    .option('--wrong-labels <share>', 'share of rows served with another class, 0..1')
    .option('--clear', 'remove every injected fault of this version')
    .option('--json', 'print one JSON document for scripts')
    .action(withConfig((config, model: string, version: string, opts) => faultCommand(config, model, version, opts as Parameters<typeof faultCommand>[3])));
  traffic
    .command('replay')
    .description("send a dataset's rows through the gateway at a fixed rate with recurring unit keys, then post each row's true label as feedback")
    .requiredOption('--model <name>', 'model to send requests to')
    .requiredOption('-d, --dataset <ref>', 'builtin name, synthetic:…, or a .csv/.json file (same as flywheel train)')
    .option('--rate <rps>', 'requests per second (open loop)', '100')
    .option('--duration <s>', 'seconds to run', '10')
    .option('--label-delay-ms <ms>', 'delay before the true label is posted as feedback', '500')
    .option('--units <n>', 'distinct unit keys (users) the requests come from', '1000')
    .option('--seed <n>', 'seed of the row order', '1')
    .option('--degrade <spec>', 'for this replay only, make a version worse: version=V,errors=0.2,latencyMs=50,wrongLabels=0.3')
    .option('--online', '--model names an online model (flywheel online start), served at /v1/online/<name>/predict')
    .option('--url <url>', 'gateway URL (default from FLYWHEEL_GATEWAY_HOST/PORT)')
    .option('--json', 'print one JSON document for scripts')
    .action(withConfig((config, opts) => replayCommand(config, opts as ReplayCliOptions)));
}
