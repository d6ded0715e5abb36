/** Reconciler: how many models it checked, each unowned split it found, what it did about it, and the traffic tables' partition upkeep. */
import type { ReconcilerResult, ReconcilerStatus } from '../../workflows/reconciler';
import { closedBadly, fields, pct, section, type Renderer } from './types';

export const renderReconciler: Renderer<ReconcilerStatus, ReconcilerResult> = ({ status: s, result: r, ...view }) => {
  const findings = r?.findings ?? s?.findings ?? [];
  return [
    ...fields({
      stage: s ? `${s.state}${s.repair ? '' : ' (report only)'}` : r ? 'done' : undefined,
      models: r?.modelsChecked ?? s?.modelsChecked,
      findings: r || s ? findings.length : undefined,
      repaired: r?.repaired,
    }),
    ...section('unowned splits', findings.map((f) => `${f.model}: ${Object.entries(f.weights).filter(([, w]) => w > 0).map(([v, w]) => `v${v} ${pct(w)}`).join(', ')} → v${f.target} (${f.targetReason})`)),
    ...section('decisions', (r?.decisions ?? s?.decisions ?? []).map((d) => `${d.at}  ${d.model}  ${d.action.padEnd(6)} ${d.reason}`)),
    ...section('traffic partitions', (r?.partitions ?? s?.partitions ?? []).filter((t) => t.partitioned).map((t) =>
      `${t.table}: ${t.partitions} partitions, retention ${t.retentionDays ? `${t.retentionDays} d` : 'forever'}; created ${t.created.length}, dropped ${t.dropped.length} (~${t.rowsDropped} rows)${t.skipped.length ? `; skipped ${t.skipped.map((k) => k.name).join(', ')}` : ''}`)),
    ...closedBadly({ ...view, status: s, result: r }),
  ];
};
