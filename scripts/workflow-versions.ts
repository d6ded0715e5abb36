/**
 * The workflow versions manifest (test/fixtures/workflow-versions.json): for every file the
 * workflow bundle runs — each workflows/ file and the lib/ and config/ files they import at run
 * time — the sha256 of its source when it was last stamped and the recorded histories
 * (test/fixtures/<name>.history.json) that exercise it in test/unit/replay.test.ts. A lib/ default
 * or algorithm a workflow decides with changes its replay as surely as the workflow's own code.
 *
 * A fixture covers the file that defines its workflow type (found through workflows/index.ts) and
 * every file that one imports at run time (type-only imports do not run), so helpers such as
 * torch-training.ts, control-activities.ts and lib/rollout/spec.ts are covered by the workflows that use them;
 * index.ts is covered by every fixture.
 *
 * Used by test/unit/workflow-versions.test.ts (the check) and scripts/stamp-workflows.ts (the stamp).
 * Reads files only; no Temporal, no network.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const MANIFEST = 'test/fixtures/workflow-versions.json';
export const REPLAY_TEST = 'test/unit/replay.test.ts';
const FIXTURES = 'test/fixtures';

export interface WorkflowFileEntry {
  sha256: string;
  /** Fixture names (test/fixtures/<name>.history.json) whose replay runs this file's code. */
  fixtures: string[];
}

export interface Manifest {
  policy: string;
  workflows: Record<string, WorkflowFileEntry>;
}

export const POLICY =
  'A change to a workflows/ file, or to lib/ or config/ code a workflow runs, must keep every recorded history replaying (test/unit/replay.test.ts): guard it with patched()/deprecatePatch(), ' +
  'and/or record a new history of the changed code from a real run and add a replay case. Then run `npm run workflows:stamp`. README: Upgrading workflows.';

const read = (rel: string) => readFileSync(path.join(ROOT, rel), 'utf8');

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Every workflows/*.ts file (tests excluded), as a repository-relative path. */
export function workflowFiles(root = ROOT): string[] {
  return readdirSync(path.join(root, 'workflows'))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .sort()
    .map((f) => `workflows/${f}`);
}

/** Repository files a file imports at run time: relative imports only (packages are pinned by the
 * lockfile), `import type` and all-`type` import lists excluded; `.js`/none resolved to `.ts` or `/index.ts`. */
export function runtimeImports(file: string): string[] {
  const out: string[] = [];
  for (const m of read(file).matchAll(/^(?:import|export)\s+(type\s+)?([^;]*?)\s+from\s+'(\.{1,2}\/[^']+)'/gm)) {
    if (m[1]) continue;
    const names = m[2]!.replace(/^\{|\}$/g, '').split(',').map((s) => s.trim()).filter(Boolean);
    if (m[2]!.startsWith('{') && names.every((n) => n.startsWith('type '))) continue;
    const base = path.posix.join(path.posix.dirname(file), m[3]!.replace(/\.(js|ts)$/, ''));
    const candidates = [`${base}.ts`, `${base}/index.ts`];
    const found = candidates.find((c) => existsSync(path.join(ROOT, c)));
    if (found) out.push(found);
  }
  return out;
}

/** The file plus every repository file it imports at run time, transitively. */
export function closure(file: string): string[] {
  const seen = new Set<string>();
  const visit = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    runtimeImports(f).forEach(visit);
  };
  visit(file);
  return [...seen].sort();
}

/** What the workflow bundle runs: every workflows/ file and the lib/ and config/ code it imports. */
export function guardedFiles(): string[] {
  return [...new Set(workflowFiles().flatMap((f) => closure(f)))].sort();
}

/** Workflow type → the file that defines it, from workflows/index.ts's re-exports. */
export function workflowTypeFiles(): Map<string, string> {
  const map = new Map<string, string>();
  for (const m of read('workflows/index.ts').matchAll(/^export\s+\{\s*(\w+)\s*\}\s+from\s+'\.\/([\w.-]+)'/gm)) {
    map.set(m[1]!, `workflows/${m[2]!.replace(/\.ts$/, '')}.ts`);
  }
  return map;
}

/** Recorded histories: fixture name → the workflow type of its first event. */
export function fixtureTypes(): Map<string, string> {
  const map = new Map<string, string>();
  for (const f of readdirSync(path.join(ROOT, FIXTURES)).filter((f) => f.endsWith('.history.json')).sort()) {
    const history = JSON.parse(read(`${FIXTURES}/${f}`)) as { events: Array<{ workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } } }> };
    const type = history.events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
    if (type) map.set(f.replace(/\.history\.json$/, ''), type);
  }
  return map;
}

/** Fixture names that test/unit/replay.test.ts loads (`load('<name>')`). */
export function replayedFixtures(): Set<string> {
  return new Set([...read(REPLAY_TEST).matchAll(/\bload\('([\w.-]+)'\)/g)].map((m) => m[1]!));
}

/** The manifest as the current sources and fixtures make it. */
export function computeManifest(): Manifest {
  const files = guardedFiles();
  const typeFiles = workflowTypeFiles();
  const replayed = replayedFixtures();
  const fixtures = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const [name, type] of fixtureTypes()) {
    if (!replayed.has(name)) continue; // a fixture nobody replays guards nothing
    const file = typeFiles.get(type);
    if (!file) continue;
    for (const f of ['workflows/index.ts', ...closure(file)]) fixtures.get(f)?.push(name);
  }
  const workflows: Record<string, WorkflowFileEntry> = {};
  for (const f of files) workflows[f] = { sha256: sha256(read(f)), fixtures: fixtures.get(f)!.sort() };
  return { policy: POLICY, workflows };
}

export function readManifest(): Manifest | undefined {
  try {
    return JSON.parse(read(MANIFEST)) as Manifest;
  } catch {
    return undefined;
  }
}

export const RECORD_COMMAND = '.venv/bin/temporal workflow show -w <workflow id> [-r <run id>] -o json > test/fixtures/<name>.history.json';

/** Problems that make the check fail, each one sentence that says what to do. */
export function manifestProblems(stamped: Manifest | undefined, current: Manifest): string[] {
  if (!stamped) return [`${MANIFEST} is missing or unreadable: run \`npm run workflows:stamp\``];
  const problems: string[] = [];
  for (const [file, now] of Object.entries(current.workflows)) {
    const then = stamped.workflows[file];
    if (!then) {
      problems.push(`${file} is not in ${MANIFEST}: record a history of it (${RECORD_COMMAND}), replay it in ${REPLAY_TEST}, then run \`npm run workflows:stamp\``);
      continue;
    }
    if (now.fixtures.length === 0) problems.push(`${file} has no recorded history replayed in ${REPLAY_TEST}: record one (${RECORD_COMMAND}) and add a replay case`);
    if (then.sha256 !== now.sha256) {
      problems.push(
        `${file} changed since its recorded history (${then.fixtures.join(', ') || 'none'}): record a new one (${RECORD_COMMAND}) ` +
          `and/or guard the change with patched(); then run \`npm run workflows:stamp\``,
      );
    } else if (then.fixtures.join() !== now.fixtures.join()) {
      problems.push(`${file}: its replayed fixtures are now [${now.fixtures.join(', ')}], stamped [${then.fixtures.join(', ')}]: run \`npm run workflows:stamp\``);
    }
  }
  for (const file of Object.keys(stamped.workflows)) {
    if (!current.workflows[file]) problems.push(`${file} is in ${MANIFEST} but no longer exists: run \`npm run workflows:stamp\``);
  }
  return problems;
}
