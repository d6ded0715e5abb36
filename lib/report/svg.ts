/**
 * Charts drawn by hand as inline SVG: no script, no library, no external URL, so a report is one
 * self-contained file that any browser shows as it is. Every string that reaches the markup goes
 * through `esc`. Points and threshold lines carry classes and data attributes (`point`,
 * `threshold`, `data-series`, `data-value`), so what a browser renders can be checked by name.
 */

/** Escapes text for HTML text and attribute values (double- or single-quoted). */
export function esc(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A short number for labels: 4 significant digits, no trailing zeros. */
export function num(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  if (x !== 0 && (Math.abs(x) >= 1e6 || Math.abs(x) < 1e-4)) return x.toExponential(2);
  return String(Number(x.toPrecision(digits)));
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi === lo) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

export interface Series {
  name: string;
  color: string;
  points: Array<{ x: number; y: number; title?: string }>;
  /** Draw the points only (no connecting line). */
  pointsOnly?: boolean;
}

export interface Threshold {
  /** Which series this threshold belongs to (its data-series). */
  series: string;
  y: number;
  label: string;
  color: string;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  thresholds?: Threshold[];
  /** Label of an x tick (default: the number). */
  xTick?: (x: number) => string;
  /** Use only these x ticks (e.g. look numbers), not round ones. */
  xTicks?: number[];
  yDomain?: [number, number];
  width?: number;
  height?: number;
}

const M = { top: 28, right: 190, bottom: 42, left: 58 };

/** A line chart with optional horizontal threshold lines and a legend on the right. */
export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 720;
  const height = o.height ?? 260;
  const w = width - M.left - M.right;
  const h = height - M.top - M.bottom;
  const xs = o.series.flatMap((s) => s.points.map((p) => p.x));
  const ys = [...o.series.flatMap((s) => s.points.map((p) => p.y)), ...(o.thresholds ?? []).map((t) => t.y)].filter(Number.isFinite);
  let [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  let [y0, y1] = o.yDomain ?? (ys.length ? [Math.min(0, ...ys), Math.max(...ys)] : [0, 1]);
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  if (!o.yDomain) {
    const pad = (y1 - y0) * 0.08;
    [y0, y1] = [y0 < 0 ? y0 - pad : y0, y1 + pad];
  }
  const sx = (x: number) => M.left + ((x - x0) / (x1 - x0)) * w;
  const sy = (y: number) => M.top + h - ((Math.min(y1, Math.max(y0, y)) - y0) / (y1 - y0)) * h;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="${esc(o.title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`);
  parts.push(`<title>${esc(o.title)}</title>`);
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${w}" height="${h}" fill="#fafafa" stroke="#ccc"/>`);
  // Axes and ticks.
  const yTicks = niceTicks(y0, y1, 5);
  parts.push('<g class="y-axis" font-size="11" fill="#444">');
  for (const t of yTicks) {
    const y = sy(t).toFixed(1);
    parts.push(`<line x1="${M.left}" x2="${M.left + w}" y1="${y}" y2="${y}" stroke="#e4e4e4"/><text x="${M.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${esc(num(t, 3))}</text>`);
  }
  parts.push(`<text transform="translate(14 ${M.top + h / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text></g>`);
  const xTicks = (o.xTicks ?? niceTicks(x0, x1, 6)).filter((t) => t >= x0 && t <= x1);
  const xTick = o.xTick ?? ((x: number) => num(x, 3));
  parts.push('<g class="x-axis" font-size="11" fill="#444">');
  for (const t of thin(xTicks, 10)) {
    const x = sx(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${M.top + h}" y2="${M.top + h + 4}" stroke="#888"/><text x="${x}" y="${M.top + h + 16}" text-anchor="middle">${esc(xTick(t))}</text>`);
  }
  parts.push(`<text x="${M.left + w / 2}" y="${height - 6}" text-anchor="middle">${esc(o.xLabel)}</text></g>`);
  // Thresholds, then series on top.
  for (const t of o.thresholds ?? []) {
    if (!Number.isFinite(t.y)) continue;
    const y = sy(t.y).toFixed(1);
    parts.push(
      `<line class="threshold" data-series="${esc(t.series)}" data-value="${esc(t.y)}" x1="${M.left}" x2="${M.left + w}" y1="${y}" y2="${y}" stroke="${esc(t.color)}" stroke-width="1.5" stroke-dasharray="6 4"><title>${esc(`${t.label} = ${num(t.y)}`)}</title></line>`,
    );
  }
  for (const s of o.series) {
    const pts = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    if (!s.pointsOnly && pts.length > 1) {
      parts.push(`<polyline class="series" data-series="${esc(s.name)}" fill="none" stroke="${esc(s.color)}" stroke-width="2" points="${pts.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}"/>`);
    }
    for (const p of pts) {
      parts.push(
        `<circle class="point" data-series="${esc(s.name)}" data-x="${esc(p.x)}" data-value="${esc(p.y)}" cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3.5" fill="${esc(s.color)}"><title>${esc(p.title ?? `${s.name}: ${num(p.y)}`)}</title></circle>`,
      );
    }
  }
  // Legend.
  const legend = [
    ...o.series.map((s) => ({ label: s.name, color: s.color, dashed: false })),
    ...(o.thresholds ?? []).map((t) => ({ label: t.label, color: t.color, dashed: true })),
  ];
  parts.push('<g class="legend" font-size="11" fill="#222">');
  legend.forEach((l, i) => {
    const y = M.top + 8 + i * 16;
    const x = M.left + w + 12;
    parts.push(`<line x1="${x}" x2="${x + 18}" y1="${y}" y2="${y}" stroke="${esc(l.color)}" stroke-width="2"${l.dashed ? ' stroke-dasharray="6 4"' : ''}/><text x="${x + 24}" y="${y}" dominant-baseline="middle">${esc(l.label)}</text>`);
  });
  parts.push('</g></svg>');
  return parts.join('');
}

function thin(ticks: number[], max: number): number[] {
  if (ticks.length <= max) return ticks;
  const every = Math.ceil(ticks.length / max);
  return ticks.filter((_, i) => i % every === 0);
}

export interface IntervalRow {
  label: string;
  estimate: number | null;
  ci: [number, number] | null;
  significant: boolean;
}

/** A forest plot: one row per comparison, its interval as a bar, its estimate as a point, zero as a reference line. */
export function intervalChart(o: { title: string; xLabel: string; rows: IntervalRow[]; width?: number }): string {
  const width = o.width ?? 720;
  const rowH = 30;
  const left = 150;
  const right = 40;
  const top = 24;
  const height = top + o.rows.length * rowH + 44;
  const w = width - left - right;
  const vals = o.rows.flatMap((r) => [...(r.ci ?? []), ...(r.estimate !== null ? [r.estimate] : [])]).filter(Number.isFinite);
  let [x0, x1] = vals.length ? [Math.min(0, ...vals), Math.max(0, ...vals)] : [-1, 1];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  const pad = (x1 - x0) * 0.08;
  [x0, x1] = [x0 - pad, x1 + pad];
  const sx = (x: number) => left + ((x - x0) / (x1 - x0)) * w;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="chart intervals" role="img" aria-label="${esc(o.title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`);
  parts.push(`<title>${esc(o.title)}</title>`);
  const bottom = top + o.rows.length * rowH;
  parts.push('<g class="x-axis" font-size="11" fill="#444">');
  for (const t of niceTicks(x0, x1, 6)) {
    const x = sx(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${top}" y2="${bottom}" stroke="#eee"/><text x="${x}" y="${bottom + 16}" text-anchor="middle">${esc(num(t, 3))}</text>`);
  }
  parts.push(`<text x="${left + w / 2}" y="${height - 6}" text-anchor="middle">${esc(o.xLabel)}</text></g>`);
  parts.push(`<line class="threshold" data-series="zero" data-value="0" x1="${sx(0).toFixed(1)}" x2="${sx(0).toFixed(1)}" y1="${top - 6}" y2="${bottom}" stroke="#444" stroke-dasharray="4 3"><title>no difference</title></line>`);
  o.rows.forEach((r, i) => {
    const y = top + i * rowH + rowH / 2;
    const color = r.significant ? '#1b7f3b' : '#555';
    parts.push(`<text x="${left - 8}" y="${y}" font-size="12" text-anchor="end" dominant-baseline="middle">${esc(r.label)}</text>`);
    if (r.ci && r.ci.every(Number.isFinite)) {
      parts.push(
        `<line class="interval" data-series="${esc(r.label)}" data-low="${esc(r.ci[0])}" data-high="${esc(r.ci[1])}" x1="${sx(r.ci[0]).toFixed(1)}" x2="${sx(r.ci[1]).toFixed(1)}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="3"><title>${esc(`${r.label}: [${num(r.ci[0])}, ${num(r.ci[1])}]`)}</title></line>`,
      );
    }
    if (r.estimate !== null && Number.isFinite(r.estimate)) {
      parts.push(`<circle class="point" data-series="${esc(r.label)}" data-value="${esc(r.estimate)}" cx="${sx(r.estimate).toFixed(1)}" cy="${y}" r="5" fill="${color}"><title>${esc(`${r.label}: ${num(r.estimate)}`)}</title></circle>`);
    }
  });
  parts.push('</svg>');
  return parts.join('');
}
