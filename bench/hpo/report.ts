/** Markdown tables for the HPO benchmark. */
import type { ParityRow } from './parity';
import { mannWhitneyP, summarize } from './stats';

export interface RegretRow {
  fn: string;
  label: string;
  /** Per budget, one regret per seed. */
  regrets: number[][];
  peakRssMiB: number;
  sampleMsAt100: number;
}

export interface TimingRow {
  fn: string;
  label: string;
  msAt100: number;
  msAtMax: number;
  peakRssMiB: number;
  note?: string;
}

export interface Report {
  seeds: number;
  budgets: number[];
  timingTrials: number;
  regret: RegretRow[];
  timing: TimingRow[];
  parity: ParityRow[];
}

const fmt = (x: number): string => {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1000 || a < 0.001 ? x.toExponential(2) : x.toPrecision(3);
};
const ratio = (a: number, b: number): string => (b === 0 ? (a === 0 ? '1.00' : '∞') : (a / b).toFixed(2));

export function formatReport(r: Report): string {
  const out: string[] = [];
  const fns = [...new Set([...r.regret.map((x) => x.fn), ...r.timing.map((x) => x.fn)])];

  if (r.regret.length) {
    out.push(`### Regret (best value found − known optimum; median [IQR] over ${r.seeds} seeds; lower is better)`, '');
    for (const fn of fns) {
      const rows = r.regret.filter((x) => x.fn === fn);
      if (!rows.length) continue;
      out.push(`**${fn}**`, '', `| sampler | ${r.budgets.map((b) => `${b} trials`).join(' | ')} |`, `|---|${r.budgets.map(() => '---').join('|')}|`);
      for (const row of rows) {
        const cells = row.regrets.map((v) => {
          const s = summarize(v);
          return `${fmt(s.median)} [${fmt(s.q25)}, ${fmt(s.q75)}]`;
        });
        out.push(`| ${row.label} | ${cells.join(' | ')} |`);
      }
      out.push('');
    }

    out.push(
      '### Median-regret ratios (< 1: Flywheel better), with the two-sided Mann–Whitney p-value of the difference',
      '',
    );
    const pairs: Array<[string, string]> = [
      ['Flywheel TPE', 'Optuna TPE'],
      ['Flywheel GP', 'Optuna TPE'],
      ['Flywheel random', 'Optuna random'],
    ];
    out.push(`| function | pair | ${r.budgets.map((b) => `${b}`).join(' | ')} |`, `|---|---|${r.budgets.map(() => '---').join('|')}|`);
    for (const fn of fns) {
      for (const [a, b] of pairs) {
        const ra = r.regret.find((x) => x.fn === fn && x.label === a);
        const rb = r.regret.find((x) => x.fn === fn && x.label === b);
        if (!ra || !rb) continue;
        const cells = r.budgets.map((_, i) => {
          const p = mannWhitneyP(ra.regrets[i], rb.regrets[i]);
          return `${ratio(summarize(ra.regrets[i]).median, summarize(rb.regrets[i]).median)} (p ${p < 0.001 ? '< 0.001' : p.toFixed(2)})`;
        });
        out.push(`| ${fn} | ${a} / ${b} | ${cells.join(' | ')} |`);
      }
    }
    out.push('');
  }

  if (r.timing.length) {
    const n = r.timingTrials;
    out.push(
      `### Sampler time per trial (ms, time inside the sampler only; median over trials 91–110 and ${n - 19}–${n}) and peak RSS of the process`,
      '',
      `| function | sampler | at 100 | at ${n} | peak RSS (MiB) |`,
      '|---|---|---|---|---|',
    );
    for (const fn of fns) {
      for (const row of r.timing.filter((x) => x.fn === fn)) {
        out.push(`| ${fn} | ${row.label}${row.note ? ` (${row.note})` : ''} | ${fmt(row.msAt100)} | ${fmt(row.msAtMax)} | ${row.peakRssMiB.toFixed(0)} |`);
      }
    }
    out.push('', `### Time ratios (Flywheel / Optuna; < 1: Flywheel faster)`, '', `| function | pair | at 100 | at ${n} | RSS |`, '|---|---|---|---|---|');
    for (const fn of fns) {
      for (const [a, b] of [
        ['Flywheel TPE', 'Optuna TPE'],
        ['Flywheel random', 'Optuna random'],
      ]) {
        const ta = r.timing.find((x) => x.fn === fn && x.label === a);
        const tb = r.timing.find((x) => x.fn === fn && x.label === b);
        if (!ta || !tb) continue;
        out.push(`| ${fn} | ${a} / ${b} | ${ratio(ta.msAt100, tb.msAt100)} | ${ratio(ta.msAtMax, tb.msAtMax)} | ${ratio(ta.peakRssMiB, tb.peakRssMiB)} |`);
      }
    }
    out.push('');
  }

  if (r.regret.length) {
    out.push('### Peak RSS of the regret runs (MiB; one process per sampler and function, all seeds)', '', `| sampler | ${fns.join(' | ')} |`, `|---|${fns.map(() => '---').join('|')}|`);
    for (const label of [...new Set(r.regret.map((x) => x.label))]) {
      const cells = fns.map((fn) => r.regret.find((x) => x.fn === fn && x.label === label)?.peakRssMiB.toFixed(0) ?? '');
      out.push(`| ${label} | ${cells.join(' | ')} |`);
    }
    out.push('');
  }
  if (r.parity.length) {
    out.push(
      '### One-step parity: TPE proposals from the same history (median objective value proposed; Mann–Whitney p)',
      '',
      '| function | history | Flywheel TPE | Optuna TPE | p |',
      '|---|---|---|---|---|',
    );
    for (const row of r.parity) out.push(`| ${row.fn} | ${row.historySize} | ${fmt(row.flywheelMedian)} | ${fmt(row.optunaMedian)} | ${row.p.toFixed(2)} |`);
    out.push('');
  }
  return out.join('\n');
}
