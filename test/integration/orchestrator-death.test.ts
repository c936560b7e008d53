/**
 * No fault outlives its experiment when the orchestrator dies: `gameday worker` processes killed
 * with SIGKILL during observe, on the real Temporal dev server and Docker engine.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@temporalio/client';
import type { ExperimentResult, ExperimentStatus, Journal } from '../../src/types';
import { connectTestClient, containerState, eventually, killSpawnedWorkers, pauseExperiment, spawnWorker, startNats } from '../helpers';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import { mkdtemp } from 'node:fs/promises';

const NATS = 'gameday-test-death-nats';
const PORT = 14304;

describe('orchestrator death', () => {
  let client: Client;
  let nats: Awaited<ReturnType<typeof startNats>>;
  let reportsDir: string;

  before(async () => {
    nats = await startNats(NATS, PORT);
    client = await connectTestClient();
    reportsDir = await mkdtemp(path.join(os.tmpdir(), 'gameday-death-'));
  });
  after(async () => {
    killSpawnedWorkers();
    await client?.connection.close();
    await nats?.remove();
  });

  async function startPaused(taskQueue: string, id: string, duration: string) {
    const handle = await client.workflow.start('experiment', { workflowTaskTimeout: '2s', taskQueue, workflowId: `${id}-${Date.now()}`, args: [{ spec: pauseExperiment(id, NATS, nats.url, duration) }] });
    await eventually('observe with the container paused', async () => {
      const s = await handle.query<ExperimentStatus>('status');
      return s.stage === 'observe' && (await containerState(NATS)).Paused;
    });
    return handle;
  }

  test('SIGKILL of the worker running the experiment: a second worker completes rollback, verify and report', async () => {
    const taskQueue = `test-death-two-${Date.now()}`;
    const env = { GAMEDAY_REPORTS_DIR: reportsDir };
    const first = await spawnWorker(taskQueue, env);
    // Only the first worker polls until the experiment runs on it; then the survivor joins. The
    // fault lasts long enough for the survivor to start (a few seconds on a loaded machine).
    const handle = await startPaused(taskQueue, 'death-two', '15s').catch(async (e: unknown) => {
      await first.kill('SIGKILL');
      throw e;
    });
    const second = await spawnWorker(taskQueue, env).catch(async (e: unknown) => {
      await first.kill('SIGKILL');
      throw e;
    });
    try {
      assert.ok((await handle.query<ExperimentStatus>('status')).activeFaults.length === 1, 'the survivor started before the fault was due');
      await first.kill('SIGKILL');
      assert.equal((await containerState(NATS)).Paused, true, 'the fault is still in place when the worker dies');
      const result = (await handle.result()) as ExperimentResult;
      assert.equal(result.verdict, 'passed', result.reason);
      assert.equal(result.rollback, 'complete');
      assert.equal((await containerState(NATS)).Paused, false);
      const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
      assert.equal(journal.rollback.faults[0].status, 'reverted');
    } finally {
      // Whatever failed above, let the survivor finish the run: it holds the container's lock.
      await handle.result().catch(() => undefined);
      await second.kill('SIGTERM');
    }
  });

  test('SIGKILL of the only worker, then a new one: the experiment carries on and rolls back', async () => {
    const taskQueue = `test-death-one-${Date.now()}`;
    const env = { GAMEDAY_REPORTS_DIR: reportsDir };
    const first = await spawnWorker(taskQueue, env);
    const handle = await startPaused(taskQueue, 'death-one', '3s').catch(async (e: unknown) => {
      await first.kill('SIGKILL');
      throw e;
    });
    await first.kill('SIGKILL');
    // Nobody runs the experiment now: its fault stays until a worker comes back.
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal((await containerState(NATS)).Paused, true, 'still paused while no worker runs');
    const replacement = await spawnWorker(taskQueue, env);
    try {
      const result = (await handle.result()) as ExperimentResult;
      assert.equal(result.rollback, 'complete');
      assert.equal(result.verdict, 'passed', result.reason);
      assert.equal((await containerState(NATS)).Paused, false);
    } finally {
      await handle.result().catch(() => undefined);
      await replacement.kill('SIGTERM');
    }
  });
});
