/**
 * A flame graph (SVG) of a V8 CPU profile, such as the gateway's under `bench/serving/limit.ts
 * --cpu-prof DIR`: where the event loop's busy time goes, idle left out.
 *
 *   npx tsx bench/serving/flamegraph.ts PROFILE.cpuprofile OUT.svg [--from-s 3] [--title "…"]
 *
 * --from-s: leave out the first seconds of the profile (module loading at start, not per request).
 */
import fs from 'node:fs';
import path from 'node:path';
import { flameGraph, totalOf, type FlameNode } from '../../lib/report/flame';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, out] = process.argv.slice(2);
if (!file || !out) {
  console.error('usage: npx tsx bench/serving/flamegraph.ts PROFILE.cpuprofile OUT.svg [--from-s S] [--title T]');
  process.exit(2);
}
const flag = (name: string) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};
const fromUs = Number(flag('--from-s') ?? 0) * 1e6;
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
let t = 0;
profile.samples.forEach((id, i) => {
  t += profile.timeDeltas[i] ?? 0;
  if (t >= fromUs) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});

const nameOf = (n: ProfileNode) => {
  const url = n.callFrame.url;
  const where = url ? ` ${url.includes('node_modules/') ? url.slice(url.lastIndexOf('node_modules/') + 13) : path.basename(url)}` : '';
  return `${n.callFrame.functionName || '(anonymous)'}${where}`;
};

/** Children with the same name merge: one box per function per caller. */
function build(n: ProfileNode): FlameNode | undefined {
  if (n.callFrame.functionName === '(idle)') return undefined;
  const merged = new Map<string, FlameNode>();
  for (const id of n.children ?? []) {
    const child = build(byId.get(id)!);
    if (!child) continue;
    const same = merged.get(child.name);
    if (same) {
      same.self += child.self;
      same.children.push(...child.children);
    } else merged.set(child.name, child);
  }
  return { name: nameOf(n), self: selfUs.get(n.id) ?? 0, children: [...merged.values()] };
}

const root = build(profile.nodes[0]!)!;
root.name = 'event loop (busy time)';
const title = flag('--title') ?? `${path.basename(file)}: ${(totalOf(root) / 1e6).toFixed(2)} s busy`;
fs.writeFileSync(out, flameGraph(root, { title }));
console.log(`${out}: ${(totalOf(root) / 1e6).toFixed(2)} s of busy samples`);
