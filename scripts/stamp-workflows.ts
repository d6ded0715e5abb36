/**
 * `npm run workflows:stamp`: rewrites test/fixtures/workflow-versions.json from the current
 * workflows/ sources (and the lib/ and config/ files they run) and the recorded histories that test/unit/replay.test.ts replays.
 *
 * What it checks: every workflows/ file is covered by at least one replayed history, and every
 * workflow type exported by workflows/index.ts has one; otherwise it refuses and writes nothing.
 * What it cannot check: that a change is safe. That is the replay test's job (run it first:
 * `npx vitest run --project unit test/unit/replay.test.ts`), and the reviewer's: a changed file with
 * no new history must carry its change behind patched(). The stamp says which files those are.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { MANIFEST, RECORD_COMMAND, REPLAY_TEST, ROOT, computeManifest, fixtureTypes, readManifest, replayedFixtures, workflowTypeFiles } from './workflow-versions';

const current = computeManifest();
const stamped = readManifest();
const refusals: string[] = [];
for (const [file, entry] of Object.entries(current.workflows)) {
  if (entry.fixtures.length === 0) refusals.push(`${file}: no recorded history replayed in ${REPLAY_TEST} covers it (record one: ${RECORD_COMMAND})`);
}
const types = new Set(fixtureTypes().values());
for (const type of workflowTypeFiles().keys()) if (!types.has(type)) refusals.push(`workflow ${type}: no recorded history of it in test/fixtures`);
const replayed = replayedFixtures();
for (const name of fixtureTypes().keys()) if (!replayed.has(name)) console.warn(`note: test/fixtures/${name}.history.json is not replayed in ${REPLAY_TEST}; it covers nothing`);
if (refusals.length) {
  console.error(`workflows:stamp refused, ${MANIFEST} left as it was:\n  ${refusals.join('\n  ')}`);
  process.exit(1);
}

/** Fixtures added or changed since the last commit (new recordings), for the summary. */
function freshFixtures(): Set<string> {
  try {
    const out = execFileSync('git', ['status', '--porcelain', '--', 'test/fixtures'], { cwd: ROOT, encoding: 'utf8' });
    return new Set(out.split('\n').map((l) => l.slice(3).trim()).filter((f) => f.endsWith('.history.json')).map((f) => path.basename(f, '.history.json')));
  } catch {
    return new Set();
  }
}
const fresh = freshFixtures();
const changed = stamped ? Object.keys(current.workflows).filter((f) => stamped.workflows[f]?.sha256 !== current.workflows[f]!.sha256) : [];
for (const file of changed) {
  if (!stamped?.workflows[file]) {
    console.log(`${file}: new in the manifest`);
    continue;
  }
  const recorded = current.workflows[file]!.fixtures.filter((n) => fresh.has(n));
  console.log(
    recorded.length
      ? `${file}: changed; new or re-recorded histories: ${recorded.join(', ')}`
      : `${file}: changed with no new recorded history: the old histories must still replay, so the change must be behind patched() (or not change commands at all)`,
  );
}
writeFileSync(path.join(ROOT, MANIFEST), `${JSON.stringify(current, null, 2)}\n`);
console.log(`${MANIFEST}: ${Object.keys(current.workflows).length} files stamped${changed.length ? `, ${changed.length} changed` : ', none changed'}`);
