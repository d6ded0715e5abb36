/**
 * The top functions by self time in a V8 .cpuprofile (from `node --cpu-prof`), summed over every
 * node of the same function (name, file, line); e.g. the gateway's profile from
 * `bench/serving/limit.ts --cpu-prof DIR`.
 *
 *   npx tsx bench/serving/cpuprofile-top.ts FILE.cpuprofile [--top 20] [--callers NAME]
 *
 * --callers NAME: instead, the stacks (three frames up) that NAME's self time was spent under.
 */
import fs from 'node:fs';
import path from 'node:path';
import { positiveFlag } from '../flags';

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv[2];
if (!file || file.startsWith('--')) throw new Error('usage: cpuprofile-top.ts FILE.cpuprofile [--top 20]');
const top = positiveFlag('top', 20);
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parentOf = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
const ci = process.argv.indexOf('--callers');
const callersOf = ci < 0 ? undefined : process.argv[ci + 1];

function frameName(f: ProfileNode['callFrame']): string {
  const where = f.url ? `${path.relative(process.cwd(), f.url.replace(/^file:\/\//, ''))}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'} ${where}`.trim();
}

/** The sample's own frame, or with --callers the three frames above it. */
function keyOf(id: number): string | undefined {
  const node = byId.get(id)!;
  if (!callersOf) return frameName(node.callFrame);
  if (node.callFrame.functionName !== callersOf) return undefined;
  const up: string[] = [];
  for (let p = parentOf.get(id); p !== undefined && up.length < 3; p = parentOf.get(p)) up.push(frameName(byId.get(p)!.callFrame));
  return up.join(' ← ');
}

// A sample's time is the delta to the next sample (V8's own convention in DevTools).
const selfUs = new Map<string, number>();
let totalUs = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i + 1] ?? 0;
  totalUs += dt;
  const key = keyOf(profile.samples[i]!);
  if (key === undefined) continue;
  selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
}
let idle = 0;
for (let i = 0; i < profile.samples.length; i++) if (byId.get(profile.samples[i]!)!.callFrame.functionName === '(idle)') idle += (profile.timeDeltas[i + 1] ?? 0) / 1000;
process.stdout.write(`${path.basename(file)}: ${(totalUs / 1e6).toFixed(1)} s sampled, ${(idle / 1000).toFixed(1)} s idle\n\n| self ms | % of busy | function |\n|---|---|---|\n`);
const busyUs = totalUs - idle * 1000;
for (const [key, us] of [...selfUs].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top)) {
  process.stdout.write(`| ${(us / 1000).toFixed(0)} | ${((100 * us) / busyUs).toFixed(1)} | ${key.replace(/\|/g, '\\|')} |\n`);
}
