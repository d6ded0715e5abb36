/**
 * A model's story on one page: `flywheel report <model>` gathers a ModelReport and this draws it as
 * one self-contained HTML file (inline CSS and SVG, no script, no external URL; a Content Security
 * Policy that forbids loading anything). Pure: data in, string out; every string escaped.
 *
 * Sections (each with an id, so a reader or a test can find it): versions and what each learned
 * from, the champion's history, canary rollouts with their evidence per look against the
 * threshold, A/B tests with their intervals, drift events, retraining decisions, accuracy over time.
 */
import { esc, intervalChart, lineChart, num, type Series, type Threshold } from './svg';
import type { CanaryLook, ModelReport, ReportABTest, ReportCanary, ReportVersion } from './types';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

const CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1100px; padding: 16px 24px 48px; color: #1d1d1d; }
h1 { margin-bottom: 0; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 36px; } h3 { margin-bottom: 4px; }
.sub { color: #555; margin-top: 4px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 12px; background: #eee; }
.good { background: #d9f2df; color: #14532d; } .bad { background: #fbdada; color: #7f1d1d; } .warn { background: #fdf0c8; color: #6b4f00; }
.empty, .note { color: #666; font-style: italic; }
code { font-size: 12px; background: #f5f5f5; padding: 0 3px; }
nav a { margin-right: 12px; }
.canary, .abtest { border: 1px solid #e2e2e2; border-radius: 6px; padding: 8px 14px; margin: 14px 0; }
details { margin: 6px 0; }
`;

const fmtTime = (iso: string | undefined) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '–');
const pct = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${num(x * 100, 3)}%`);

function badge(word: string | undefined): string {
  if (!word) return '';
  const w = word.toLowerCase();
  const cls = /promot|winner|pass|accept|champion|completed|active/.test(w)
    ? 'good'
    : /roll|reject|fail|srm|guardrail|halt|terminat|cancel|retired/.test(w)
      ? 'bad'
      : /running|progress|inconclusive|paused|continue/.test(w)
        ? 'warn'
        : '';
  return `<span class="badge ${cls}">${esc(word)}</span>`;
}

function table(headers: string[], rows: string[][], cls = ''): string {
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const empty = (what: string) => `<p class="empty">${esc(what)}</p>`;

export function renderReport(r: ModelReport): string {
  const title = `${r.model}: model report`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    // Nothing may be loaded from anywhere: the page is the file.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title><style>${CSS}</style></head><body>`,
    `<header><h1 id="model-name">${esc(r.model)}</h1>`,
    `<p class="sub">Model report generated ${esc(fmtTime(r.generatedAt))}; serving, drift, retraining and workflows since ${esc(fmtTime(r.since))}.</p>`,
    r.description ? `<p>${esc(r.description)}</p>` : '',
    `<p>Champion: ${r.champion ? `<strong id="champion-version">v${esc(r.champion)}</strong>` : '<span class="empty">none</span>'}${
      r.aliases.length ? ` · aliases: ${r.aliases.map((a) => `<code>${esc(a.alias)}=v${esc(a.version)}</code>`).join(' ')}` : ''
    }</p>`,
    '<nav><a href="#versions">Versions</a><a href="#champion">Champion</a><a href="#canaries">Canaries</a><a href="#ab-tests">A/B tests</a><a href="#drift">Drift</a><a href="#retraining">Retraining</a><a href="#accuracy">Accuracy</a></nav></header>',
    r.notes.length ? `<section id="notes"><h2>Not shown</h2><ul>${r.notes.map((n) => `<li class="note">${esc(n)}</li>`).join('')}</ul></section>` : '',
    versionsSection(r.versions),
    championSection(r),
    `<section id="canaries"><h2>Canary rollouts</h2>${r.canaries.length ? r.canaries.map(canarySection).join('') : empty('No canary rollout in this window.')}</section>`,
    `<section id="ab-tests"><h2>A/B tests</h2>${r.abTests.length ? r.abTests.map(abSection).join('') : empty('No A/B test in this window.')}</section>`,
    driftSection(r),
    retrainingSection(r),
    accuracySection(r),
    '</body></html>',
  ].join('\n');
}

function versionsSection(versions: ReportVersion[]): string {
  if (!versions.length) return `<section id="versions"><h2>Versions</h2>${empty('No registered versions.')}</section>`;
  const metricNames = [...new Set(versions.flatMap((v) => Object.keys(v.metrics)))].filter((m) => ['accuracy', 'f1', 'logLoss', 'auc'].includes(m));
  const rows = versions.map((v) => {
    const learned = [
      v.dataset.name ?? v.dataset.source,
      v.dataset.rows !== undefined ? `${v.dataset.rows} rows` : undefined,
      v.dataset.features !== undefined ? `${v.dataset.features} features` : undefined,
    ]
      .filter(Boolean)
      .join(', ');
    const params = v.hyperparameters ? Object.entries(v.hyperparameters).map(([k, val]) => `${k}=${typeof val === 'object' ? JSON.stringify(val) : String(val)}`).join(' ') : '';
    const registry = [
      v.rollout ? `canary: ${badge(v.rollout.outcome)}${v.rollout.reason ? ` <span class="note">${esc(v.rollout.reason)}</span>` : ''}` : '',
      v.retraining ? `retraining: ${badge(v.retraining.decision)}${v.retraining.reason ? ` <span class="note">${esc(v.retraining.reason)}</span>` : ''}` : '',
    ]
      .filter(Boolean)
      .join('<br>');
    return [
      `<strong>v${esc(v.version)}</strong>${v.aliases.map((a) => ` ${badge(a)}`).join('')}`,
      esc(fmtTime(v.created)),
      ...metricNames.map((m) => `<span class="num">${esc(num(v.metrics[m]))}</span>`),
      `${esc(learned || '–')}${v.dataset.digest ? `<br><code title="${esc(v.dataset.digest)}">${esc(v.dataset.digest.slice(0, 12))}</code>` : ''}`,
      `${esc(v.family ?? '')}${params ? `<br><code>${esc(params)}</code>` : ''}`,
      v.deployment ? `${badge(v.deployment.state)} ${v.trafficPercent !== undefined ? esc(`${num(v.trafficPercent, 3)}% of traffic`) : ''}${v.deployment.reason ? `<br><span class="note">${esc(v.deployment.reason)}</span>` : ''}` : '<span class="empty">never deployed</span>',
      registry || '–',
    ];
  });
  return `<section id="versions"><h2>Versions</h2>${table(['version', 'created', ...metricNames.map((m) => `${m} (holdout)`), 'learned from', 'family, hyperparameters', 'serving', 'registry decisions'], rows, 'versions')}</section>`;
}

function championSection(r: ModelReport): string {
  const body = r.championHistory.length
    ? `<ol class="champion-history">${r.championHistory.map((e) => `<li><strong>v${esc(e.version)}</strong> — ${esc(e.how)}${e.at ? ` <span class="note">(${esc(fmtTime(e.at))})</span>` : ''}</li>`).join('')}</ol>`
    : empty('No version has been champion yet.');
  return `<section id="champion"><h2>Champion history</h2>${body}</section>`;
}

/** ln of a positive e-value; null/0/Infinity (JSON has no Infinity) give NaN, so the point is left out. */
const ln = (x: number | null | undefined) => (x !== null && x !== undefined && x > 0 && Number.isFinite(x) ? Math.log(x) : NaN);

/** One chart per metric: ln E of the harm and no-regression tests at every look, against ln(1/α) of each. */
export function evidenceCharts(c: ReportCanary): string[] {
  const looks = c.looks;
  const metrics = [...new Set(looks.flatMap((l) => l.checks.map((k) => k.metric)))];
  return metrics.map((metric) => {
    const at = (l: CanaryLook) => l.checks.find((k) => k.metric === metric);
    const withEvidence = looks.some((l) => at(l)?.harmE !== undefined);
    const series: Series[] = [];
    const thresholds: Threshold[] = [];
    const title = (l: CanaryLook, i: number, what: string, v: number) => `look ${i + 1} (step ${l.step}${l.weight !== undefined ? `, ${l.weight}%` : ''}, ${fmtTime(l.at)}): ${what} ln E = ${num(v)} — ${at(l)?.verdict ?? ''}`;
    if (withEvidence) {
      const last = [...looks].reverse().map(at).find((k) => k?.harmThreshold);
      series.push({ name: 'harm ln E', color: '#d62728', points: looks.map((l, i) => ({ x: i + 1, y: ln(at(l)?.harmE), title: title(l, i, 'harm', ln(at(l)?.harmE)) })) });
      series.push({ name: 'no-regression ln E', color: '#2ca02c', points: looks.map((l, i) => ({ x: i + 1, y: ln(at(l)?.safetyE), title: title(l, i, 'no-regression', ln(at(l)?.safetyE)) })) });
      if (last?.harmThreshold) thresholds.push({ series: 'harm ln E', y: Math.log(last.harmThreshold), label: 'harm: ln(1/α)', color: '#d62728' });
      if (last?.safetyThreshold) thresholds.push({ series: 'no-regression ln E', y: Math.log(last.safetyThreshold), label: 'no-regression: ln(1/α)', color: '#2ca02c' });
    } else {
      // The fixed-horizon judge reports p-values per look, with no running evidence to plot against a threshold.
      series.push({ name: 'ln(1/p)', color: '#1f77b4', points: looks.map((l, i) => ({ x: i + 1, y: -ln(at(l)?.pValue), title: title(l, i, 'ln(1/p)', -ln(at(l)?.pValue)) })) });
    }
    const ticks = looks.map((_, i) => i + 1);
    return `<figure class="evidence" data-metric="${esc(metric)}" data-looks="${looks.length}">${lineChart({
      title: `${c.workflowId}: ${metric} evidence per look`,
      xLabel: 'look',
      yLabel: withEvidence ? 'ln E (evidence)' : 'ln(1/p)',
      series,
      thresholds,
      xTicks: ticks,
      xTick: (x) => String(x),
    })}<figcaption>${esc(metric)}: ${withEvidence ? 'the evidence of harm (candidate worse than stable) rolls back when it crosses its line; the evidence of no regression promotes when it crosses its line.' : 'fixed-horizon judge: p-value per look.'}</figcaption></figure>`;
  });
}

function canarySection(c: ReportCanary): string {
  const outcome = c.outcome ?? c.state ?? c.execution.toLowerCase();
  const head = `<h3>${c.candidateVersion ? `v${esc(c.candidateVersion)}` : 'candidate unknown'}${c.stableVersion ? ` against v${esc(c.stableVersion)}` : ''}: ${badge(outcome)}</h3>`;
  const facts = `<p class="sub"><code>${esc(c.workflowId)}</code> · ${esc(c.execution)} · started ${esc(fmtTime(c.started))}${c.closed ? ` · closed ${esc(fmtTime(c.closed))}` : ''}${c.judge ? ` · judge: ${esc(c.judge)}` : ''} · ${c.looks.length} look${c.looks.length === 1 ? '' : 's'}</p>`;
  const reason = c.reason ? `<p class="reason">${esc(c.reason)}</p>` : '';
  const note = c.note ? `<p class="note">${esc(c.note)}</p>` : '';
  const charts = c.looks.length ? evidenceCharts(c).join('') : empty('No analysis looks recorded.');
  const looksTable = c.looks.length
    ? `<details><summary>Every look</summary>${table(
        ['#', 'at', 'step', 'weight', 'verdict', 'requests (candidate / stable)', 'reason'],
        c.looks.map((l, i) => [
          String(i + 1),
          esc(fmtTime(l.at)),
          String(l.step),
          l.weight !== undefined ? `${esc(l.weight)}%` : '–',
          badge(l.verdict),
          `${esc(l.candidateRequests ?? '–')} / ${esc(l.stableRequests ?? '–')}`,
          esc(l.reason ?? ''),
        ]),
      )}</details>`
    : '';
  const decisions = c.decisions.length
    ? `<details><summary>Decisions</summary>${table(['at', 'action', 'reason'], c.decisions.map((d) => [esc(fmtTime(d.at)), badge(d.action), esc(d.reason)]))}</details>`
    : '';
  return `<article class="canary" data-workflow-id="${esc(c.workflowId)}" data-outcome="${esc(outcome)}">${head}${facts}${reason}${note}${charts}${looksTable}${decisions}</article>`;
}

function abSection(t: ReportABTest): string {
  const outcome = t.decision ? (t.decision.kind === 'winner' ? `winner v${t.decision.version}` : t.decision.kind) : (t.state ?? t.execution.toLowerCase());
  const head = `<h3>${t.versions.map((v) => `v${esc(v)}`).join(' vs ')}: ${badge(outcome)}</h3>`;
  const facts = `<p class="sub"><code>${esc(t.workflowId)}</code> · ${esc(t.execution)} · started ${esc(fmtTime(t.started))}${t.closed ? ` · closed ${esc(fmtTime(t.closed))}` : ''}${t.looks !== undefined ? ` · ${esc(t.looks)} looks` : ''}${
    t.split ? ` · split ${esc(t.split.join('/'))}` : ''
  }</p>`;
  const reason = t.decision ? `<p class="reason">${esc(t.decision.reason)}</p>` : '';
  const note = t.note ? `<p class="note">${esc(t.note)}</p>` : '';
  const arms = t.arms.length
    ? table(
        ['arm', 'requests', 'units', 'error rate', 'p95 latency (ms)', 'n (primary)', 'estimate'],
        t.arms.map((a) => [`v${esc(a.version)}`, esc(a.requests), esc(a.units), esc(pct(a.errorRate)), esc(num(a.p95LatencyMs)), esc(a.n), esc(num(a.estimate))]),
      )
    : '';
  const comparisons = t.comparisons.length
    ? intervalChart({
        title: `${t.workflowId}: difference to control with its always-valid interval (latest look)`,
        xLabel: 'arm − control (primary metric)',
        rows: t.comparisons.map((c) => ({ label: `v${c.version} − v${c.control}`, estimate: c.difference, ci: c.ci, significant: c.significant })),
      }) +
      table(
        ['comparison', 'difference', 'lift', 'interval', 'adjusted p', 'significant'],
        t.comparisons.map((c) => [
          `v${esc(c.version)} − v${esc(c.control)}`,
          esc(num(c.difference)),
          esc(pct(c.lift)),
          c.ci ? esc(`[${num(c.ci[0])}, ${num(c.ci[1])}]`) : '–',
          esc(num(c.adjustedPValue)),
          c.significant ? badge('yes') : 'no',
        ]),
      )
    : empty('No comparison yet.');
  return `<article class="abtest" data-workflow-id="${esc(t.workflowId)}">${head}${facts}${reason}${note}${arms}${comparisons}</article>`;
}

function driftSection(r: ModelReport): string {
  const body = r.driftEvents.length
    ? table(
        ['#', 'detected', 'detector', 'direction', 'at sample', 'error before → after', 'retraining', 'note'],
        r.driftEvents.map((d) => [
          esc(d.event),
          esc(fmtTime(d.detectedAt)),
          esc(d.detector),
          badge(d.direction),
          esc(d.sample),
          esc(`${num(d.errorBefore)} → ${num(d.errorAfter)}`),
          d.retrainingWorkflowId ? `<code>${esc(d.retrainingWorkflowId)}</code>` : '–',
          esc(d.note ?? ''),
        ]),
      )
    : empty('No drift detected in this window.');
  return `<section id="drift"><h2>Drift events</h2>${body}</section>`;
}

function retrainingSection(r: ModelReport): string {
  const metricOf = (m: Record<string, number> | undefined, name: string) => num(m?.[name]);
  const body = r.retraining.length
    ? table(
        ['started', 'trigger', 'status', 'challenger vs champion', 'metric (margin)', 'decision', 'reason', 'canary'],
        r.retraining.map((x) => [
          esc(fmtTime(x.startedAt)),
          `${esc(x.trigger)}${x.triggerDetail ? `<br><span class="note">${esc(x.triggerDetail)}</span>` : ''}`,
          badge(x.status),
          esc(`${x.challengerVersion ? `v${x.challengerVersion}` : '–'} (${metricOf(x.challengerMetrics, x.metric)}) vs ${x.championVersion ? `v${x.championVersion}` : '–'} (${metricOf(x.championMetrics, x.metric)})`),
          esc(`${x.metric} (${num(x.margin)})`),
          badge(x.decision ?? '–'),
          esc(x.reason ?? ''),
          x.canaryWorkflowId ? `<code>${esc(x.canaryWorkflowId)}</code> ${badge(x.canaryOutcome)}` : '–',
        ]),
      )
    : empty('No retraining in this window.');
  return `<section id="retraining"><h2>Retraining decisions</h2>${body}</section>`;
}

function accuracySection(r: ModelReport): string {
  const pts = r.accuracy.points.filter((p) => p.labelled > 0);
  if (!pts.length) return `<section id="accuracy"><h2>Accuracy over time</h2>${empty('No labelled predictions in this window.')}</section>`;
  const versions = [...new Set(pts.map((p) => p.version))].sort((a, b) => Number(a) - Number(b));
  const series: Series[] = versions.map((v, i) => ({
    name: `v${v}`,
    color: COLORS[i % COLORS.length]!,
    points: pts
      .filter((p) => p.version === v)
      .map((p) => ({ x: Date.parse(p.at), y: p.correct / p.labelled, title: `v${v} ${fmtTime(p.at)}: ${num(p.correct / p.labelled)} (${p.correct}/${p.labelled} labelled)` })),
  }));
  const spanMs = Math.max(...pts.map((p) => Date.parse(p.at))) - Math.min(...pts.map((p) => Date.parse(p.at)));
  const tick = (x: number) => {
    const iso = new Date(x).toISOString();
    return spanMs > 2 * 86_400_000 ? iso.slice(5, 10) : iso.slice(11, spanMs > 3_600_000 ? 16 : 19);
  };
  const chart = lineChart({ title: `${r.model}: served accuracy on labelled predictions`, xLabel: `time (UTC), ${bucketWords(r.accuracy.bucketSeconds)} buckets`, yLabel: 'accuracy', series, yDomain: [0, 1], xTick: tick });
  const totals = table(
    ['version', 'labelled', 'correct', 'accuracy'],
    versions.map((v) => {
      const l = pts.filter((p) => p.version === v).reduce((a, p) => a + p.labelled, 0);
      const c = pts.filter((p) => p.version === v).reduce((a, p) => a + p.correct, 0);
      return [`v${esc(v)}`, esc(l), esc(c), esc(num(c / l))];
    }),
  );
  return `<section id="accuracy"><h2>Accuracy over time</h2><p class="sub">Served predictions whose true label arrived as feedback, by the time they were served.</p>${chart}${totals}</section>`;
}

function bucketWords(s: number): string {
  if (s % 86_400 === 0) return `${s / 86_400}-day`;
  if (s % 3600 === 0) return `${s / 3600}-hour`;
  if (s % 60 === 0) return `${s / 60}-minute`;
  return `${s}-second`;
}
