/**
 * `flywheel knowledge ingest|review|status|show|fact`: conversation transcripts become candidate
 * facts that a KnowledgeValidation workflow checks, sends to review when borderline, and commits
 * to the PostgreSQL knowledge graph with provenance. Bad input is refused here, before anything starts.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { Command } from 'commander';
import type { FlywheelConfig } from '../../config/index';
import { DATASET_DIGEST, PIPELINE_STAGE } from '../../config/search-attributes';
import { closePools, getPool } from '../../clients/db';
import { connectTemporal } from '../../clients/temporal';
import { factProvenance, findEntitiesByName, graphCounts, neighbourhood } from '../../activities/knowledge-queries';
import { listWaitingReviews } from '../../activities/knowledge-reviews';
import { parseTranscript } from '../../lib/knowledge/extract/transcript';
import { stageTranscript } from '../../clients/knowledge-transcripts';
import { contentDigest } from '../../lib/knowledge/ids';
import { checkPolicy, DEFAULT_POLICY, parseDuration, type ValidationPolicy } from '../../lib/knowledge/policy';
import { formatSeconds } from '../../lib/knowledge/review';
import { knowledgeStatusQuery, reviewFactUpdate, type KnowledgeStatus, type KnowledgeValidationInput, type KnowledgeValidationResult } from '../../workflows/knowledge-validation';
import { json, withConfig } from '../command-kit';
import { liveStatus } from '../workflow-state';
import { CliError, printFields, printJson, printTable } from '../output';
import { asCliError } from './serving';
import { watchWorkflow } from '../watch';

export const knowledgeWorkflowId = (batchDigest: string) => `knowledge-${batchDigest.slice(0, 16)}`;

interface IngestOptions {
  minConfidence?: string;
  acceptConfidence?: string;
  sources?: string;
  reviewTimeout?: string;
  reviewDefault?: string;
  wait?: boolean;
  json?: boolean;
}

function num(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new CliError(`${flag}: expected a number, got ${v}`, 2);
  return n;
}

export function policyFromFlags(o: IngestOptions): ValidationPolicy {
  let reviewTimeoutSeconds: number | undefined;
  if (o.reviewTimeout !== undefined) {
    reviewTimeoutSeconds = parseDuration(o.reviewTimeout);
    if (reviewTimeoutSeconds === undefined) throw new CliError(`--review-timeout: expected a duration such as 90s, 30m, 24h or 2d, got ${o.reviewTimeout}`, 2);
  }
  const checked = checkPolicy({
    minConfidence: num('--min-confidence', o.minConfidence),
    acceptConfidence: num('--accept-confidence', o.acceptConfidence),
    corroborationSources: num('--sources', o.sources),
    reviewTimeoutSeconds,
    reviewDefault: o.reviewDefault as ValidationPolicy['reviewDefault'] | undefined,
  });
  if (!checked.ok) throw new CliError(checked.message, 2);
  return checked.value;
}

async function withTemporal<T>(config: FlywheelConfig, fn: (client: Client) => Promise<T>): Promise<T> {
  const { client, connection } = await connectTemporal(config);
  try {
    return await fn(client);
  } finally {
    await connection.close();
  }
}

async function withDb<T>(config: FlywheelConfig, fn: (db: ReturnType<typeof getPool>) => Promise<T>): Promise<T> {
  try {
    return await fn(getPool(config.postgres.url));
  } catch (err) {
    throw asCliError(config, err);
  } finally {
    await closePools();
  }
}

export async function ingestCommand(config: FlywheelConfig, file: string, opts: IngestOptions): Promise<void> {
  const policy = policyFromFlags(opts);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`transcript ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, 2);
  }
  const parsed = parseTranscript(text);
  if (!parsed.ok) throw new CliError(`transcript ${file}: ${parsed.message}`, 2);
  const batchId = contentDigest(text);
  const workflowId = knowledgeWorkflowId(batchId);

  await withTemporal(config, async (client) => {
    // Content-addressed, and published to the shared file store: the extracting worker may be on another host.
    const staged = await stageTranscript(config, batchId, text);
    if (staged.unpublished) process.stderr.write(`warning: the transcript was not published to the shared file store (${staged.unpublished}); only a worker on this host can read it\n`);
    const transcriptUri = staged.uri;
    const input: KnowledgeValidationInput = { batchId, transcriptUri, policy, taskQueues: { cpu: config.taskQueues.cpu } };
    try {
      await client.workflow.start('KnowledgeValidation', {
        taskQueue: config.taskQueues.workflows,
        workflowId,
        args: [input],
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        typedSearchAttributes: [
          { key: PIPELINE_STAGE, value: 'knowledge:queued' },
          { key: DATASET_DIGEST, value: batchId },
        ],
        staticSummary: `Knowledge batch ${path.basename(file)}: ${parsed.value.length} turns`,
        staticDetails: `transcript ${path.resolve(file)} (${batchId}); policy ${JSON.stringify(policy)}`,
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) throw new CliError(`this transcript was already ingested as ${workflowId}: flywheel knowledge status ${workflowId}`, 2);
      throw err;
    }
    if (!opts.wait) {
      if (opts.json) return printJson({ workflowId, batchId, turns: parsed.value.length, policy });
      return printFields({ started: workflowId, turns: parsed.value.length, watch: `flywheel knowledge status ${workflowId}` });
    }
    if (opts.json) {
      // Scripts want the outcome: wait for the workflow's result (past any review deadline), as JSON.
      const result = await watchWorkflow<KnowledgeValidationResult, KnowledgeStatus>(client, workflowId, { query: knowledgeStatusQuery, render: () => '', show: false, what: `knowledge validation ${workflowId}` });
      return printJson(result);
    }
    const s = await waitUntilSettled(client, workflowId);
    printStatus(s, false);
  });
}

/** Until the batch completes, fails, or is parked waiting for reviewers. */
async function waitUntilSettled(client: Client, workflowId: string): Promise<KnowledgeStatus> {
  const handle = client.workflow.getHandle(workflowId);
  for (;;) {
    let s: KnowledgeStatus | undefined;
    try {
      s = await handle.query(knowledgeStatusQuery);
    } catch {
      /* not picked up by a worker yet */
    }
    if (s && (s.state === 'completed' || s.state === 'failed' || s.state === 'reviewing')) {
      if (s.state === 'failed') throw new CliError(`${workflowId} failed: ${s.error ?? 'unknown error'}`);
      return s;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

function printStatus(s: KnowledgeStatus, withCandidates: boolean): void {
  printFields({
    workflowId: s.workflowId,
    batch: s.batchId,
    state: s.state,
    stage: s.stage,
    extractor: s.extractor,
    candidates: s.totals.candidates,
    facts: s.totals.facts,
    committed: s.state === 'completed' ? s.totals.committed + s.totals.alreadyCommitted : undefined,
    review: s.review ? `${s.review.items.filter((i) => i.state === 'waiting').length} waiting of ${s.review.items.length}, deadline ${s.review.deadline} (then ${s.review.defaultDecision})` : undefined,
    error: s.error,
  });
  process.stdout.write('\nstages:\n');
  for (const st of s.stages) {
    const counts = Object.entries(st.counts).map(([k, v]) => `${k} ${v}`).join(', ');
    process.stdout.write(`  ${st.state.padEnd(8)} ${st.name.padEnd(14)} ${counts}\n`);
  }
  if (s.state === 'reviewing') process.stdout.write(`\nborderline facts wait for a reviewer: flywheel knowledge review list --workflow ${s.workflowId}\n`);
  if (!withCandidates) return;
  process.stdout.write('\ncandidates:\n');
  printTable(
    s.candidates.map((c) => ({ candidate: c.candidateId, fact: c.factId, claim: `${c.subject.text} ${c.predicate} ${c.object.text}`, confidence: c.confidence, state: c.state, reason: c.reason ?? c.decisions[c.decisions.length - 1]?.reason })),
  );
}

export async function statusCommand(config: FlywheelConfig, workflowId: string | undefined, opts: { json?: boolean; limit?: string }): Promise<void> {
  await withTemporal(config, async (client) => {
    if (workflowId) {
      const s = await liveStatus(client, workflowId, knowledgeStatusQuery, { what: 'knowledge validation', notFound: `no knowledge validation with id ${workflowId}` });
      if (opts.json) return printJson(s);
      return printStatus(s, true);
    }
    const limit = Number(opts.limit ?? '20');
    if (!Number.isInteger(limit) || limit < 1) throw new CliError(`--limit must be a positive integer (got ${opts.limit})`, 2);
    const rows: Array<Record<string, unknown>> = [];
    for await (const w of client.workflow.list({ query: `WorkflowType = 'KnowledgeValidation'`, pageSize: Math.min(limit, 100) })) {
      rows.push({ workflowId: w.workflowId, status: w.status.name, stage: w.typedSearchAttributes.get(PIPELINE_STAGE), started: w.startTime, closed: w.closeTime });
      if (rows.length >= limit) break;
    }
    const counts = await withDb(config, (db) => graphCounts(db));
    if (opts.json) return printJson({ graph: counts, batches: rows });
    printFields({ entities: counts.entities, aliases: counts.aliases, facts: counts.facts, 'waiting for review': counts.waitingReviews });
    process.stdout.write('\n');
    printTable(rows, ['workflowId', 'status', 'stage', 'started', 'closed']);
  });
}

async function reviewListCommand(config: FlywheelConfig, opts: { workflow?: string; json?: boolean }): Promise<void> {
  const rows = await withDb(config, (db) => listWaitingReviews(db, { workflowId: opts.workflow }));
  if (opts.json) return printJson(rows);
  printTable(
    rows.map((r) => ({ workflow: r.workflowId, fact: r.factId, claim: `${r.subject} ${r.predicate} ${r.object}`, confidence: r.confidence, sources: r.sources, deadline: r.deadline, then: r.defaultDecision, why: r.reason })),
  );
}

async function reviewDecideCommand(config: FlywheelConfig, decision: 'accept' | 'reject', workflowId: string, factId: string, opts: { reason?: string; reviewer?: string; json?: boolean }): Promise<void> {
  await withTemporal(config, async (client) => {
    const handle = client.workflow.getHandle(workflowId);
    let item;
    try {
      item = await handle.executeUpdate(reviewFactUpdate, { args: [{ factId, decision, reason: opts.reason, reviewer: opts.reviewer ?? process.env.USER }] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw new CliError(`review refused: ${innermost(err)}`, 2);
      if ((err as Error).name === 'WorkflowNotFoundError') throw new CliError(`no running knowledge validation with id ${workflowId}`, 2);
      throw err;
    }
    if (opts.json) return printJson({ workflowId, ...item });
    process.stdout.write(`${factId} (${item.summary}): ${item.state}\n`);
  });
}

async function showCommand(config: FlywheelConfig, name: string, opts: { provenance?: boolean; json?: boolean }): Promise<void> {
  const out = await withDb(config, async (db) => {
    const entities = await findEntitiesByName(db, name);
    if (entities.length === 0) throw new CliError(`no entity named "${name}" in the knowledge graph`, 2);
    return Promise.all(
      entities.map(async (e) => {
        const facts = await neighbourhood(db, e.id);
        const prov = opts.provenance ? await Promise.all(facts.map(async (f) => ({ factId: f.factId, provenance: (await factProvenance(db, f.factId)).provenance }))) : [];
        return { ...e, facts: facts.map((f) => ({ ...f, provenance: prov.find((p) => p.factId === f.factId)?.provenance })) };
      }),
    );
  });
  if (opts.json) return printJson(out);
  for (const e of out) {
    printFields({ entity: `${e.name} (${e.type})`, id: e.id, aliases: e.aliases.length ? e.aliases : undefined });
    printTable(
      e.facts.map((f) => ({ fact: f.factId, relation: f.direction === 'out' ? `${e.name} ${f.predicate} ${f.other.name}` : `${f.other.name} ${f.predicate} ${e.name}`, confidence: f.confidence, sources: f.sources, mentions: f.candidates })),
    );
    for (const f of e.facts) {
      for (const p of f.provenance ?? []) process.stdout.write(`  ${f.factId} ← ${p.conversation} turn ${p.turn} [${p.span.start}-${p.span.end}] "${p.span.text}" (${p.extractor})\n`);
    }
    process.stdout.write('\n');
  }
}

async function factCommand(config: FlywheelConfig, factId: string, opts: { json?: boolean }): Promise<void> {
  const r = await withDb(config, (db) => factProvenance(db, factId));
  if (!r.fact) throw new CliError(`no fact ${factId} in the knowledge graph`, 2);
  if (opts.json) return printJson(r);
  printFields({ fact: r.fact.id, claim: `${r.fact.subject} ${r.fact.predicate} ${r.fact.object}`, confidence: r.fact.confidence, state: r.fact.state });
  for (const p of r.provenance) {
    process.stdout.write(`\n${p.conversation} turn ${p.turn}${p.speaker ? ` (${p.speaker})` : ''}, source ${p.source}, batch ${p.batchId.slice(0, 12)}, ${p.extractor}\n  "${p.span.text}"\n`);
    for (const t of p.trail) process.stdout.write(`  ${t.stage.padEnd(14)} ${t.outcome.padEnd(7)} ${t.reason}\n`);
  }
}

function innermost(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e && e.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}

export function registerKnowledgeCommands(program: Command): void {
  const k = program.command('knowledge').description('facts mined from conversations, validated by a durable workflow into a knowledge graph');
  json(
    k
      .command('ingest <file>')
      .description('extract candidate facts from a JSON-lines transcript and validate them (ontology → confidence → resolution → contradiction → corroboration → review → commit)')
      .option('--min-confidence <p>', `reject candidates below this confidence (default ${DEFAULT_POLICY.minConfidence})`)
      .option('--accept-confidence <p>', `accept a fact from one source at this confidence (default ${DEFAULT_POLICY.acceptConfidence})`)
      .option('--sources <n>', `independent sources that accept a fact (default ${DEFAULT_POLICY.corroborationSources})`)
      .option('--review-timeout <duration>', `how long borderline facts wait for a reviewer (default ${formatSeconds(DEFAULT_POLICY.reviewTimeoutSeconds)})`)
      .option('--review-default <decision>', `what an unreviewed fact becomes at the deadline: accept or reject (default ${DEFAULT_POLICY.reviewDefault})`)
      .option('-w, --wait', 'wait until the batch is committed or waits for review (with --json: until the workflow ends, printing its result)'),
  ).action(withConfig((config, file: string, opts: IngestOptions) => ingestCommand(config, file, opts)));

  const review = k.command('review').description('borderline facts waiting for a person');
  json(review.command('list').description('facts waiting for review across running validations').option('--workflow <id>', 'only this batch')).action(
    withConfig((config, opts: { workflow?: string; json?: boolean }) => reviewListCommand(config, opts)),
  );
  for (const decision of ['accept', 'reject'] as const) {
    json(
      review
        .command(`${decision} <workflowId> <factId>`)
        .description(`${decision} a fact waiting for review`)
        .option('--reason <text>', 'why, recorded in the fact’s validation trail')
        .option('--reviewer <name>', 'who decided (default: $USER)'),
    ).action(withConfig((config, workflowId: string, factId: string, opts: { reason?: string; reviewer?: string; json?: boolean }) => reviewDecideCommand(config, decision, workflowId, factId, opts)));
  }
  json(k.command('status [workflowId]').description("one batch's stages and every candidate's decisions; without an id, recent batches and graph totals").option('--limit <n>', 'batches listed', '20')).action(
    withConfig((config, id: string | undefined, opts: { json?: boolean; limit?: string }) => statusCommand(config, id, opts)),
  );
  json(k.command('show <entity>').description("an entity (name, alias or id): its aliases and neighbourhood").option('--provenance', 'also each fact’s source spans')).action(
    withConfig((config, name: string, opts: { provenance?: boolean; json?: boolean }) => showCommand(config, name, opts)),
  );
  json(k.command('fact <factId>').description("a fact's provenance: source spans, extractor, and each candidate's validation trail")).action(
    withConfig((config, id: string, opts: { json?: boolean }) => factCommand(config, id, opts)),
  );
}
