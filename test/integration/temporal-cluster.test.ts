/**
 * An experiment on a real multi-process Temporal cluster (test/temporal-cluster.ts: frontend,
 * matching, worker and two history processes on PostgreSQL) survives the SIGKILL of the history
 * process that owns its workflow's shard, and of the frontend, during observe: its fault (a paused
 * busybox container) is reverted at its due time or within seconds of the cluster answering again,
 * and the run completes with its report.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { Experiment } from '../../src/spec/schema';
import type { ExperimentResult, ExperimentStatus, Journal } from '../../src/types';
import { containerState, docker, eventually, killSpawnedWorkers, removeContainer, spawnWorker, startSleeper, type WorkerProcess } from '../helpers';
import { startTemporalCluster, type TemporalCluster } from '../temporal-cluster';

const CONTAINER = 'gameday-test-cluster-box';
const PAUSE = '15s';
/** How long after the cluster answers again a revert may come and still count as "within seconds". */
const WITHIN_SECONDS_MS = 15_000;

function clusterExperiment(id: string): Experiment {
  const probe = { kind: 'docker-container' as const, container: CONTAINER };
  return {
    id,
    title: `pause ${CONTAINER} on a Temporal cluster`,
    hypothesis: 'the container runs unpaused again once the fault is reverted',
    targets: { box: { kind: 'docker', container: CONTAINER } },
    steadyState: [{ name: 'box not paused', probe, expect: { paused: { equals: false } } }],
    method: [{ fault: { kind: 'docker-pause', target: 'box' }, duration: PAUSE }],
    observe: { interval: '1s', probes: [{ name: 'box during the pause', probe }] },
    recovery: { within: '30s', interval: '1s' },
  };
}

/** When Docker says the container was unpaused, since `sinceMs`. */
async function unpausedAt(sinceMs: number): Promise<number | undefined> {
  const stream = await docker.getEvents({ since: Math.floor(sinceMs / 1000), until: Math.ceil(Date.now() / 1000) + 1, filters: { container: [CONTAINER], event: ['unpause'] } });
  let text = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) text += chunk.toString();
  const times = text.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { timeNano: number }).timeNano / 1e6);
  return times.find((t) => t >= sinceMs);
}

// Room for the server's first build (about 3 min on 2 quiet cores, far longer on a loaded machine).
describe('a real Temporal cluster (5 processes, PostgreSQL)', { timeout: 30 * 60_000 }, () => {
  let cluster: TemporalCluster;
  let client: Client;
  let worker: WorkerProcess;
  let reportsDir: string;
  const taskQueue = `test-cluster-${process.pid}`;

  before(async () => {
    cluster = await startTemporalCluster();
    const { built, provisionMs, startMs } = cluster.timings;
    console.log(`[cluster] server ${built ? `built (not cached) in ${(provisionMs / 1000).toFixed(0)} s` : 'cached'}; cluster started in ${(startMs / 1000).toFixed(1)} s on ${cluster.address}`);
    await startSleeper(CONTAINER);
    reportsDir = await mkdtemp(path.join(os.tmpdir(), 'gameday-cluster-reports-'));
    worker = await spawnWorker(taskQueue, {
      TEMPORAL_ADDRESS: cluster.address,
      GAMEDAY_REPORTS_DIR: reportsDir,
      GAMEDAY_RESULTS_URL: cluster.resultsUrl,
    });
    client = new Client({ connection: await Connection.connect({ address: cluster.address }), namespace: cluster.namespace });
  });
  after(async () => {
    await worker?.kill('SIGTERM');
    killSpawnedWorkers();
    await client?.connection.close();
    await cluster?.stop();
    await removeContainer(CONTAINER);
    if (reportsDir) await rm(reportsDir, { recursive: true, force: true });
  });

  /** Starts a run and waits until it observes with the container paused; returns when its fault is due. */
  async function startPaused(id: string): Promise<{ handle: WorkflowHandle; workflowId: string; dueAtMs: number; startedMs: number }> {
    const startedMs = Date.now();
    const workflowId = `${id}-${Date.now()}`;
    const handle = await client.workflow.start('experiment', { workflowTaskTimeout: '2s', taskQueue, workflowId, args: [{ spec: clusterExperiment(id) }] });
    const dueAtMs = await eventually('observe with the container paused', async () => {
      const s = await handle.query<ExperimentStatus>('status');
      const dueAt = s.activeFaults[0]?.dueAt;
      return s.stage === 'observe' && dueAt !== undefined && (await containerState(CONTAINER)).Paused && Date.parse(dueAt);
    }, 60_000);
    return { handle, workflowId, dueAtMs, startedMs };
  }

  /** What a user checks once the cluster is back: the run's result, its report, the container. */
  async function assertCompleted(handle: WorkflowHandle, dueAtMs: number, backMs: number, startedMs: number, what: string) {
    const result = (await handle.result()) as ExperimentResult;
    assert.equal(result.verdict, 'passed', result.reason);
    assert.equal(result.rollback, 'complete');
    assert.equal((await containerState(CONTAINER)).Paused, false);
    const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
    assert.equal(journal.rollback.faults[0].status, 'reverted');
    assert.match(await readFile(path.join(result.reportDir, 'report.md'), 'utf8'), /pause container gameday-test-cluster-box/);
    const unpaused = await unpausedAt(startedMs);
    assert.ok(unpaused, 'Docker recorded the unpause');
    const late = unpaused - Math.max(dueAtMs, backMs);
    console.log(`[cluster] ${what}: unpaused ${((unpaused - dueAtMs) / 1000).toFixed(1)} s after its due time; the cluster answered again ${((backMs - dueAtMs) / 1000).toFixed(1)} s after it`);
    assert.ok(late <= WITHIN_SECONDS_MS, `unpaused ${late} ms after both the due time and the cluster answering again`);
  }

  test('SIGKILL of the history process that owns the run\'s shard: reverted on time, the run completes with its report', async () => {
    const { handle, workflowId, dueAtMs, startedMs } = await startPaused('cluster-history-kill');
    const owner = await cluster.shardOwner(workflowId);
    // Killed shortly before the due time: the revert falls in the takeover (membership's suspect period).
    await new Promise((r) => setTimeout(r, Math.max(0, dueAtMs - Date.now() - 2000)));
    await cluster.kill(owner.service);
    assert.equal((await containerState(CONTAINER)).Paused, true, 'the fault is still in place when the history process dies');
    // The cluster answers again for this run once the other history process has taken its shard.
    await eventually('the run described again', () => handle.describe().then(() => true), 120_000);
    const backMs = Date.now();
    const survivor = await cluster.shardOwner(workflowId);
    assert.notEqual(survivor.service, owner.service, `shard ${owner.shardId} moved off the killed ${owner.service}`);
    await assertCompleted(handle, dueAtMs, backMs, startedMs, `history kill (${owner.service}, shard ${owner.shardId})`);
    await cluster.restart(owner.service);
  });

  test('SIGKILL of the frontend across the due time, restarted: reverted on time, the run completes with its report', async () => {
    const { handle, dueAtMs, startedMs } = await startPaused('cluster-frontend-kill');
    await new Promise((r) => setTimeout(r, Math.max(0, dueAtMs - Date.now() - 3000)));
    await cluster.kill('frontend');
    assert.equal((await containerState(CONTAINER)).Paused, true, 'the fault is still in place when the frontend dies');
    // Down through the due time: the worker's revert cannot ask the cluster whether the fault is still in place.
    await new Promise((r) => setTimeout(r, 8000));
    await cluster.restart('frontend');
    await eventually('the frontend serving again', () => cluster.healthy(), 60_000);
    const backMs = Date.now();
    await assertCompleted(handle, dueAtMs, backMs, startedMs, 'frontend kill');
  });
});
