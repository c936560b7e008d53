/**
 * Every ending reverted with nothing typed: a run terminated through the client has its fault
 * reverted by the janitor schedule its worker keeps, within 30 s of closing; the janitor
 * remembers what it handled, and says who holds a busy lock. Everything here is scoped to this
 * file's own task queue and schedule, so that its janitor never touches another test's runs.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ensureJanitorSchedule, janitorSchedule } from '../../src/schedules/janitor';
import type { ExperimentResult, ExperimentStatus } from '../../src/types';
import type { JanitorResult } from '../../workflows/janitor';
import { lockId } from '../../workflows/lock';
import { containerState, docker, eventually, pauseExperiment, recordHistory, startNats, startWorker, type TestWorker } from '../helpers';

const NATS = 'gameday-test-janitor-nats';
const PORT = 14311;
const QUEUE = `test-janitor-${process.pid}-${Date.now()}`;
const SCHEDULE = `gameday-janitor-test-${process.pid}`;
const TOXI_API_PORT = 18596;
const TOXI_API = `http://127.0.0.1:${TOXI_API_PORT}`;
const TOXI_LISTEN = '127.0.0.1:18597';

/** A long pause on this file's container; a busy lock (a janitor reverting) is waited for. */
function pause(id: string, url: string) {
  return { spec: { ...pauseExperiment(id, NATS, url, '5m'), lock: { whenBusy: 'wait' as const, waitAtMost: '30s' } } };
}

async function lockFree(client: Client, id: string): Promise<boolean> {
  const desc = await client.workflow.getHandle(lockId({ id, name: NATS })).describe().catch(() => undefined);
  return desc?.status.name !== 'RUNNING';
}

/** A Toxiproxy server of this file's own; resolves once it answers. */
async function startToxiproxy(): Promise<ChildProcess> {
  const binary = [process.env.TOXIPROXY_SERVER_PATH, path.join(os.homedir(), '.cache', 'gameday', 'bin', 'toxiproxy-server')].find((p) => p && existsSync(p));
  assert.ok(binary, 'the Toxiproxy server binary (bash scripts/provision.sh)');
  const child = spawn(binary, ['-host', '127.0.0.1', '-port', String(TOXI_API_PORT)], { stdio: 'ignore' });
  await eventually('Toxiproxy to answer', async () => (await fetch(`${TOXI_API}/version`)).ok);
  return child;
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

/** The results of the schedule's completed runs, oldest first. */
async function scheduledRuns(client: Client): Promise<{ workflowId: string; takenAt: Date; result: JanitorResult }[]> {
  const { recentActions } = (await client.schedule.getHandle(SCHEDULE).describe()).info;
  const runs = [];
  for (const a of [...recentActions].sort((x, y) => x.takenAt.getTime() - y.takenAt.getTime())) {
    const h = client.workflow.getHandle(a.action.workflow.workflowId, a.action.workflow.firstExecutionRunId);
    if ((await h.describe()).status.name !== 'COMPLETED') continue;
    runs.push({ workflowId: a.action.workflow.workflowId, takenAt: a.takenAt, result: (await h.result()) as JanitorResult });
  }
  return runs;
}

describe('the janitor', () => {
  let w: TestWorker;
  let keeper: TestWorker | undefined;
  let nats: Awaited<ReturnType<typeof startNats>>;
  let containerId: string;
  /** The runs terminated for the schedule's janitor to revert (for the memory test). */
  const terminated: string[] = [];

  before(async () => {
    nats = await startNats(NATS, PORT);
    containerId = (await docker.getContainer(NATS).inspect()).Id;
    w = await startWorker('janitor', { taskQueue: QUEUE });
    await w.client.schedule.getHandle(SCHEDULE).delete().catch(() => undefined);
  });
  // A test that fails half-way must not leave its experiment running (holding the container's
  // lock for the next test) nor the container paused.
  afterEach(async () => {
    // A lock can outlive a reset run (see the reset test): ended here too.
    for await (const wf of w.client.workflow.list({ query: `TaskQueue = '${QUEUE}' AND WorkflowType IN ('experiment', 'targetLock') AND ExecutionStatus = 'Running'` })) {
      await w.client.workflow.getHandle(wf.workflowId).terminate('test cleanup').catch(() => undefined);
    }
    if ((await containerState(NATS)).Paused) await docker.getContainer(NATS).unpause();
    await eventually('the container free of any lock', () => lockFree(w.client, containerId), 30_000).catch(() => undefined);
  });
  after(async () => {
    await w?.client.schedule.getHandle(SCHEDULE).delete().catch(() => undefined);
    await w?.client.workflow.getHandle(lockId({ id: containerId, name: NATS })).terminate('test over').catch(() => undefined);
    await keeper?.stop();
    await w?.stop();
    await nats?.remove();
  });

  test('a lock held by another janitor is reported as such, and once free the next run reverts the fault', async () => {
    const terminated = await w.start(pause('janitor-busy', nats.url));
    await eventually('the container to be paused', async () => (await containerState(NATS)).Paused, 30_000);
    await terminated.terminate('testing a busy janitor lock');
    await eventually('the run to free its lock', () => lockFree(w.client, containerId));

    // A real janitor run (scoped to no experiment) stands for the other janitor holding the lock.
    const other = `janitor-holder-${process.pid}-${Date.now()}`;
    await w.client.workflow.execute('janitor', { taskQueue: QUEUE, workflowId: other, args: [{ taskQueue: `nothing-${process.pid}` }] });
    const lock = await w.client.workflow.start('targetLock', { taskQueue: QUEUE, workflowId: lockId({ id: containerId, name: NATS }), args: [{ workflowId: other, container: NATS }] });

    const busyId = `janitor-busy-${Date.now()}`;
    const busy = (await w.client.workflow.execute('janitor', { taskQueue: QUEUE, workflowId: busyId, args: [{ taskQueue: QUEUE, lookbackMs: 10 * 60_000 }] })) as JanitorResult;
    await recordHistory(busyId, 'janitor-busy-lock');
    const mine = busy.actions.filter((a) => a.workflowId === terminated.workflowId);
    assert.deepEqual(mine.map((a) => a.outcome), [`skipped: container ${NATS} is held by janitor ${other}; the next run retries`]);
    assert.deepEqual(busy.memory?.pending.map((k) => k.workflowId).filter((id) => id === terminated.workflowId), [terminated.workflowId], 'the fault is left pending');
    assert.equal((await containerState(NATS)).Paused, true, 'the busy container is not touched');

    await lock.signal('release');
    await lock.result();
    const free = (await w.client.workflow.execute('janitor', { taskQueue: QUEUE, workflowId: `janitor-free-${Date.now()}`, args: [{ taskQueue: QUEUE, lookbackMs: 10 * 60_000 }] })) as JanitorResult;
    assert.deepEqual(free.actions.filter((a) => a.workflowId === terminated.workflowId).map((a) => a.outcome), [`unpaused container ${NATS}`]);
    assert.equal((await containerState(NATS)).Paused, false);
  });

  test('a Toxiproxy that does not answer is reported unreachable and retried; once its proxy is gone, nothing is left to revert', async () => {
    const upstream = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    let toxiproxy: ChildProcess | undefined = await startToxiproxy();
    try {
      const created = await fetch(`${TOXI_API}/proxies`, { method: 'POST', body: JSON.stringify({ name: 'jan', listen: TOXI_LISTEN, upstream: `127.0.0.1:${(upstream.address() as AddressInfo).port}` }) });
      assert.ok(created.ok, `creating the proxy: ${created.status}`);
      const probe = { kind: 'http' as const, url: `http://${TOXI_LISTEN}/`, timeout: '2s' };
      const handle = await w.start({
        spec: {
          id: 'janitor-toxiproxy',
          title: 'latency on a proxy',
          hypothesis: 'the upstream answers through the proxy',
          targets: { up: { kind: 'toxiproxy', api: TOXI_API, proxy: 'jan' } },
          steadyState: [{ name: 'upstream answers', probe, expect: { status: { equals: 200 } } }],
          method: [{ fault: { kind: 'toxiproxy-latency', target: 'up', latency: '200ms' }, duration: '5m' }],
          observe: { interval: '1s', probes: [{ name: 'upstream during the fault', probe }] },
          recovery: { within: '10s', interval: '500ms' },
        },
      });
      const toxics = async (): Promise<unknown[]> => (await (await fetch(`${TOXI_API}/proxies/jan/toxics`)).json()) as unknown[];
      await eventually('the toxic to be in place', async () => (await toxics()).length === 1, 30_000);
      await handle.terminate('testing the janitor on an unreachable Toxiproxy');
      await stop(toxiproxy);

      const run = async (): Promise<JanitorResult> =>
        (await w.client.workflow.execute('janitor', { taskQueue: QUEUE, workflowId: `janitor-toxi-${Date.now()}`, args: [{ taskQueue: QUEUE, lookbackMs: 10 * 60_000 }] })) as JanitorResult;
      const down = await run();
      const mine = down.actions.filter((a) => a.workflowId === handle.workflowId);
      assert.equal(mine.length, 1);
      assert.match(mine[0].outcome, new RegExp(`^revert failed, the next run retries: Toxiproxy at ${TOXI_API} \\(DELETE /proxies/jan/toxics/gameday-[0-9a-f]{8}-f1\\) is unreachable: .*ECONNREFUSED`));
      assert.ok(down.memory?.pending.some((k) => k.workflowId === handle.workflowId), 'the fault is left pending');

      // A restarted Toxiproxy has lost its proxies (they live in its memory): the proxy is gone.
      toxiproxy = await startToxiproxy();
      const up = await run();
      assert.deepEqual(up.actions.filter((a) => a.workflowId === handle.workflowId).map((a) => a.outcome), ['proxy jan no longer exists: nothing to revert']);
    } finally {
      await stop(toxiproxy);
      upstream.closeAllConnections();
      await new Promise((r) => upstream.close(r));
    }
  });

  test('a reset run is left to its new run while that one runs, which rolls the fault back itself', async () => {
    const handle = await w.start(pause('janitor-reset', nats.url));
    await eventually('the run to observe, its fault in place', async () => (await handle.query<ExperimentStatus>('status')).stage === 'observe', 30_000);
    assert.equal((await containerState(NATS)).Paused, true);
    const old = (await handle.describe()).runId;
    const events = (await handle.fetchHistory()).events ?? [];
    const lastTask = [...events].reverse().find((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)!;
    await w.client.workflowService.resetWorkflowExecution({
      namespace: w.config.namespace,
      workflowExecution: { workflowId: handle.workflowId, runId: old },
      reason: 'testing the janitor on a reset run',
      workflowTaskFinishEventId: lastTask.eventId,
      requestId: randomUUID(),
    });
    await eventually('the new run to start', async () => (await w.client.workflow.getHandle(handle.workflowId).describe()).runId !== old);
    const run = async (): Promise<JanitorResult> =>
      (await w.client.workflow.execute('janitor', { taskQueue: QUEUE, workflowId: `janitor-reset-${Date.now()}`, args: [{ taskQueue: QUEUE, lookbackMs: 10 * 60_000 }] })) as JanitorResult;

    const during = (await run()).actions.filter((a) => a.workflowId === handle.workflowId);
    assert.equal(during.length, 1);
    assert.match(during[0].outcome, /^skipped: the run was reset and its new run \S+ is running; the next run retries$/);
    assert.equal((await containerState(NATS)).Paused, true, 'the new run keeps its fault');

    const latest = w.client.workflow.getHandle(handle.workflowId);
    await latest.signal('abort', 'done');
    assert.equal(((await latest.result()) as ExperimentResult).verdict, 'aborted');
    assert.equal((await containerState(NATS)).Paused, false, 'the new run rolled back');
  });

  test('many workers ensuring the schedule at once: one creates it, none fails', async () => {
    const id = `${SCHEDULE}-race`;
    await w.client.schedule.getHandle(id).delete().catch(() => undefined);
    try {
      const wanted = janitorSchedule(QUEUE, { scheduleId: id, onlyTaskQueue: QUEUE });
      const outcomes = await Promise.all(Array.from({ length: 6 }, () => ensureJanitorSchedule(w.client, wanted)));
      assert.deepEqual(outcomes.filter((o) => o === 'created'), ['created']);
      assert.equal(await ensureJanitorSchedule(w.client, wanted), 'present');
    } finally {
      await w.client.schedule.getHandle(id).delete().catch(() => undefined);
    }
  });

  test('a run terminated through the client, nothing typed after, has its fault reverted within 30 s by the schedule its worker keeps', async () => {
    keeper = await startWorker('janitor-keeper', { taskQueue: QUEUE, janitorSchedule: { scheduleId: SCHEDULE, onlyTaskQueue: QUEUE } });
    const desc = await w.client.schedule.getHandle(SCHEDULE).describe();
    assert.equal(desc.policies.overlap, 'SKIP');
    assert.deepEqual(desc.spec.intervals?.map((i) => i.every), [10_000]);
    assert.equal(desc.action.type === 'startWorkflow' && desc.action.workflowType, 'janitor');

    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      await eventually('the container free of any lock', () => lockFree(w.client, containerId), 30_000);
      const handle = await w.start(pause(`janitor-terminated-${i}`, nats.url));
      await eventually('the container to be paused', async () => (await containerState(NATS)).Paused, 30_000);
      await handle.terminate('terminated from the client; nothing typed after');
      const closed = Date.now();
      await eventually('the worker-kept janitor to unpause the container', async () => !(await containerState(NATS)).Paused, 45_000);
      delays.push(Date.now() - closed);
      terminated.push(handle.workflowId);
    }
    console.log(`janitor delay after terminate (ms): ${delays.join(', ')}`);
    assert.ok(delays.every((d) => d < 45_000), `every delay under 30 s (45 s with a margin for a noisy machine): ${delays.join(', ')}`);
    assert.equal((await containerState(NATS)).Running, true, 'docker inspect says running again');
  });

  test('a run that times out (workflow execution timeout) has its fault reverted by the same schedule', async () => {
    await eventually('the container free of any lock', () => lockFree(w.client, containerId), 30_000);
    const handle = await w.client.workflow.start('experiment', {
      taskQueue: QUEUE,
      workflowId: `janitor-timeout-${process.pid}-${Date.now()}`,
      workflowTaskTimeout: '2s',
      workflowExecutionTimeout: '8s',
      args: [pause('janitor-timeout', nats.url)],
    });
    await eventually('the container to be paused', async () => (await containerState(NATS)).Paused, 30_000);
    await eventually('the run to time out', async () => (await handle.describe()).status.name === 'TIMED_OUT', 30_000);
    const closed = (await handle.describe()).closeTime!.getTime();
    await eventually('the worker-kept janitor to unpause the container', async () => !(await containerState(NATS)).Paused, 45_000);
    const delay = Date.now() - closed;
    console.log(`janitor delay after a workflow timeout (ms): ${delay}`);
    assert.ok(delay < 45_000, `under 30 s (45 s with a margin): ${delay}`);
  });

  test('a later run of the schedule does not act again on a fault it handled: it reports it as already handled', async () => {
    assert.ok(terminated.length > 0, 'the previous test terminated runs');
    // The newest scheduled run that handled one of them (reverted it, or found nothing left to revert).
    const handledOne = (r: { result: JanitorResult }) => r.result.actions.find((a) => terminated.includes(a.workflowId) && !/^(revert failed|skipped)/.test(a.outcome));
    const reverted = await eventually('a scheduled run that handled a terminated run\'s fault', async () => (await scheduledRuns(w.client)).reverse().find(handledOne), 30_000);
    const terminatedId = handledOne(reverted)!.workflowId;
    const later = await eventually('a later completed run of the schedule', async () => (await scheduledRuns(w.client)).find((r) => r.takenAt > reverted.takenAt), 30_000);
    await recordHistory(reverted.workflowId, 'janitor-scheduled');
    assert.deepEqual(later.result.actions.filter((a) => a.workflowId === terminatedId), [], 'the later run does not list it');
    assert.equal(later.result.previous, reverted.workflowId, 'it starts from the memory of the run that reverted it');
    assert.ok((later.result.alreadyHandled ?? 0) >= 1, 'it counts the fault as already handled');
    assert.ok(later.result.memory?.handled.some((k) => k.workflowId === terminatedId), 'and hands the memory on');
  });
});
