/**
 * A fault is reverted at its due time by the worker that injected it, even when no workflow task
 * can run then: the workflow's worker is stopped after the inject, so its timer's task waits
 * unprocessed, and the fault worker's due-time revert unpauses the container all the same. When
 * workflows run again, the run's own revert finds the fault reverted and says by whom.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities';
import { loadConfig } from '../../src/config';
import { connectDocker } from '../../src/faults/docker';
import { DueReverts, type DueRevertTimers } from '../../src/faults/due-reverts';
import { ReverterProcess } from '../../src/faults/reverter';
import { FAULTS_MEMO } from '../../src/search-attributes';
import type { Experiment } from '../../src/spec/schema';
import { openResultsStore } from '../../src/store/postgres';
import { StoreWriter } from '../../src/store/writer';
import { connectClient } from '../../src/temporal';
import { temporalConnectionOptions } from '../../src/temporal-connection';
import { faultQueueOf } from '../../src/task-queues';
import type { ExperimentResult, PlannedFault } from '../../src/types';
import { containerState, eventually, removeContainer, startOkServer, startSleeper, workflowBundle } from '../helpers';

const TARGET = 'gameday-test-revert-at-due';

/** Where the due-time timers live: the worker's own process, or the reverter process a worker starts by default. */
const REVERTERS: Record<string, () => DueRevertTimers> = {
  'in the worker process': () => new DueReverts(),
  'in the reverter process': () => new ReverterProcess(),
};

function experiment(url: string): Experiment {
  return {
    id: 'revert-at-due',
    title: 'pause a container for 4 s',
    hypothesis: 'the server answers throughout',
    targets: { box: { kind: 'docker', container: TARGET } },
    steadyState: [{ name: 'server answers', probe: { kind: 'http', url, timeout: '1s' }, expect: { status: { equals: 200 } } }],
    method: [{ fault: { kind: 'docker-pause', target: 'box' }, duration: '4s' }],
    observe: { interval: '200ms', probes: [{ name: 'server during the pause', probe: { kind: 'http', url, timeout: '1s' } }] },
    recovery: { within: '10s', interval: '200ms' },
  };
}

for (const [where, reverter] of Object.entries(REVERTERS)) describe(`reverts at the due time, ${where}`, () => {
  const config = loadConfig();
  const taskQueue = `test-revert-at-due-${process.pid}-${Date.now()}-${where.split(' ').pop()}`;
  let server: Awaited<ReturnType<typeof startOkServer>>;
  let client: Client;
  let connection: NativeConnection;
  let deps: ActivityDeps;
  let faults: Worker;
  let faultsRunning: Promise<void>;

  before(async () => {
    server = await startOkServer();
    await startSleeper(TARGET);
    client = await connectClient(config);
    connection = await NativeConnection.connect(temporalConnectionOptions(config));
    const store = openResultsStore(config.resultsUrl);
    const reportsDir = await mkdtemp(path.join(os.tmpdir(), 'gameday-due-'));
    deps = { docker: connectDocker(), client, experimentsDir: config.experimentsDir, reportsDir, allowedTargets: [], store, writer: new StoreWriter(store), dueReverts: reverter() };
    // The fault queue's worker runs throughout; the workflows' worker is started and stopped by the test.
    faults = await Worker.create({ connection, namespace: config.namespace, taskQueue: faultQueueOf(taskQueue), activities: createActivities(deps) });
    faultsRunning = faults.run();
  });
  after(async () => {
    faults?.shutdown();
    await faultsRunning;
    deps?.dueReverts?.close();
    deps?.writer.close();
    await deps?.store.close();
    await connection?.close();
    await client?.connection.close();
    server?.close();
    await removeContainer(TARGET);
  });

  async function workflowWorker(): Promise<{ stop: () => Promise<void> }> {
    const w = await Worker.create({
      connection,
      namespace: config.namespace,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities(deps),
      stickyQueueScheduleToStartTimeout: '1s',
    });
    const running = w.run();
    return {
      stop: async () => {
        w.shutdown();
        await running;
      },
    };
  }

  /** Starts a run and waits for its fault to be injected and recorded with its due time. */
  async function injected(): Promise<{ handle: WorkflowHandle; fault: PlannedFault }> {
    const handle = await client.workflow.start('experiment', { workflowTaskTimeout: '2s', taskQueue, workflowId: `revert-at-due-${Date.now()}`, args: [{ spec: experiment(server.url) }] });
    const fault = await eventually(
      'the fault injected and recorded',
      async () => {
        const d = await handle.describe();
        const f = ((d.memo?.[FAULTS_MEMO] ?? []) as PlannedFault[])[0];
        return f?.status === 'injected' && f.dueAt ? f : undefined;
      },
      30_000,
    );
    return { handle, fault };
  }

  test('the container is unpaused at its due time while the workflow cannot run a task, and the run says so', async () => {
    let workflows = await workflowWorker();
    const { handle, fault } = await injected();
    assert.equal((await containerState(TARGET)).Paused, true, 'paused after the inject');
    await workflows.stop();

    const dueAt = Date.parse(fault.dueAt!);
    await eventually('the container unpaused with no workflow worker running', async () => !(await containerState(TARGET)).Paused, dueAt - Date.now() + 15_000);
    const unpausedAt = Date.now();
    assert.ok(unpausedAt >= dueAt, `not unpaused before it was due (${unpausedAt - dueAt} ms)`);
    const history = JSON.stringify((await handle.fetchHistory()).events);
    assert.equal(history.includes('"revertFault"'), false, 'the workflow has not scheduled its own revert: the worker reverted it');
    assert.equal((await handle.describe()).status.name, 'RUNNING');

    workflows = await workflowWorker();
    try {
      const result = (await handle.result()) as ExperimentResult;
      assert.equal(result.rollback, 'complete');
      const report = await readFile(path.join(result.reportDir, 'report.md'), 'utf8');
      assert.match(report, /reverted at its due time by the worker that injected it/);
      assert.equal((await containerState(TARGET)).Paused, false);
    } finally {
      await workflows.stop();
    }
  });
  if (where === 'in the reverter process') {
    test('a due-time revert whose word reaches the worker only after the run asked for it is still reported done, once', async () => {
      const workflows = await workflowWorker();
      const { handle, fault } = await injected();
      await workflows.stop();
      // A reverter of its own, due at once for the same (idempotent) pause, its every outcome counted.
      const own = new ReverterProcess();
      const outcomes: string[] = [];
      try {
        const key = `${handle.workflowId}/own/${fault.id}`;
        own.arm({ key, dueAtMs: Date.now() + 500, fault, stillInPlace: async () => true, revert: async () => [], onDone: (o) => outcomes.push(o.reverted ? 'reverted' : 'not reverted') });
        // Held here, as a busy worker would, past the due time: the reverter process reverts and
        // its 'done' waits unread while the run's revert asks for the fault first (the run's
        // confirming revert, right after its timer).
        const until = Date.now() + 3000;
        while (Date.now() < until);
        const asked = own.disarm(key);
        const answer = await asked;
        assert.equal(answer?.reverted, true, 'the reverter says it reverted the fault');
        await new Promise((r) => setTimeout(r, 200));
        assert.deepEqual(outcomes, ['reverted'], 'told once, whichever of its two messages came first');
      } finally {
        own.close();
      }
      const again = await workflowWorker();
      try {
        assert.equal(((await handle.result()) as ExperimentResult).rollback, 'complete');
      } finally {
        await again.stop();
      }
    });

    test('a reverter process killed after the inject is started again and still reverts the fault at its due time', async () => {
      let workflows = await workflowWorker();
      const { handle, fault } = await injected();
      await workflows.stop();
      const reverterPid = (deps.dueReverts as ReverterProcess).pid;
      assert.ok(reverterPid, 'the reverter process runs once a fault is armed');
      process.kill(reverterPid, 'SIGKILL');
      const dueAt = Date.parse(fault.dueAt!);
      await eventually('the container unpaused by the reverter started again', async () => !(await containerState(TARGET)).Paused, dueAt - Date.now() + 15_000);
      const newPid = (deps.dueReverts as ReverterProcess).pid;
      assert.ok(newPid && newPid !== reverterPid, 'another reverter process runs');
      assert.equal(JSON.stringify((await handle.fetchHistory()).events).includes('"revertFault"'), false, 'the workflow has not reverted it itself');
      workflows = await workflowWorker();
      try {
        const result = (await handle.result()) as ExperimentResult;
        assert.equal(result.rollback, 'complete');
        // Not the fault's self-limit, which would unpause it later and say nothing to the run.
        assert.match(await readFile(path.join(result.reportDir, 'report.md'), 'utf8'), /reverted at its due time by the worker that injected it/);
      } finally {
        await workflows.stop();
      }
    });
  }
});
