/**
 * Determinism: the event histories of real runs (test/histories/, recorded from the integration
 * tests with GAMEDAY_RECORD_HISTORIES=1) must replay against the current workflow code. A change
 * that would break experiments in flight fails here; guard such a change with patched().
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const HISTORIES = path.join(ROOT, 'test', 'histories');
Runtime.install({ logger: new DefaultLogger('ERROR') });

/**
 * Every recorded history: the newest in test/histories/, those of earlier workflow versions in
 * folders of their own (v1/: before bounded histories; v2/: before reverts at the due time; v3/: before local planning, quick end and notifications; v4/: before quick steps, the baseline while locking and the due-time revert in a local activity; v5/: before the first verification round in a local activity; v6/: before the report in a local activity and locks left to the parent close policy; v7/: before the baseline round in the local activity that plans and resolves), kept so that runs of every version still
 * in flight replay. Names are relative paths without .json ("v1/happy-path").
 */
async function histories(): Promise<{ name: string; workflowId: string; history: ReturnType<typeof historyFromJSON> }[]> {
  const files = (await readdir(HISTORIES, { recursive: true })).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (f) => {
      const recorded = JSON.parse(await readFile(path.join(HISTORIES, f), 'utf8')) as { workflowId: string; history: unknown };
      return { name: f.replace(/\.json$/, ''), workflowId: recorded.workflowId, history: historyFromJSON(recorded.history) };
    }),
  );
}

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } as never;

test('every recorded history replays against the current workflow code', async () => {
  const all = await histories();
  assert.ok(all.length >= 5, `expected recorded histories in ${HISTORIES}, found ${all.length}`);
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quiet });
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle, replayName: 'replay' }, all)) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  assert.deepEqual(failures, []);
});

test('the replay check fails when the workflow code changes what a recorded run did', async () => {
  const all = await histories();
  const happy = all.find((h) => h.name === path.join('v1', 'happy-path'));
  assert.ok(happy, 'the happy-path history is recorded');
  // A workflow that schedules a different first activity than the recorded run.
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../fixtures/changed-workflow'), logger: quiet });
  await assert.rejects(Worker.runReplayHistory({ workflowBundle, replayName: 'changed' }, happy.history, happy.workflowId), /Nondeterminism|DeterminismViolation|does not match/i);
});

/** The id of each patch marker of a history and the number of the workflow task that recorded it. */
function patchTasks(history: ReturnType<typeof historyFromJSON>): Map<string, number> {
  const tasks = new Map<string, number>();
  let task = 0;
  for (const e of history.events ?? []) {
    if (e.workflowTaskCompletedEventAttributes) task++;
    const payload = e.markerRecordedEventAttributes?.markerName === 'core_patch' ? e.markerRecordedEventAttributes.details?.['patch-data']?.payloads?.[0]?.data : undefined;
    if (payload) tasks.set((JSON.parse(Buffer.from(payload).toString('utf8')) as { id: string }).id, task);
  }
  return tasks;
}

test('a run whose first workflow task was split after planning records agent-hosts a task later and still replays', async () => {
  const split = (await histories()).find((h) => h.name === 'agent-split-first-task');
  assert.ok(split, 'the split history is recorded');
  // What makes this history hard: the planning local activity's marker ends the first task, and
  // the code after it (which asks agent-hosts) ran in the second, while on replay it runs in the first.
  const tasks = patchTasks(split.history);
  assert.equal(tasks.get('local-start'), 1);
  assert.equal(tasks.get('agent-hosts'), 2);
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quiet });
  await Worker.runReplayHistory({ workflowBundle, replayName: 'split' }, split.history, split.workflowId);
});
