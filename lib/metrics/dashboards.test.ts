import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dashboardQueries, expandVariables, variableMetrics } from './dashboards';

const DIR = path.join(__dirname, '..', '..', 'config', 'grafana', 'dashboards');

describe('dashboard queries', () => {
  it('finds targets in panels and in rows\' nested panels, skipping empty ones', () => {
    const q = dashboardQueries({
      title: 'd',
      panels: [
        { title: 'a', targets: [{ refId: 'A', expr: 'up' }, { refId: 'B', expr: ' ' }] },
        { title: 'row', panels: [{ title: 'b', targets: [{ refId: 'A', expr: 'sum(x)' }] }] },
      ],
    });
    expect(q).toEqual([
      { dashboard: 'd', panel: 'a', refId: 'A', expr: 'up' },
      { dashboard: 'd', panel: 'b', refId: 'A', expr: 'sum(x)' },
    ]);
  });

  it('expands interval and dashboard variables, and leaves an unknown one for Prometheus to refuse', () => {
    expect(expandVariables('rate(x{model=~"$model"}[$__rate_interval]) + increase(y[$__range]) + z{a="${other}"}', { model: 'iris' })).toBe(
      'rate(x{model=~"iris"}[1m]) + increase(y[1h]) + z{a="${other}"}',
    );
  });

  it('reads label_values variables', () => {
    expect(variableMetrics({ templating: { list: [{ name: 'model', type: 'query', definition: 'label_values(flywheel_x_total, model)' }, { name: 'ds', type: 'datasource' }] } })).toEqual([
      { name: 'model', metric: 'flywheel_x_total', label: 'model' },
    ]);
  });

  it('the repository\'s dashboards are valid JSON with unique uids, and every query uses only known variables', () => {
    const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(['learning-loop.json', 'serving.json', 'workers-temporal.json']);
    const uids = new Set<string>();
    for (const f of files) {
      const d = JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8'));
      uids.add(d.uid);
      const known = Object.fromEntries((d.templating?.list ?? []).map((v: { name: string }) => [v.name, '.+']));
      const queries = dashboardQueries(d);
      expect(queries.length, f).toBeGreaterThan(5);
      for (const q of queries) expect(expandVariables(q.expr, known), `${f} ${q.panel}`).not.toMatch(/\$/);
    }
    expect(uids.size).toBe(files.length);
  });
});
