/**
 * KnowledgeValidation: one batch of candidate facts from conversation transcripts, through
 * extract → ontology → confidence → entity resolution → contradiction → corroboration → human
 * review (an Update, with a deadline and a default decision) → commit, each fact in its own
 * PostgreSQL transaction keyed by (batch, fact). Every stage's decisions are in the `status`
 * query; every rejection carries its reason. Each stage is an activity, so its decisions are
 * recorded in history and a replay never re-decides.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/workflow';
import type { KnowledgeActivities, FactVerdict } from '../activities/knowledge';
import type { CommitOutcome } from '../activities/knowledge-store';
import { DATASET_DIGEST, PIPELINE_STAGE } from '../config/search-attributes';
import { INVALID_INPUT, NON_RETRYABLE_TYPES } from '../lib/failure-types';
import { checkPolicy, type ValidationPolicy } from '../lib/knowledge/policy';
import { applyDeadline, applyReview, validateReview, type ReviewItem, type ReviewRequest } from '../lib/knowledge/review';
import { STAGES, type CandidateRef, type Decision, type Outcome, type ResolvedFact, type StageName } from '../lib/knowledge/types';

export interface KnowledgeValidationInput {
  /** Digest of the transcript's content: the batch id, and the workflow id's suffix. */
  batchId: string;
  /** A content-addressed copy in the shared data folder, written by whoever starts the workflow. */
  transcriptUri: string;
  policy?: Partial<ValidationPolicy>;
  taskQueues: { cpu: string };
}

export type CandidateState = 'pending' | 'rejected' | 'review' | 'accepted' | 'committed';

export interface CandidateStatus extends CandidateRef {
  factId?: string;
  state: CandidateState;
  /** Why it ended where it did: the deciding stage's reason. */
  reason?: string;
  decisions: Array<{ stage: StageName; outcome: Outcome; reason: string }>;
}

export interface StageSummary {
  name: StageName;
  state: 'pending' | 'running' | 'done' | 'failed' | 'skipped';
  startedAt?: string;
  finishedAt?: string;
  counts: Partial<Record<Outcome, number>>;
}

export interface KnowledgeStatus {
  workflowId: string;
  batchId: string;
  state: 'running' | 'reviewing' | 'completed' | 'failed';
  stage: StageName | 'done';
  policy?: ValidationPolicy;
  stages: StageSummary[];
  candidates: CandidateStatus[];
  review?: { deadline: string; defaultDecision: 'accept' | 'reject'; open: boolean; items: ReviewItem[] };
  totals: { candidates: number; facts: number; accepted: number; rejected: number; review: number; committed: number; alreadyCommitted: number; rejectedAtCommit: number };
  extractor?: string;
  error?: string;
}

export interface KnowledgeValidationResult {
  workflowId: string;
  batchId: string;
  totals: KnowledgeStatus['totals'];
  committed: string[];
}

export const knowledgeStatusQuery = wf.defineQuery<KnowledgeStatus>('status');
export const reviewFactUpdate = wf.defineUpdate<ReviewItem, [ReviewRequest]>('reviewFact');

/** Candidates per batch: the status query (about 0.9 KB a candidate) stays under Temporal's 2 MB payload limit. */
export const MAX_CANDIDATES = 1000;
const COMMIT_CHUNK = 20;
const TRAIL_CHUNK = 500;

export async function KnowledgeValidation(input: KnowledgeValidationInput): Promise<KnowledgeValidationResult> {
  const info = wf.workflowInfo();
  const status: KnowledgeStatus = {
    workflowId: info.workflowId,
    batchId: input.batchId,
    state: 'running',
    stage: 'extract',
    stages: STAGES.map((name) => ({ name, state: 'pending', counts: {} })),
    candidates: [],
    totals: { candidates: 0, facts: 0, accepted: 0, rejected: 0, review: 0, committed: 0, alreadyCommitted: 0, rejectedAtCommit: 0 },
  };
  wf.setHandler(knowledgeStatusQuery, () => status);

  const reviewItems: ReviewItem[] = [];
  let reviewOpen = false;
  let act: KnowledgeActivities | undefined;
  wf.setHandler(
    reviewFactUpdate,
    async (req) => {
      const item = reviewItems.find((i) => i.factId === req.factId)!;
      applyReview(item, req);
      await act!.recordKnowledgeReviews({ workflowId: info.workflowId, decisions: [{ factId: item.factId, decision: req.decision, decidedBy: 'reviewer', reason: item.decisionReason! }] });
      return item;
    },
    { validator: (req) => validateReview(reviewItems, reviewOpen, req) },
  );

  const checked = checkPolicy(input.policy);
  if (!checked.ok || !input.batchId || !input.transcriptUri || !input.taskQueues?.cpu) {
    const message = !checked.ok ? checked.message : 'batchId, transcriptUri and taskQueues.cpu are required';
    status.state = 'failed';
    status.error = message;
    throw ApplicationFailure.create({ type: INVALID_INPUT, message, nonRetryable: true });
  }
  const policy = (status.policy = checked.value);
  const retry = { initialInterval: '1s', maximumInterval: '30s', backoffCoefficient: 2, nonRetryableErrorTypes: NON_RETRYABLE_TYPES };
  act = wf.proxyActivities<KnowledgeActivities>({ taskQueue: input.taskQueues.cpu, startToCloseTimeout: '5 minutes', retry });
  const committer = wf.proxyActivities<KnowledgeActivities>({
    taskQueue: input.taskQueues.cpu,
    startToCloseTimeout: '10 minutes',
    // A killed worker is noticed within this; the retry skips the facts already committed.
    heartbeatTimeout: '10 seconds',
    retry,
  });
  const a = act;

  const byId = new Map<string, CandidateStatus>();
  const decide = (d: Decision) => {
    const c = byId.get(d.candidateId);
    if (!c) return;
    c.decisions.push({ stage: d.stage, outcome: d.outcome, reason: d.reason });
    if (d.factId) c.factId = d.factId;
    if (d.outcome === 'reject') {
      c.state = 'rejected';
      c.reason = d.reason;
    }
  };
  const alive = () => status.candidates.filter((c) => c.state !== 'rejected').map((c) => c.candidateId);

  const stage = async <T>(name: StageName, run: () => Promise<T>, count?: (out: T) => Partial<Record<Outcome, number>>): Promise<T> => {
    const s = status.stages.find((x) => x.name === name)!;
    status.stage = name;
    s.state = 'running';
    s.startedAt = new Date().toISOString();
    wf.upsertSearchAttributes([{ key: PIPELINE_STAGE, value: `knowledge:${name}` }]);
    wf.setCurrentDetails(`**batch ${input.batchId.slice(0, 12)}**: ${name} (${STAGES.indexOf(name) + 1}/${STAGES.length})`);
    try {
      const out = await run();
      s.state = 'done';
      s.finishedAt = new Date().toISOString();
      if (count) s.counts = count(out);
      return out;
    } catch (err) {
      s.state = 'failed';
      throw err;
    }
  };
  const tally = (ds: Array<{ outcome: Outcome }>) => {
    const out: Partial<Record<Outcome, number>> = {};
    for (const d of ds) out[d.outcome] = (out[d.outcome] ?? 0) + 1;
    return out;
  };

  wf.upsertSearchAttributes([{ key: DATASET_DIGEST, value: input.batchId }]);
  try {
    const extracted = await stage(
      'extract',
      () => a.extractKnowledge({ batchId: input.batchId, workflowId: info.workflowId, transcriptUri: input.transcriptUri, policy }),
      (x) => ({ pass: x.candidates.length }),
    );
    if (extracted.candidates.length > MAX_CANDIDATES) {
      throw ApplicationFailure.create({
        type: INVALID_INPUT,
        nonRetryable: true,
        message: `the transcript yields ${extracted.candidates.length} candidate facts, more than ${MAX_CANDIDATES} per batch: split it into smaller files`,
      });
    }
    status.extractor = extracted.extractor;
    for (const c of extracted.candidates) {
      const cs: CandidateStatus = { ...c, state: 'pending', decisions: [{ stage: 'extract', outcome: 'pass', reason: `extracted with confidence ${c.confidence.toFixed(2)}` }] };
      status.candidates.push(cs);
      byId.set(c.candidateId, cs);
    }
    status.totals.candidates = status.candidates.length;

    const onto = await stage('ontology', () => a.checkKnowledgeOntology({ batchId: input.batchId, candidateIds: alive() }), tally);
    onto.forEach(decide);
    const conf = await stage('confidence', () => a.checkKnowledgeConfidence({ batchId: input.batchId, candidateIds: alive(), policy }), tally);
    conf.forEach(decide);
    const resolved = await stage('resolution', () => a.resolveKnowledgeEntities({ batchId: input.batchId, candidateIds: alive() }), (x) => tally(x.decisions));
    resolved.decisions.forEach(decide);

    const facts = new Map(resolved.facts.map((f) => [f.factId, f]));
    const flagged = new Map<string, string>(); // factId → why it needs a reviewer
    for (const d of resolved.decisions) if (d.outcome === 'review' && d.factId && !flagged.has(d.factId)) flagged.set(d.factId, d.reason);
    const applyVerdicts = (name: StageName, verdicts: FactVerdict[]) => {
      for (const v of verdicts) {
        const f = facts.get(v.factId)!;
        for (const candidateId of f.candidateIds) decide({ candidateId, stage: name, outcome: v.outcome, reason: v.reason, factId: f.factId });
        if (v.outcome === 'reject') facts.delete(v.factId);
        if (v.outcome === 'review' && !flagged.has(v.factId)) flagged.set(v.factId, v.reason);
      }
    };
    const contra = await stage('contradiction', () => a.checkKnowledgeContradictions({ facts: [...facts.values()], policy }), tally);
    applyVerdicts('contradiction', contra);
    const corro = await stage('corroboration', () => a.corroborateKnowledge({ facts: [...facts.values()], policy }), tally);
    applyVerdicts('corroboration', corro);
    status.totals.facts = resolved.facts.length;

    // Borderline: any stage asked for a person. Everything else that survived is accepted.
    for (const [factId, why] of flagged) {
      if (!facts.has(factId)) flagged.delete(factId);
      else reviewItems.push({ factId, summary: summary(facts.get(factId)!), reason: why, state: 'waiting' });
    }
    for (const item of reviewItems) for (const id of facts.get(item.factId)!.candidateIds) byId.get(id)!.state = 'review';

    await stage(
      'review',
      async () => {
        if (reviewItems.length === 0) return;
        const deadline = new Date(Date.now() + policy.reviewTimeoutSeconds * 1000).toISOString();
        status.review = { deadline, defaultDecision: policy.reviewDefault, open: true, items: reviewItems };
        await a.openKnowledgeReviews({
          batchId: input.batchId,
          workflowId: info.workflowId,
          deadline,
          defaultDecision: policy.reviewDefault,
          items: reviewItems.map((i) => ({ fact: facts.get(i.factId)!, reason: i.reason })),
        });
        status.state = 'reviewing';
        reviewOpen = true;
        wf.setCurrentDetails(`**batch ${input.batchId.slice(0, 12)}**: ${reviewItems.length} facts wait for review until ${deadline} (then: ${policy.reviewDefault})`);
        const allDecided = await wf.condition(() => reviewItems.every((i) => i.state !== 'waiting'), policy.reviewTimeoutSeconds * 1000);
        reviewOpen = false;
        status.review.open = false;
        // Decisions whose handler is still recording must land before the batch moves on.
        await wf.condition(wf.allHandlersFinished);
        if (!allDecided) {
          const expired = applyDeadline(reviewItems, policy.reviewDefault, policy.reviewTimeoutSeconds);
          await a.recordKnowledgeReviews({
            workflowId: info.workflowId,
            decisions: expired.map((i) => ({ factId: i.factId, decision: policy.reviewDefault, decidedBy: 'deadline' as const, reason: i.decisionReason! })),
          });
        }
        status.state = 'running';
      },
      () => tally(reviewItems.map((i) => ({ outcome: i.state === 'accepted' ? 'accept' : i.state === 'rejected' ? 'reject' : 'review' }))),
    );
    if (reviewItems.length === 0) status.stages.find((s) => s.name === 'review')!.state = 'skipped';
    for (const item of reviewItems) {
      const f = facts.get(item.factId)!;
      const who = item.decidedBy === 'deadline' ? 'deadline' : `reviewer${item.reviewer ? ` ${item.reviewer}` : ''}`;
      for (const candidateId of f.candidateIds) {
        decide({ candidateId, stage: 'review', outcome: item.state === 'accepted' ? 'accept' : 'reject', reason: `${who}: ${item.decisionReason}`, factId: f.factId });
      }
      if (item.state !== 'accepted') facts.delete(item.factId);
    }

    // Accepted facts: commit each in its own transaction, a chunk per activity.
    const toCommit = [...facts.values()];
    for (const f of toCommit) for (const id of f.candidateIds) byId.get(id)!.state = 'accepted';
    status.totals.accepted = toCommit.length;
    const outcomes: CommitOutcome[] = [];
    await stage(
      'commit',
      async () => {
        await a.finishKnowledgeBatch({ batchId: input.batchId, state: 'committing' });
        for (let i = 0; i < toCommit.length; i += COMMIT_CHUNK) {
          const items = toCommit.slice(i, i + COMMIT_CHUNK).map((fact) => ({ fact, trail: trailOf(fact, byId) }));
          const got = await committer.commitKnowledgeFacts({ batchId: input.batchId, workflowId: info.workflowId, items });
          for (const o of got) {
            outcomes.push(o);
            const f = facts.get(o.factId)!;
            for (const candidateId of f.candidateIds) {
              const c = byId.get(candidateId)!;
              if (o.outcome === 'rejected') decide({ candidateId, stage: 'commit', outcome: 'reject', reason: o.reason, factId: o.factId });
              else {
                c.decisions.push({ stage: 'commit', outcome: 'accept', reason: `committed as ${o.factId}` });
                c.state = 'committed';
                c.reason = 'committed';
              }
            }
          }
        }
        // Every candidate the graph did not take keeps its trail too, with the reason it stopped.
        const rest = status.candidates.filter((c) => c.state !== 'committed');
        for (let i = 0; i < rest.length; i += TRAIL_CHUNK) {
          const trail = rest.slice(i, i + TRAIL_CHUNK).flatMap((c) => c.decisions.map((d) => ({ candidateId: c.candidateId, ...d, factId: c.factId })));
          await a.recordKnowledgeTrail({ trail });
        }
      },
      () => tally(outcomes.map((o) => ({ outcome: o.outcome === 'rejected' ? 'reject' : 'accept' }))),
    );
    status.totals.committed = outcomes.filter((o) => o.outcome === 'committed').length;
    status.totals.alreadyCommitted = outcomes.filter((o) => o.outcome === 'already-committed').length;
    status.totals.rejectedAtCommit = outcomes.filter((o) => o.outcome === 'rejected').length;
    status.totals.review = reviewItems.length;
    status.totals.rejected = resolved.facts.length - outcomes.filter((o) => o.outcome !== 'rejected').length;
    await a.finishKnowledgeBatch({ batchId: input.batchId, state: 'completed', counts: status.totals });

    status.state = 'completed';
    status.stage = 'done';
    wf.upsertSearchAttributes([{ key: PIPELINE_STAGE, value: 'knowledge:done' }]);
    wf.setCurrentDetails(`**batch ${input.batchId.slice(0, 12)}**: ${status.totals.committed + status.totals.alreadyCommitted} facts in the graph, ${status.totals.rejected} rejected, ${status.totals.review} reviewed`);
    return {
      workflowId: info.workflowId,
      batchId: input.batchId,
      totals: status.totals,
      committed: outcomes.filter((o) => o.outcome !== 'rejected').map((o) => o.factId),
    };
  } catch (err) {
    status.state = 'failed';
    status.error = innermost(err);
    wf.upsertSearchAttributes([{ key: PIPELINE_STAGE, value: 'knowledge:failed' }]);
    await a.finishKnowledgeBatch({ batchId: input.batchId, state: 'failed' }).catch(() => undefined);
    throw err;
  }
}

function summary(f: ResolvedFact): string {
  return `${f.subject.name} ${f.predicate} ${f.object.name}`;
}

function trailOf(fact: ResolvedFact, byId: Map<string, CandidateStatus>): Decision[] {
  return fact.candidateIds.flatMap((candidateId) => byId.get(candidateId)!.decisions.map((d) => ({ candidateId, ...d, factId: fact.factId })));
}

function innermost(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e && e.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}
