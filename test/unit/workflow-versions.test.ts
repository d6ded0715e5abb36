/**
 * Every workflow change is either replay-proven or deliberate: test/fixtures/workflow-versions.json
 * holds, for each workflows/ file and each lib/ or config/ file a workflow runs, the sha256 of its source and the recorded histories that replay
 * it (test/unit/replay.test.ts). Changing a workflow file fails here until its author has recorded
 * a new history and/or guarded the change with patched(), and run `npm run workflows:stamp`.
 * Policy: README, "Upgrading workflows".
 */
import { describe, expect, it } from 'vitest';
import { computeManifest, fixtureTypes, guardedFiles, manifestProblems, readManifest, replayedFixtures, workflowFiles, workflowTypeFiles, type Manifest } from '../../scripts/workflow-versions';

describe('workflow versions manifest', () => {
  const current = computeManifest();

  it('every workflow file is unchanged since it was stamped with its recorded histories', () => {
    const problems = manifestProblems(readManifest(), current);
    expect(problems, `\n${problems.join('\n')}\n`).toEqual([]);
  });

  it('every workflow file, helpers and the lib/ code workflows run included, is covered by at least one replayed history', () => {
    expect(workflowFiles()).toEqual(expect.arrayContaining(['workflows/index.ts', 'workflows/control-activities.ts', 'workflows/torch-training.ts', 'workflows/drift-monitor.ts']));
    // A default in lib/rollout/spec.ts decides what a replayed canary does: it is guarded like workflow code.
    expect(guardedFiles()).toEqual(expect.arrayContaining([...workflowFiles(), 'lib/rollout/spec.ts', 'lib/retraining/error-monitor.ts', 'config/search-attributes.ts']));
    expect(current.workflows['lib/rollout/spec.ts']!.fixtures).toEqual(expect.arrayContaining(['canary-rollout', 'canary-rollout-sequential']));
    expect(Object.keys(current.workflows).some((f) => f.startsWith('activities/'))).toBe(false); // type-only imports do not run
    const uncovered = Object.entries(current.workflows).filter(([, e]) => e.fixtures.length === 0).map(([f]) => f);
    expect(uncovered).toEqual([]);
  });

  it('every registered workflow type has a recorded history that replay.test.ts replays', () => {
    const replayed = replayedFixtures();
    const typesReplayed = new Set([...fixtureTypes()].filter(([name]) => replayed.has(name)).map(([, type]) => type));
    expect([...workflowTypeFiles().keys()].filter((t) => !typesReplayed.has(t))).toEqual([]);
    expect([...workflowTypeFiles().keys()]).toEqual(expect.arrayContaining(['DriftMonitor', 'Retraining', 'OnlineSnapshot']));
  });

  it('says what to do when a workflow file changed, appeared or lost its histories', () => {
    const stamped: Manifest = JSON.parse(JSON.stringify(current));
    stamped.workflows['workflows/drift-monitor.ts']!.sha256 = '0'.repeat(64);
    delete stamped.workflows['workflows/online-learning.ts'];
    stamped.workflows['workflows/gone.ts'] = { sha256: '1'.repeat(64), fixtures: [] };
    const problems = manifestProblems(stamped, current);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toBe(
      `workflows/drift-monitor.ts changed since its recorded history (${current.workflows['workflows/drift-monitor.ts']!.fixtures.join(', ')}): record a new one ` +
        '(.venv/bin/temporal workflow show -w <workflow id> [-r <run id>] -o json > test/fixtures/<name>.history.json) ' +
        'and/or guard the change with patched(); then run `npm run workflows:stamp`',
    );
    expect(problems[1]).toMatch(/^workflows\/online-learning\.ts is not in test\/fixtures\/workflow-versions\.json: record a history/);
    expect(problems[2]).toBe('workflows/gone.ts is in test/fixtures/workflow-versions.json but no longer exists: run `npm run workflows:stamp`');
    expect(manifestProblems(undefined, current)).toEqual(['test/fixtures/workflow-versions.json is missing or unreadable: run `npm run workflows:stamp`']);
  });
});
