/**
 * What a model report shows, as plain data: the CLI gathers it (MLflow, PostgreSQL, Temporal) and
 * lib/report/html.ts draws it. Times are ISO strings, so the data is JSON as it stands (`--json`).
 */

export interface ReportVersion {
  version: string;
  created?: string;
  status?: string;
  aliases: string[];
  /** Holdout metrics of the exported ONNX (metric.* tags). */
  metrics: Record<string, number>;
  /** What it learned from. */
  dataset: { digest?: string; source?: string; name?: string; rows?: number; features?: number };
  family?: string;
  hyperparameters?: Record<string, unknown>;
  workflowId?: string;
  gitCommit?: string;
  /** The registry's word on it: a canary's outcome (flywheel.rollout) and a retraining decision. */
  rollout?: { outcome: string; reason?: string; workflowId?: string };
  retraining?: { decision: string; reason?: string; workflowId?: string };
  /** Serving: its deployment row and its share of traffic now (0–100 %). */
  deployment?: { state: string; reason?: string; since?: string };
  trafficPercent?: number;
}

export interface ChampionEvent {
  at?: string;
  version: string;
  how: string;
}

/** One metric's evidence at one look of a canary. E-values are the running maxima the judge keeps. */
export interface CanaryCheckPoint {
  metric: string;
  verdict: string;
  harmE?: number | null;
  harmThreshold?: number | null;
  safetyE?: number | null;
  safetyThreshold?: number | null;
  pValue?: number | null;
  reason?: string;
}

export interface CanaryLook {
  at: string;
  step: number;
  weight?: number;
  verdict: string;
  reason?: string;
  candidateRequests?: number;
  stableRequests?: number;
  checks: CanaryCheckPoint[];
}

export interface ReportCanary {
  workflowId: string;
  runId?: string;
  candidateVersion?: string;
  stableVersion?: string;
  /** Temporal's execution status (RUNNING, COMPLETED, FAILED…). */
  execution: string;
  /** The rollout's own state (promoted, rolled-back, progressing…), when known. */
  state?: string;
  outcome?: string;
  reason?: string;
  judge?: string;
  started?: string;
  closed?: string;
  looks: CanaryLook[];
  decisions: Array<{ at: string; action: string; reason: string }>;
  /** Why part of the story is missing (no worker answered the status query). */
  note?: string;
}

export interface ReportComparison {
  version: string;
  control: string;
  difference: number | null;
  lift: number | null;
  ci: [number, number] | null;
  adjustedPValue: number;
  significant: boolean;
}

export interface ReportABTest {
  workflowId: string;
  execution: string;
  state?: string;
  versions: string[];
  split?: number[];
  looks?: number;
  started?: string;
  closed?: string;
  decision?: { kind: string; reason: string; version?: string };
  arms: Array<{ version: string; requests: number; units: number; errorRate: number; p95LatencyMs: number | null; n: number; estimate: number | null }>;
  comparisons: ReportComparison[];
  note?: string;
}

export interface ReportDriftEvent {
  event: number;
  detectedAt: string;
  detector: string;
  direction: string;
  sample: number;
  errorBefore: number | null;
  errorAfter: number | null;
  retrainingWorkflowId?: string;
  note?: string;
}

export interface ReportRetraining {
  workflowId: string;
  trigger: string;
  triggerDetail?: string;
  status: string;
  challengerVersion?: string;
  championVersion?: string;
  metric: string;
  margin: number;
  challengerMetrics?: Record<string, number>;
  championMetrics?: Record<string, number>;
  decision?: string;
  reason?: string;
  canaryWorkflowId?: string;
  canaryOutcome?: string;
  startedAt: string;
  finishedAt?: string;
}

export interface AccuracyPoint {
  /** Start of the bucket. */
  at: string;
  version: string;
  labelled: number;
  correct: number;
}

export interface ModelReport {
  model: string;
  description?: string;
  generatedAt: string;
  /** The window of the time-bounded parts (serving accuracy, drift, retraining, workflows). */
  since: string;
  champion?: string;
  aliases: Array<{ alias: string; version: string }>;
  versions: ReportVersion[];
  championHistory: ChampionEvent[];
  canaries: ReportCanary[];
  abTests: ReportABTest[];
  driftEvents: ReportDriftEvent[];
  retraining: ReportRetraining[];
  accuracy: { bucketSeconds: number; points: AccuracyPoint[] };
  /** Parts that could not be read, in words (e.g. "Temporal: …"). */
  notes: string[];
}
