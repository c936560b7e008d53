/**
 * The rollback guarantees that do not need a dead worker: a revert that keeps failing (the Docker
 * engine unreachable from the worker), a terminated experiment cleaned up by the janitor, the big
 * red button (`abort --all`), and a Temporal server restarted mid-experiment.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Connection } from '@temporalio/client';
import Docker from 'dockerode';
import { connect, StringCodec } from 'nats';
import { loadConfig } from '../../src/config';
import { connectClient } from '../../src/temporal';
import { createWorker } from '../../src/worker';
import type { ExperimentResult, ExperimentStatus } from '../../src/types';
import type { JanitorResult } from '../../workflows/janitor';
import { dockerProxy } from '../docker-proxy';
import { containerState, eventually, gameday, pauseExperiment, recordHistory, startNats, startWorker, workflowBundle, type TestWorker } from '../helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const NATS = 'gameday-test-rollback-nats';
const PORT = 14305;
const OTHER = 'gameday-test-rollback-other';
const OTHER_PORT = 14306;

describe('rollback guarantees', () => {
  let w: TestWorker;
  let nats: Awaited<ReturnType<typeof startNats>>;
  let other: Awaited<ReturnType<typeof startNats>>;

  before(async () => {
    nats = await startNats(NATS, PORT);
    other = await startNats(OTHER, OTHER_PORT);
    w = await startWorker('rollback');
  });
  after(async () => {
    await w?.stop();
    await nats?.remove();
    await other?.remove();
  });

  test('a revert that keeps failing is retried until it succeeds, and says so meanwhile: status, search attribute, NATS event', async () => {
    const proxy = await dockerProxy();
    // Events go to the other NATS server, which this experiment does not pause.
    const events = await connect({ servers: other.url });
    const seen: string[] = [];
    const sub = events.subscribe('gameday.events.>');
    void (async () => {
      for await (const m of sub) seen.push(`${m.subject} ${StringCodec().decode(m.data)}`);
    })();
    const flaky = await startWorker('flaky-docker', { deps: { docker: new Docker({ socketPath: proxy.socketPath }), eventsNatsUrl: other.url } });
    try {
      const handle = await flaky.start({ spec: pauseExperiment('rollback-failing', NATS, nats.url, '1s') });
      await eventually('the container to be paused', async () => (await containerState(NATS)).Paused);
      await proxy.cut();
      const failing = await eventually('the status query to report the failing rollback', async () => {
        const s = await handle.query<ExperimentStatus>('status');
        return s.rollbackFailing && s.rollbackFailing.attempts >= 2 && s;
      }, 30_000);
      assert.equal(failing.rollbackFailing!.description, `pause container ${NATS}`);
      assert.equal((await containerState(NATS)).Paused, true, 'the fault really is still in place');
      assert.equal((await handle.describe()).status.name, 'RUNNING', 'the experiment does not end with a fault in place');
      const listed = await eventually('the search attribute to find the run', async () => {
        for await (const wf of flaky.client.workflow.list({ query: `GamedayRollbackFailing = true AND WorkflowId = '${handle.workflowId}'` })) return wf;
        return undefined;
      });
      assert.equal(listed.workflowId, handle.workflowId);
      await eventually('a rollback-failing event on NATS', async () => seen.some((e) => e.startsWith('gameday.events.rollback-failing') && e.includes(handle.workflowId)));

      await proxy.restore();
      const result = (await handle.result()) as ExperimentResult;
      await recordHistory(handle.workflowId, 'rollback-failing');
      assert.equal(result.rollback, 'complete');
      assert.equal((await containerState(NATS)).Paused, false);
      await eventually('an experiment-finished event', async () => seen.some((e) => e.startsWith('gameday.events.experiment-finished') && e.includes(handle.workflowId)));
    } finally {
      await proxy.restore().catch(() => undefined);
      await flaky.stop();
      await proxy.cut();
      await events.close();
    }
  });

  test('a terminated experiment runs no rollback of its own; the janitor reverts what it left, and only once it is free', async () => {
    const handle = await w.start({ spec: pauseExperiment('terminated', NATS, nats.url, '5m') });
    await eventually('the container to be paused', async () => (await containerState(NATS)).Paused);
    await handle.terminate('testing the janitor');
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await containerState(NATS)).Paused, true, 'terminate leaves the fault in place');

    const janitorId = `janitor-${Date.now()}`;
    // Scoped to this file's task queue: a janitor of a test reverts no other test's faults.
    const result = await w.client.workflow.execute('janitor', { taskQueue: w.taskQueue, workflowId: janitorId, args: [{ lookbackMs: 10 * 60_000, taskQueue: w.taskQueue }] });
    await recordHistory(janitorId, 'janitor');
    const mine = (result as JanitorResult).actions.filter((a) => a.workflowId === handle.workflowId);
    assert.deepEqual(mine.map((a) => a.outcome), [`unpaused container ${NATS}`]);
    assert.equal((await containerState(NATS)).Paused, false);
  });

  test('the janitor leaves alone a container a running experiment holds', async () => {
    const terminated = await w.start({ spec: pauseExperiment('terminated-2', NATS, nats.url, '5m') });
    await eventually('the container to be paused', async () => (await containerState(NATS)).Paused);
    await terminated.terminate('testing the janitor with a lock held');
    await w.client.workflow.getHandle(terminated.workflowId).result().catch(() => undefined);
    await new Docker().getContainer(NATS).unpause();
    const running = await w.start({ spec: pauseExperiment('holder', NATS, nats.url, '5m') });
    await eventually('the new experiment to pause the container', async () => (await containerState(NATS)).Paused);

    const result = (await w.client.workflow.execute('janitor', { taskQueue: w.taskQueue, workflowId: `janitor-${Date.now()}`, args: [{ lookbackMs: 10 * 60_000, taskQueue: w.taskQueue }] })) as JanitorResult;
    const mine = result.actions.filter((a) => a.workflowId === terminated.workflowId);
    assert.equal(mine.length, 1);
    assert.equal(mine[0].outcome, `skipped: container gameday-test-rollback-nats is held by experiment ${running.workflowId}; the next run retries`);
    assert.equal((await containerState(NATS)).Paused, true, 'the running experiment keeps its fault');

    await running.signal('abort', 'done');
    assert.equal(((await running.result()) as ExperimentResult).verdict, 'aborted');
    assert.equal((await containerState(NATS)).Paused, false);
  });

  test('gameday janitor --schedule creates the schedule that runs the janitor, skipping overlaps', async () => {
    const cli = async (args: string[]): Promise<string> => {
      const run = await gameday(args, { GAMEDAY_TASK_QUEUE: w.taskQueue });
      assert.equal(run.code, 0, run.stderr);
      return run.stdout;
    };
    const handle = w.client.schedule.getHandle('gameday-janitor');
    await handle.delete().catch(() => undefined);
    try {
      assert.match(await cli(['janitor', '--schedule', '--every', '1m']), /created schedule gameday-janitor: the janitor runs every 60 s/);
      assert.match(await cli(['janitor', '--schedule', '--every', '2m']), /updated schedule gameday-janitor: the janitor runs every 120 s/);
      const desc = await handle.describe();
      assert.equal(desc.policies.overlap, 'SKIP');
      assert.equal(desc.action.type, 'startWorkflow');
      assert.equal(desc.action.type === 'startWorkflow' && desc.action.workflowType, 'janitor');
      await handle.trigger();
      const run = await eventually('the triggered janitor run', async () => (await handle.describe()).info.recentActions[0]?.action.workflow);
      const result = (await w.client.workflow.getHandle(run.workflowId).result()) as JanitorResult;
      assert.equal(typeof result.orphans, 'number');
    } finally {
      await handle.delete().catch(() => undefined);
    }
  });

  test('gameday abort --all halts every running experiment and reverts their faults', async () => {
    const a = await w.start({ spec: pauseExperiment('all-a', NATS, nats.url, '5m') });
    const b = await w.start({ spec: pauseExperiment('all-b', OTHER, other.url, '5m') });
    await eventually('both containers paused', async () => (await containerState(NATS)).Paused && (await containerState(OTHER)).Paused);
    const run = await gameday(['abort', '--all', '--reason', 'big red button']);
    assert.equal(run.code, 0, run.stderr);
    const out = run.stdout;
    assert.match(out, /abort sent to \d+ running experiment/);
    for (const h of [a, b]) {
      const result = (await h.result()) as ExperimentResult;
      assert.equal(result.verdict, 'aborted');
      assert.match(result.reason, /big red button/);
    }
    assert.equal((await containerState(NATS)).Paused, false);
    assert.equal((await containerState(OTHER)).Paused, false);
  });
});

describe('a Temporal server restarted mid-experiment', () => {
  const PORT_T = 17233;
  let dir: string;
  let server: ChildProcess | undefined;
  let nats: Awaited<ReturnType<typeof startNats>>;

  const cli = (): string => {
    const cached = path.join(ROOT, '.gameday', 'temporal-cli-path');
    return process.env.TEMPORAL_CLI_PATH ?? (existsSync(cached) ? readFileSync(cached, 'utf8').trim() : 'temporal');
  };
  async function startServer(): Promise<void> {
    server = spawn(cli(), ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(PORT_T), '--headless', '--db-filename', path.join(dir, 'temporal.db'), '--log-level', 'error'], { stdio: 'ignore' });
    await eventually('the second dev server to answer', async () => {
      const c = await Connection.connect({ address: `127.0.0.1:${PORT_T}`, connectTimeout: 1000 });
      await c.close();
      return true;
    }, 30_000);
  }
  async function stopServer(): Promise<void> {
    const s = server!;
    const exited = new Promise((r) => s.once('exit', r));
    s.kill('SIGTERM');
    await exited;
  }

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gameday-server-'));
    nats = await startNats('gameday-test-restart-nats', 14307);
    await startServer();
  });
  after(async () => {
    server?.kill('SIGKILL');
    await nats?.remove();
  });

  test('the experiment carries on after the server comes back, and completes with its rollback', async () => {
    const config = { ...loadConfig(), temporalAddress: `127.0.0.1:${PORT_T}`, taskQueue: 'restart', reportsDir: dir };
    const { worker, close } = await createWorker({ config, workflowBundle: await workflowBundle(), janitorSchedule: false });
    const running = worker.run();
    const client = await connectClient(config);
    try {
      const handle = await client.workflow.start('experiment', { workflowTaskTimeout: '2s', taskQueue: 'restart', workflowId: `restart-${Date.now()}`, args: [{ spec: pauseExperiment('restart', 'gameday-test-restart-nats', nats.url, '6s') }] });
      await eventually('the container to be paused', async () => (await containerState('gameday-test-restart-nats')).Paused);
      await stopServer();
      await new Promise((r) => setTimeout(r, 2000));
      await startServer();
      const result = (await handle.result()) as ExperimentResult;
      assert.equal(result.rollback, 'complete');
      assert.equal((await containerState('gameday-test-restart-nats')).Paused, false);
      assert.ok(['passed', 'failed'].includes(result.verdict), result.reason);
    } finally {
      worker.shutdown();
      await running;
      await close();
      await client.connection.close();
    }
  });
});
