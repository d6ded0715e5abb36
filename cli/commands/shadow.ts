/**
 * `flywheel shadow start|stop|status`: a candidate answers live requests beside the serving version,
 * off the request's path, and is compared with it on the same requests as labels arrive (issue 15).
 * Start and stop are audited and reach the gateways at once (NOTIFY flywheel_traffic).
 */
import type { Command } from 'commander';
import type { FlywheelConfig } from '../../config/index';
import { closePools, getPool } from '../../clients/db';
import { audited, localActor } from '../../clients/audit';
import { checkShadowStart, shadowReport, startShadow, stopShadow } from '../../activities/shadow';
import { DEFAULT_ANALYSIS } from '../../lib/rollout/spec';
import { shadowSpecOf, type ShadowSpec } from '../../lib/shadow/judge';
import { json } from '../command-kit';
import { versionArg } from '../edge';
import { badInput, CliError, EXIT, printFields, printJson, printTable } from '../output';
import { asCliError, type WithConfig } from './serving';

/** "100%", "25%", "0.25" → a share in (0, 1]. */
export function parseShare(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(%)?$/.exec(text.trim());
  const share = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(share > 0 && share <= 1)) throw badInput(`--share: "${text}" must be a share above 0 and at most 100 %, like 100%, 25% or 0.25`);
  return share;
}

async function start(config: FlywheelConfig, model: string, version: string, opts: { share: string; json?: boolean }): Promise<void> {
  const checked = checkShadowStart({ model, version: versionArg(version), share: parseShare(opts.share), actor: localActor(config) });
  if (!checked.ok) throw badInput(checked.message);
  const db = getPool(config.postgres.url);
  try {
    const { actor, ...detail } = checked.value;
    const r = await audited(db, { actor, action: 'shadow.start', target: `model:${model}/v${version}`, detail }, () => startShadow(db, checked.value), (r) => ({ created: r.created, id: r.shadow.id }));
    if (opts.json) return printJson(r);
    printFields({
      shadow: `${model} v${r.shadow.version}${r.created ? '' : ' (already running, unchanged)'}`,
      share: `${r.shadow.share * 100}% of requests, answered after the reply; callers see only the serving version`,
      'started at': r.shadow.startedAt.toISOString(),
      'started by': r.shadow.startedBy,
    });
  } catch (err) {
    throw asCliError(config, err);
  } finally {
    await closePools();
  }
}

async function stop(config: FlywheelConfig, model: string, opts: { reason?: string; json?: boolean }): Promise<void> {
  const db = getPool(config.postgres.url);
  try {
    const actor = localActor(config);
    const stopped = await audited(db, { actor, action: 'shadow.stop', target: `model:${model}` }, () => stopShadow(db, { model, actor, reason: opts.reason ?? 'stopped by user' }), (s) => ({ stopped: s?.id ?? null }));
    if (opts.json) return printJson({ model, stopped: stopped ?? null });
    if (!stopped) return printFields({ model, shadow: 'none running (nothing to stop)' });
    printFields({ model, stopped: `v${stopped.version} (${stopped.share * 100}%), ran from ${stopped.startedAt.toISOString()} to ${stopped.stoppedAt!.toISOString()}` });
  } catch (err) {
    throw asCliError(config, err);
  } finally {
    await closePools();
  }
}

interface StatusOptions {
  margin?: string;
  alpha?: string;
  json?: boolean;
}

async function status(config: FlywheelConfig, model: string, opts: StatusOptions): Promise<void> {
  const base = shadowSpecOf(DEFAULT_ANALYSIS);
  const spec: ShadowSpec = { ...base };
  if (opts.alpha !== undefined) {
    const alpha = Number(opts.alpha);
    if (!(alpha > 0 && alpha < 0.5)) throw badInput(`--alpha: "${opts.alpha}" must be above 0 and below 0.5`);
    spec.alpha = alpha;
  }
  if (opts.margin !== undefined) {
    const margin = Number(opts.margin);
    if (!(margin >= 0 && Number.isFinite(margin))) throw badInput(`--margin: "${opts.margin}" must be a number ≥ 0 (0.2: the shadow alone wrong 20 % more often than the serving version alone)`);
    spec.checks = spec.checks.map((c) => (c.metric === 'accuracy' ? { ...c, margin } : c));
  }
  const db = getPool(config.postgres.url);
  try {
    const r = await shadowReport(db, model, spec);
    if (!r) throw new CliError(`model ${model} has never had a shadow: start one with flywheel shadow start ${model} <version>`, EXIT.badInput);
    const { deployment: d, comparison: c } = r;
    if (opts.json) return printJson({ ...d, running: d.stoppedAt === null, spec, ...c });
    const acc = (a: { correct: number; labelled: number; accuracy: number | null }) => (a.accuracy === null ? 'n/a (no labels yet)' : `${a.accuracy.toFixed(4)} (${a.correct}/${a.labelled})`);
    const ms = (v: number | null) => (v === null ? '-' : `${v.toFixed(2)} ms`);
    printFields({
      model,
      shadow: `v${d.version} at ${d.share * 100}%, ${d.stoppedAt ? `stopped ${d.stoppedAt.toISOString()} by ${d.stoppedBy}${d.stopReason ? ` (${d.stopReason})` : ''}` : 'running'}; started ${d.startedAt.toISOString()} by ${d.startedBy}`,
      'shadowed requests': `${c.pairs} (${c.bothOk} answered by both)`,
      agreement: c.agreement === null ? 'n/a' : c.agreement.toFixed(4),
      'serving accuracy': acc(c.served),
      'shadow accuracy': acc(c.shadow),
      errors: `serving ${c.errors.served}, shadow ${c.errors.shadow}`,
      verdict: `${c.judgement.verdict}: ${c.judgement.reason}`,
    });
    process.stdout.write('\n');
    printTable([
      { version: 'serving', p50: ms(c.latencyMs.served.p50), p99: ms(c.latencyMs.served.p99) },
      { version: `shadow v${d.version}`, p50: ms(c.latencyMs.shadow.p50), p99: ms(c.latencyMs.shadow.p99) },
    ]);
  } catch (err) {
    throw asCliError(config, err);
  } finally {
    await closePools();
  }
}

export function registerShadowCommands(program: Command, withConfig: WithConfig): void {
  const shadow = program.command('shadow').description('answer live requests with a candidate too, unseen by callers, and compare it with the serving version on the same requests');
  json(
    shadow
      .command('start <model> <version>')
      .description('mirror a share of live requests to a deployed version after each reply (the gateways start at once); audited')
      .option('--share <share>', 'share of requests mirrored: 100%, 25% or 0.25', '100%'),
  ).action(withConfig((config, model: string, version: string, opts: { share: string; json?: boolean }) => start(config, model, version, opts)));
  json(
    shadow
      .command('stop <model>')
      .description("stop the model's shadow (its answers stay stored); audited")
      .option('--reason <text>', 'why, kept with the shadow'),
  ).action(withConfig((config, model: string, opts: { reason?: string; json?: boolean }) => stop(config, model, opts)));
  json(
    shadow
      .command('status <model>')
      .description('the running (or last) shadow against the serving version: agreement, accuracy on the same labelled requests, latency, and the anytime-valid verdict')
      .option('--margin <m>', 'tolerated worsening before "worse": the shadow alone wrong (1 + m)× as often as the serving version alone (default 0)')
      .option('--alpha <a>', "probability of calling an equally good shadow worse, however often status is read (default: the canary's 0.01)"),
  ).action(withConfig((config, model: string, opts: StatusOptions) => status(config, model, opts)));
}
