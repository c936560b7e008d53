/**
 * Scenarios: experiments chained as child workflows on the real Temporal dev server and Docker
 * engine, including the reference cascade chaos-004 against the demo target system.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Experiment } from '../../src/spec/schema';
import { ensureTargetSystem } from '../../src/stack';
import type { Journal, ScenarioJournal } from '../../src/types';
import { containerState, docker, eventually, pauseExperiment, recordHistory, startNats, startWorker, type TestWorker } from '../helpers';

const A = 'gameday-test-scenario-a';
const B = 'gameday-test-scenario-b';
type Result = ScenarioJournal['result'];

describe('scenarios', () => {
  let w: TestWorker;
  let a: Awaited<ReturnType<typeof startNats>>;
  let b: Awaited<ReturnType<typeof startNats>>;

  before(async () => {
    a = await startNats(A, 14311);
    b = await startNats(B, 14312);
    await ensureTargetSystem(docker);
    w = await startWorker('scenario');
  });
  after(async () => {
    await w?.stop();
    await a?.remove();
    await b?.remove();
  });

  const start = (spec: unknown) => w.client.workflow.start('scenario', { taskQueue: w.taskQueue, workflowTaskTimeout: '2s', workflowId: `scenario-${Date.now()}`, args: [{ spec }] });
  const stage = (name: string, spec: Experiment, extra: Record<string, unknown> = {}) => ({ name, spec, ...extra });

  test('the reference cascade chaos-004: the worker is killed while NATS is still paused, and both come back', async () => {
    const handle = await w.client.workflow.start('scenario', { taskQueue: w.taskQueue, workflowTaskTimeout: '2s', workflowId: `chaos-004-${Date.now()}`, args: [{ scenario: 'chaos-004-cascade-nats-queue-worker' }] });
    // The cascade: at one moment NATS is paused and the worker is down, both at once.
    await eventually('NATS paused and the worker down at the same time', async () => {
      const [nats, worker] = await Promise.all([containerState('demo-target-nats'), containerState('demo-target-worker')]);
      return nats.Paused && !worker.Running;
    }, 30_000);
    const result = (await handle.result()) as Result;
    assert.equal(result.verdict, 'passed', result.reason);
    const nats = await containerState('demo-target-nats');
    const worker = await containerState('demo-target-worker');
    assert.equal(nats.Paused, false);
    assert.equal(worker.Running, true);
    const journal = JSON.parse(await readFile(path.join(result.reportDir, 'scenario.json'), 'utf8')) as ScenarioJournal;
    assert.deepEqual(journal.stages.map((s) => [s.name, s.result?.verdict]), [['nats-down', 'passed'], ['worker-crash', 'passed']]);
    assert.ok(Date.parse(journal.stages[1].startedAt!) < Date.parse(journal.stages[0].finishedAt!), 'the worker crash started before the NATS stage ended');
    const report = await readFile(path.join(result.reportDir, 'report.md'), 'utf8');
    assert.match(report, /\| worker-crash \| done \|/);
  });

  test('an abort of the scenario halts every running stage, newest first, and reverts all their faults', async () => {
    const handle = await start({
      kind: 'scenario',
      id: 'abort-both',
      title: 'two pauses at once',
      hypothesis: 'both roll back',
      stages: [stage('first', pauseExperiment('first', A, a.url, '5m')), stage('second', pauseExperiment('second', B, b.url, '5m'), { startDuring: { stage: 'first', delay: '500ms' } })],
    });
    await eventually('both containers paused', async () => (await containerState(A)).Paused && (await containerState(B)).Paused, 20_000);
    await handle.signal('abort', 'stop the cascade');
    const result = (await handle.result()) as Result;
    await recordHistory(handle.workflowId, 'scenario-abort');
    assert.equal(result.verdict, 'aborted');
    assert.equal((await containerState(A)).Paused, false);
    assert.equal((await containerState(B)).Paused, false);
    const journal = JSON.parse(await readFile(path.join(result.reportDir, 'scenario.json'), 'utf8')) as ScenarioJournal;
    const reverted = await Promise.all(
      journal.stages.map(async (s) => {
        const j = JSON.parse(await readFile(path.join(s.result!.reportDir, 'journal.json'), 'utf8')) as Journal;
        return Date.parse(j.rollback.faults[0].revertedAt!);
      }),
    );
    assert.ok(reverted[1] <= reverted[0], 'the newer stage was reverted first');
  });

  test('a stage that cannot run stops the stages after it, and the report says which broke what', async () => {
    const broken = pauseExperiment('broken', A, a.url, '1s');
    broken.steadyState[0].probe = { kind: 'nats-stream', url: a.url, stream: 'no-such-stream', timeout: '1s' };
    const handle = await start({
      kind: 'scenario',
      id: 'stops',
      title: 'a broken first stage',
      hypothesis: 'the second never starts',
      stages: [stage('first', broken), stage('second', pauseExperiment('second', B, b.url, '1s'))],
    });
    const result = (await handle.result()) as Result;
    assert.equal(result.verdict, 'not-run');
    assert.match(result.reason, /^stage first ended not-run: steady state did not hold/);
    const journal = JSON.parse(await readFile(path.join(result.reportDir, 'scenario.json'), 'utf8')) as ScenarioJournal;
    assert.equal(journal.stages[1].status, 'skipped');
    assert.match(journal.stages[1].skippedBecause!, /stage first ended not-run/);
    const report = await readFile(path.join(result.reportDir, 'report.md'), 'utf8');
    assert.match(report, /- \*\*second\*\* did not start: stage first ended not-run/);
    assert.equal((await containerState(B)).Paused, false, 'the second stage never paused its container');
  });

  test('a scenario repeated 3 times continues as new between iterations and reports each', async () => {
    const handle = await start({
      kind: 'scenario',
      id: 'soak',
      title: 'a short soak',
      hypothesis: 'every iteration passes',
      repeat: 3,
      stages: [stage('pause', pauseExperiment('soak', A, a.url, '500ms'))],
    });
    const result = (await handle.result()) as Result;
    assert.equal(result.verdict, 'passed', result.reason);
    assert.equal(result.iterations, 3);
    const journal = JSON.parse(await readFile(path.join(result.reportDir, 'scenario.json'), 'utf8')) as ScenarioJournal;
    assert.deepEqual(journal.previousIterations.map((p) => [p.iteration, p.verdict]), [[1, 'passed'], [2, 'passed']]);
    const desc = await w.client.workflow.getHandle(handle.workflowId).describe();
    assert.notEqual(desc.runId, handle.firstExecutionRunId, 'the last iteration runs in a new run of the same workflow id');
  });
});
