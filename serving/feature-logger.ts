/**
 * Decides, per served row, whether its features go to the recorder and in what form (issue 15).
 * The per-model policies (table feature_logging) are read with every reload of the deployment
 * tables — the same NOTIFY and poll — so the request path only reads a Map and draws a number.
 */
import type pg from 'pg';
import { DailyBudget, decide, maskedRow, type Decision, type FeatureLogPolicy } from '../lib/features/log-policy';

export interface FeatureLoggerEvents {
  /** Called once per row: keep it cheap (a cached counter child, not a label lookup). */
  decided(model: string, decision: Decision): void;
}

interface PolicyRow {
  model: string;
  sample_rate: number;
  daily_row_budget: string | null;
  drop_columns: number[];
  hash_columns: number[];
}

export class FeatureLogger {
  private policies = new Map<string, FeatureLogPolicy>();
  private readonly budget = new DailyBudget();

  constructor(
    private readonly db: pg.Pool,
    private readonly defaultDailyRows: number,
    private readonly events: FeatureLoggerEvents,
    private readonly random: () => number = Math.random,
  ) {}

  policy(model: string): FeatureLogPolicy {
    return this.policies.get(model) ?? { sampleRate: 1, dailyRowBudget: this.defaultDailyRows, drop: [], hash: [] };
  }

  /** Reads every model's policy; on failure the last good policies stay (serving goes on). */
  async reload(): Promise<void> {
    const { rows } = await this.db.query<PolicyRow>('SELECT model, sample_rate, daily_row_budget, drop_columns, hash_columns FROM feature_logging');
    this.policies = new Map(
      rows.map((r) => [
        r.model,
        {
          sampleRate: r.sample_rate,
          dailyRowBudget: r.daily_row_budget === null ? this.defaultDailyRows : Number(r.daily_row_budget),
          drop: r.drop_columns,
          hash: r.hash_columns,
        },
      ]),
    );
  }

  /** Row `r` of the request's matrix as it is to be stored, or null when it is not kept. */
  features(model: string, matrix: Float32Array, r: number, nFeatures: number, nowMs: number): Array<number | null> | null {
    const policy = this.policy(model);
    const decision = decide(policy, this.budget, model, this.random(), nowMs);
    this.events.decided(model, decision);
    return decision === 'logged' ? maskedRow(matrix, r, nFeatures, policy, model) : null;
  }
}
