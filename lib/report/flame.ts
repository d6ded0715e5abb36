/**
 * A flame graph as one self-contained SVG (no script, no fonts from elsewhere): each box is a
 * function on a call stack, as wide as the time spent in it and everything it called, its callers
 * below it. Built from V8's `.cpuprofile` (node --cpu-prof) by bench/serving/flamegraph.ts; pure so
 * it is tested without a profile.
 */
import { esc, num } from './svg';

export interface FlameNode {
  name: string;
  /** Time spent in this frame itself (any unit; the graph shows shares). */
  self: number;
  children: FlameNode[];
}

export interface FlameOptions {
  title: string;
  width?: number;
  /** Boxes narrower than this many pixels are left out (their time stays in the parent's width). */
  minWidthPx?: number;
}

const ROW = 17;
const PAD = 10;

export function totalOf(node: FlameNode): number {
  return node.children.reduce((s, c) => s + totalOf(c), node.self);
}

/** Warm colours from the name, so one function keeps its colour across graphs. */
function colour(name: string): string {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return `hsl(${10 + (h % 40)}, ${70 + (h % 20)}%, ${55 + ((h >> 8) % 15)}%)`;
}

export function flameGraph(root: FlameNode, opts: FlameOptions): string {
  const width = opts.width ?? 1200;
  const minPx = opts.minWidthPx ?? 0.5;
  const total = totalOf(root);
  const inner = width - 2 * PAD;
  const boxes: string[] = [];
  let depth = 0;
  const walk = (node: FlameNode, x: number, level: number, nodeTotal: number) => {
    const w = total > 0 ? (nodeTotal / total) * inner : 0;
    if (w < minPx) return;
    depth = Math.max(depth, level);
    const share = total > 0 ? (100 * nodeTotal) / total : 0;
    const label = w > 40 ? esc(node.name.slice(0, Math.floor(w / 6.5))) : '';
    boxes.push(
      `<g class="frame" data-name="${esc(node.name)}" data-share="${num(share, 3)}"><title>${esc(node.name)}: ${num(share, 3)} %</title>` +
        `<rect x="${(PAD + x).toFixed(1)}" y="LEVEL${level}" width="${w.toFixed(1)}" height="${ROW - 1}" fill="${colour(node.name)}"/>` +
        (label ? `<text x="${(PAD + x + 3).toFixed(1)}" y="TEXT${level}">${label}</text>` : '') +
        '</g>',
    );
    let cx = x;
    for (const c of [...node.children].sort((a, b) => a.name.localeCompare(b.name))) {
      const ct = totalOf(c);
      walk(c, cx, level + 1, ct);
      cx += total > 0 ? (ct / total) * inner : 0;
    }
  };
  walk(root, 0, 0, total);
  // Callers below, callees above: the root sits on the bottom row.
  const height = 2 * PAD + 24 + (depth + 1) * ROW;
  const yOf = (level: number) => height - PAD - (level + 1) * ROW;
  const body = boxes
    .map((b) => b.replace(/LEVEL(\d+)/, (_, l: string) => String(yOf(Number(l)))).replace(/TEXT(\d+)/, (_, l: string) => String(yOf(Number(l)) + ROW - 5)))
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="11">` +
    `<rect width="100%" height="100%" fill="#fff"/><text x="${PAD}" y="${PAD + 12}" font-size="13">${esc(opts.title)}</text>${body}</svg>`
  );
}
