/**
 * The PromQL inside Grafana dashboard JSON (config/grafana/dashboards/), pulled out so a test can run
 * every expression against a real Prometheus: Grafana has no package here, so the queries are the
 * part of a dashboard that can rot unseen when a metric is renamed.
 */

export interface DashboardQuery {
  dashboard: string;
  panel: string;
  refId: string;
  /** As written in the dashboard, with Grafana's variables. */
  expr: string;
}

interface Panel {
  title?: string;
  targets?: Array<{ refId?: string; expr?: string }>;
  panels?: Panel[];
}

/** Every target expression of every panel, rows' nested panels included. */
export function dashboardQueries(dashboard: { title?: string; panels?: Panel[] }): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  const walk = (panels: Panel[] | undefined) => {
    for (const p of panels ?? []) {
      for (const t of p.targets ?? []) {
        if (typeof t.expr === 'string' && t.expr.trim() !== '') out.push({ dashboard: dashboard.title ?? '?', panel: p.title ?? '?', refId: t.refId ?? '?', expr: t.expr });
      }
      walk(p.panels);
    }
  };
  walk(dashboard.panels);
  return out;
}

/** Query variables of the form label_values(metric, label): the metric a variable reads its values from. */
export function variableMetrics(dashboard: { templating?: { list?: Array<{ name: string; type: string; definition?: string }> } }): Array<{ name: string; metric: string; label: string }> {
  const out: Array<{ name: string; metric: string; label: string }> = [];
  for (const v of dashboard.templating?.list ?? []) {
    const m = v.type === 'query' ? /^label_values\(\s*([^,]+?)\s*,\s*(\w+)\s*\)$/.exec(v.definition ?? '') : null;
    if (m) out.push({ name: v.name, metric: m[1]!, label: m[2]! });
  }
  return out;
}

/**
 * An expression Prometheus can run: Grafana's interval variables become fixed ranges and each
 * dashboard variable its given value (a regex, as `=~` expects). An unknown `$name` is left as it
 * is, so Prometheus refuses it and the test names it.
 */
export function expandVariables(expr: string, values: Record<string, string>, rateInterval = '1m', range = '1h'): string {
  return expr
    .replaceAll('$__rate_interval', rateInterval)
    .replaceAll('$__interval', rateInterval)
    .replaceAll('$__range', range)
    .replace(/\$\{?(\w+)\}?/g, (whole, name: string) => values[name] ?? whole);
}
