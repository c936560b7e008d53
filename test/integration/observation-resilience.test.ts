/**
 * What long observation must survive: the worker sampling it SIGKILLed (another takes over with
 * neither a gap nor a duplicate in the samples), and the results store hanging during the run (the
 * fault is reverted on time all the same, and the report is written once the store answers).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { FAULTS_MEMO } from '../../src/search-attributes';
import { migrateResultsStore } from '../../src/store/migrate';
import type { Experiment } from '../../src/spec/schema';
import type { ExperimentResult, ExperimentStatus, Journal, PlannedFault } from '../../src/types';
import { statusQuery } from '../../workflows/definitions';
import { assertTakenOver, connectTestClient, containerState, eventually, killSpawnedWorkers, removeContainer, spawnWorker, startOkServer, startSleeper, startWorker } from '../helpers';
import { startPrivatePostgres, type PrivatePostgres } from '../pg-server';

const TARGET = 'gameday-test-resilience';

/** Signals every process in the list that still exists (a backend may have ended meanwhile). */
function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Gone already.
    }
  }
}

function experiment(id: string, url: string, duration: string, interval: string): Experiment {
  return {
    id,
    title: 'pause a container while a local server is probed',
    hypothesis: 'the server answers throughout',
    targets: { box: { kind: 'docker', container: TARGET } },
    steadyState: [{ name: 'server answers', probe: { kind: 'http', url, timeout: '1s' }, expect: { status: { equals: 200 } } }],
    method: [{ fault: { kind: 'docker-pause', target: 'box' }, duration }],
    observe: { interval, probes: [{ name: 'server during the pause', probe: { kind: 'http', url, timeout: '1s' }, expect: { status: { equals: 200 } } }] },
    recovery: { within: '10s', interval: '200ms' },
  };
}

/** Polls docker inspect until the container runs unpaused; returns when (epoch ms). */
async function unpausedAt(): Promise<number> {
  await eventually('the container to be unpaused', async () => !(await containerState(TARGET)).Paused, 120_000);
  return Date.now();
}

describe('observation survives its worker and its store', () => {
  let server: Awaited<ReturnType<typeof startOkServer>>;
  let url: string;
  let client: Client;

  before(async () => {
    server = await startOkServer();
    url = server.url;
    await startSleeper(TARGET);
    client = await connectTestClient();
  });
  after(async () => {
    killSpawnedWorkers();
    await removeContainer(TARGET);
    server?.close();
    await client?.connection.close();
  });

  test('a worker SIGKILLed mid-observation leaves neither a gap nor a duplicate in the samples once another takes over', { timeout: 180_000 }, async (t) => {
    const taskQueue = `test-takeover-${process.pid}-${Date.now()}`;
    const first = await spawnWorker(taskQueue);
    const handle = await client.workflow.start('experiment', { taskQueue, workflowTaskTimeout: '2s', workflowId: `takeover-${Date.now()}`, args: [{ spec: experiment('takeover', url, '25s', '100ms') }] });
    await eventually('observation to run for a few seconds', async () => (await handle.query(statusQuery)).stage === 'observe', 30_000);
    // Longer than a heartbeat's throttle (2 s): what the first worker stored is in a heartbeat.
    await new Promise((r) => setTimeout(r, 6000));
    const killedAt = Date.now();
    await first.kill('SIGKILL');
    const second = await startWorker('takeover', { taskQueue });
    try {
      const result = (await handle.result()) as ExperimentResult;
      assert.equal(result.verdict, 'passed', result.reason);
      assert.equal((await containerState(TARGET)).Paused, false);

      const stored = await assertTakenOver(handle.workflowId, killedAt);
      t.diagnostic(`${stored.samples} samples; the longest gap between two (the takeover) is ${stored.longestGapMs} ms`);

      const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
      assert.equal(journal.observations.filter((s) => s.check === 'server during the pause').length, stored.samples, 'the report holds every stored sample');
    } finally {
      await second.stop();
    }
  });

  describe('with a results store that hangs', () => {
    let store: PrivatePostgres;
    before(async () => {
      store = await startPrivatePostgres(50);
    });
    after(async () => {
      signalAll(await store.pids().catch(() => []), 'SIGCONT');
      await store?.stop();
    });

    test('the fault is reverted on time while the store hangs, and the report is written once it answers, saying it waited', { timeout: 180_000 }, async () => {
      const resultsUrl = store.url.replace(/\/postgres$/, '/gameday');
      await migrateResultsStore(resultsUrl);
      const w = await startWorker('store-hangs', { resultsUrl });
      let pids: number[] = [];
      try {
        const handle = await w.start({ spec: experiment('store-hangs', url, '8s', '100ms') });
        await eventually('observation', async () => (await handle.query(statusQuery)).stage === 'observe', 30_000);
        await new Promise((r) => setTimeout(r, 1000));
        // Every process of the server, the backends of the worker's connections among them.
        pids = await store.pids();
        signalAll(pids, 'SIGSTOP');

        const unpaused = await unpausedAt();
        const faults = (await handle.describe()).memo?.[FAULTS_MEMO] as PlannedFault[];
        const lateMs = unpaused - Date.parse(faults[0].dueAt!);
        // Reverted when due, as with a store that answers (the poll adds its own delay): not after the outage.
        assert.ok(lateMs < 5000, `reverted ${lateMs} ms after it was due`);
        await eventually('verification to end and the report to wait', async () => (await handle.query(statusQuery)).stage === 'report', 60_000);
        await new Promise((r) => setTimeout(r, 8000));
        const status: ExperimentStatus = await handle.query(statusQuery);
        assert.equal(status.stage, 'report', 'the report waits for the store');
        assert.equal((await handle.describe()).status.name, 'RUNNING');

        signalAll(pids, 'SIGCONT');
        const result = (await handle.result()) as ExperimentResult;
        assert.equal(result.rollback, 'complete');
        const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
        assert.ok((journal.store?.waitedMs ?? 0) > 5000, `the report says it waited: ${JSON.stringify(journal.store)}`);
        assert.equal(journal.store?.missingSamples, undefined, 'the samples taken while the store hung reached it afterwards');
        assert.ok(journal.observations.length > 30, `${journal.observations.length} observe samples`);
        const report = await readFile(path.join(result.reportDir, 'report.md'), 'utf8');
        assert.match(report, /results store was unreachable/);
      } finally {
        signalAll(pids, 'SIGCONT');
        await w.stop();
      }
    });
  });
});
