/**
 * Durability of the commit: the knowledge activity worker is SIGKILLed after a chunk of facts is
 * committed but before the activity reports back. The retry must find those facts committed and
 * write nothing twice; the batch still ends with every fact in the graph exactly once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrate } from '../../db/migrate';
import { knowledgeStatusQuery } from '../../workflows/knowledge-validation';
import { runKnowledgeWorkers, spawnKnowledgeWorker, startBatch, transcript, uniqueSurname, type SpawnedKnowledgeWorker } from '../fixtures/knowledge/harness';
import { openTestEnv, type TestEnv } from './helpers/env';

let env: TestEnv;
const spawned: SpawnedKnowledgeWorker[] = [];
beforeAll(async () => {
  env = await openTestEnv('knowledge-kill');
  await migrate(env.config.postgres.url);
});
afterAll(async () => {
  for (const w of spawned) await w.kill();
  await env?.close();
});

it('commits every fact exactly once when the worker is killed mid-batch', async () => {
  const family = uniqueSurname();
  const cities = ['London', 'Paris', 'Berlin', 'Madrid', 'Rome', 'Vienna'];
  const people = Array.from({ length: 50 }, (_, i) => `Marie ${family}${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}`);
  const text = transcript(people.map((p, i) => ({ conversation: `kill-${family}-${i % 5}`, text: `${p} was born in ${cities[i % cities.length]}.` })));
  const workerEnv = { FLYWHEEL_TASK_QUEUE_CPU: env.taskQueues.cpu, FLYWHEEL_TEST_COMMIT_PAUSE_MS: '4000' };
  spawned.push(await spawnKnowledgeWorker(workerEnv));

  const { result, committedAtKill } = await runKnowledgeWorkers(
    env.config,
    env.taskQueues,
    async () => {
      const handle = await startBatch(env.client, env.config, env.taskQueues, text);
      const countCommits = async () =>
        (await env.db.query('select count(*)::int as n from knowledge_commits where workflow_id = $1', [handle.workflowId])).rows[0].n as number;
      // Wait for the first chunk's transactions to begin landing; the worker then sits in its pause.
      for (let i = 0; i < 600 && (await countCommits()) === 0; i++) await new Promise((r) => setTimeout(r, 100));
      await spawned[0]!.kill();
      // Counted only once the killed worker is gone: a poll taken while the chunk was still
      // committing could see one fact fewer than the attempt actually wrote.
      // A COMMIT the server had already received still completes after the client dies; let it land.
      await new Promise((r) => setTimeout(r, 500));
      const committedAtKill = await countCommits();
      expect(committedAtKill).toBeGreaterThan(0);
      expect(committedAtKill).toBeLessThan(people.length);
      spawned.push(await spawnKnowledgeWorker({ ...workerEnv, FLYWHEEL_TEST_COMMIT_PAUSE_MS: '0' }));
      const result = await handle.result();
      const status = await handle.query(knowledgeStatusQuery);
      expect(status.candidates.every((c) => c.state === 'committed')).toBe(true);
      return { result, committedAtKill };
    },
    { activities: false },
  );

  expect(result.committed).toHaveLength(people.length);
  expect(new Set(result.committed).size).toBe(people.length);
  // The retried chunk found its facts already committed instead of writing them again.
  expect(result.totals.alreadyCommitted).toBe(committedAtKill);
  expect(result.totals.committed + result.totals.alreadyCommitted).toBe(people.length);
  const counts = await env.db.query(
    `select (select count(*)::int from knowledge_commits where batch_id = $1) as commits,
            (select count(*)::int from knowledge_provenance where batch_id = $1) as provenance,
            (select count(*)::int from knowledge_facts f join knowledge_entities s on s.id = f.subject_id where s.name like $2) as facts,
            (select count(*)::int from knowledge_entities where name like $2) as people`,
    [result.batchId, `Marie ${family}%`],
  );
  expect(counts.rows[0]).toEqual({ commits: people.length, provenance: people.length, facts: people.length, people: people.length });
  const history = await env.client.workflow.getHandle(result.workflowId).fetchHistory();
  const retried = history.events!.filter((e) => e.activityTaskStartedEventAttributes && e.activityTaskStartedEventAttributes.attempt! > 1);
  expect(retried.length).toBeGreaterThanOrEqual(1);
});
