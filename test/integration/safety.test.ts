/**
 * Safety before anything is injected: targets opt in, blast radius (pick, maxTargets), dry runs,
 * one experiment per container at a time (locks, across workers), and guardrails that stop an
 * experiment at once. Real containers, real Temporal.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { after, before, describe, test } from 'node:test';
import type { ExperimentResult, ExperimentStatus, Journal } from '../../src/types';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { lockId } from '../../workflows/lock';
import { containerState, docker, eventually, gameday, pauseExperiment, quietLogger, recordHistory, removeContainer, startNats, startWorker, type TestWorker } from '../helpers';

const NATS = 'gameday-test-safety-nats';
const PORT = 14308;
const SLEEPERS = ['gameday-test-sleeper-1', 'gameday-test-sleeper-2', 'gameday-test-sleeper-3'];
const UNLABELLED = 'gameday-test-unlabelled';

async function sleeper(name: string, labels: Record<string, string>): Promise<void> {
  await removeContainer(name);
  const c = await docker.createContainer({ name, Image: 'gameday/busybox:local', Cmd: ['sleep', '3600'], Labels: labels });
  await c.start();
}

describe('safety', () => {
  let w: TestWorker;
  let nats: Awaited<ReturnType<typeof startNats>>;

  before(async () => {
    nats = await startNats(NATS, PORT);
    for (const name of SLEEPERS) await sleeper(name, { 'gameday.enabled': 'true', 'gameday.test-group': 'sleepers' });
    await sleeper(UNLABELLED, {});
    w = await startWorker('safety');
  });
  after(async () => {
    await w?.stop();
    await nats?.remove();
    for (const name of [...SLEEPERS, UNLABELLED]) await removeContainer(name);
  });

  test('a container that has not opted in is refused before anything is injected, naming it', async () => {
    const spec = pauseExperiment('not-opted-in', UNLABELLED, nats.url);
    const result = (await (await w.start({ spec })).result()) as ExperimentResult;
    assert.equal(result.verdict, 'error');
    assert.match(result.reason, /target 'nats': container gameday-test-unlabelled has not opted in to experiments: label it gameday\.enabled=true/);
    assert.equal(result.rollback, 'nothing-injected');
    assert.equal((await containerState(UNLABELLED)).Paused, false);
  });

  test('the worker allowlist lets a container without the label be targeted', async () => {
    const allowing = await startWorker('allowlist', { deps: { allowedTargets: [UNLABELLED] } });
    try {
      const spec = pauseExperiment('allowlisted', UNLABELLED, nats.url, '1s');
      const result = (await (await allowing.start({ spec })).result()) as ExperimentResult;
      assert.equal(result.verdict, 'passed', result.reason);
      assert.equal((await containerState(UNLABELLED)).Running, true);
    } finally {
      await allowing.stop();
    }
  });

  test('--dry-run prints the resolved targets and faults, and injects nothing', async () => {
    const spec = pauseExperiment('dry', NATS, nats.url, '30s');
    spec.targets.nats = { kind: 'docker', labels: { 'gameday.test-group': 'sleepers' } };
    spec.method[0].maxTargets = 3;
    const tmp = path.join(os.tmpdir(), `dry-${Date.now()}.json`);
    await writeFile(tmp, JSON.stringify(spec));
    const run = await gameday(['run', tmp, '--dry-run']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /dry run of dry — .*: nothing will be injected/);
    assert.match(run.stdout, /nats: containers with labels gameday\.test-group=sleepers → gameday-test-sleeper-1, gameday-test-sleeper-2, gameday-test-sleeper-3/);
    assert.match(run.stdout, /1\. pause containers gameday-test-sleeper-1, gameday-test-sleeper-2, gameday-test-sleeper-3 for 30s/);
    for (const name of SLEEPERS) assert.equal((await containerState(name)).Paused, false);
  });

  test('pick: { count: 1 } pauses exactly one of the matching containers', async () => {
    const spec = pauseExperiment('pick-one', NATS, nats.url, '3s');
    spec.targets.nats = { kind: 'docker', labels: { 'gameday.test-group': 'sleepers' }, pick: { count: 1 } };
    const handle = await w.start({ spec });
    await eventually('observe', async () => (await handle.query<ExperimentStatus>('status')).stage === 'observe');
    const paused = (await Promise.all(SLEEPERS.map(async (n) => (await containerState(n)).Paused))).filter(Boolean);
    assert.equal(paused.length, 1, 'exactly one container paused');
    const result = (await handle.result()) as ExperimentResult;
    assert.equal(result.rollback, 'complete');
    for (const name of SLEEPERS) assert.equal((await containerState(name)).Paused, false);
  });

  test('a fault that would touch more containers than its maxTargets is refused, nothing injected', async () => {
    const spec = pauseExperiment('too-wide', NATS, nats.url);
    spec.targets.nats = { kind: 'docker', labels: { 'gameday.test-group': 'sleepers' } };
    spec.method[0].maxTargets = 2;
    const result = (await (await w.start({ spec })).result()) as ExperimentResult;
    assert.equal(result.verdict, 'error');
    assert.match(result.reason, /would touch 3 containers, more than its maxTargets of 2/);
    for (const name of SLEEPERS) assert.equal((await containerState(name)).Paused, false);
  });

  test('two experiments never inject into the same container at once, even on two workers: the second is refused', async () => {
    const second = await startWorker('safety-second', { taskQueue: w.taskQueue });
    try {
      const first = await w.start({ spec: pauseExperiment('lock-first', NATS, nats.url, '5m') });
      await eventually('the first to pause the container', async () => (await containerState(NATS)).Paused);
      const refusedHandle = await w.start({ spec: pauseExperiment('lock-second', NATS, nats.url, '1s') });
      const refused = (await refusedHandle.result()) as ExperimentResult;
      await recordHistory(refusedHandle.workflowId, 'lock-refused');
      assert.equal(refused.verdict, 'not-run');
      assert.match(refused.reason, /container gameday-test-safety-nats is held by another experiment; nothing injected/);
      assert.equal((await containerState(NATS)).Paused, true, 'the first experiment keeps its fault');
      await first.signal('abort', 'lock test done');
      await first.result();
    } finally {
      await second.stop();
    }
  });

  test("a run's locks end as it closes, without a release, and the next run on the container at once is not refused", async () => {
    const first = await w.start({ spec: pauseExperiment('lock-close-first', NATS, nats.url, '1s') });
    const firstResult = (await first.result()) as ExperimentResult;
    const second = (await (await w.start({ spec: pauseExperiment('lock-close-second', NATS, nats.url, '1s') })).result()) as ExperimentResult;
    assert.equal(firstResult.verdict, 'passed', firstResult.reason);
    assert.equal(second.verdict, 'passed', second.reason);
    const events = (await first.fetchHistory()).events ?? [];
    assert.ok(!events.some((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes), 'no release signal');
    const lock = events.find((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)?.startChildWorkflowExecutionInitiatedEventAttributes;
    const started = events.find((e) => e.childWorkflowExecutionStartedEventAttributes)?.childWorkflowExecutionStartedEventAttributes;
    assert.ok(lock?.workflowId && started?.workflowExecution?.runId);
    const ended = await w.client.workflow.getHandle(lock.workflowId, started.workflowExecution.runId).describe();
    assert.equal(ended.status.name, 'TERMINATED', 'ended by the parent close policy as the run closed');
    assert.equal((await containerState(NATS)).Paused, false);
  });

  test('a lock whose holder has closed without ending it is ended by the next run, which then runs', async () => {
    const container = await docker.getContainer(NATS).inspect();
    const id = lockId({ id: container.Id, name: NATS });
    const queue = `${w.taskQueue}-leave-lock`;
    const leaver = await Worker.create({ taskQueue: queue, workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows/leave-lock'), logger: quietLogger }) });
    const left = await leaver.runUntil(async () => {
      const h = await w.client.workflow.start('leaveLock', { taskQueue: queue, workflowId: `leave-lock-${Date.now()}`, args: [{ lockWorkflowId: id, taskQueue: w.taskQueue, container: NATS }] });
      await h.result();
      return (await w.client.workflow.getHandle(id).describe()).runId;
    });
    assert.equal((await w.client.workflow.getHandle(id, left).describe()).status.name, 'RUNNING', 'the lock outlives its holder');
    const handle = await w.start({ spec: pauseExperiment('lock-left-over', NATS, nats.url, '1s') });
    const result = (await handle.result()) as ExperimentResult;
    assert.equal(result.verdict, 'passed', result.reason);
    const orphan = w.client.workflow.getHandle(id, left);
    assert.equal((await orphan.describe()).status.name, 'TERMINATED');
    const end = (await orphan.fetchHistory()).events?.at(-1)?.workflowExecutionTerminatedEventAttributes;
    assert.match(end?.reason ?? '', /its holder leave-lock-\d+ has closed/);
    assert.equal((await containerState(NATS)).Paused, false);
  });

  test('with lock.whenBusy: wait, the second experiment waits for the first and then runs', async () => {
    const first = await w.start({ spec: pauseExperiment('wait-first', NATS, nats.url, '3s') });
    await eventually('the first to pause the container', async () => (await containerState(NATS)).Paused);
    const spec = { ...pauseExperiment('wait-second', NATS, nats.url, '1s'), lock: { whenBusy: 'wait' as const, waitAtMost: '1m' } };
    const secondHandle = await w.start({ spec });
    const firstResult = (await first.result()) as ExperimentResult;
    const secondResult = (await secondHandle.result()) as ExperimentResult;
    await recordHistory(secondHandle.workflowId, 'lock-wait');
    assert.equal(firstResult.verdict, 'passed', firstResult.reason);
    assert.equal(secondResult.verdict, 'passed', secondResult.reason);
    const journal = JSON.parse(await readFile(path.join(secondResult.reportDir, 'journal.json'), 'utf8')) as Journal;
    assert.ok(journal.events.some((e) => e.message === `waiting for container ${NATS}: another experiment holds it`));
    const firstJournal = JSON.parse(await readFile(path.join(firstResult.reportDir, 'journal.json'), 'utf8')) as Journal;
    assert.ok(Date.parse(journal.rollback.faults[0].injectedAt!) > Date.parse(firstJournal.rollback.faults[0].revertedAt!), 'the second injected after the first reverted');
    // A waiter takes its baseline once it holds the lock, not before the wait: in its activity.
    const events = (await secondHandle.fetchHistory()).events ?? [];
    const baselineAt = Number(events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'probeBaseline')?.eventId);
    const lockStarted = events.filter((e) => e.childWorkflowExecutionStartedEventAttributes).map((e) => Number(e.eventId));
    assert.ok(baselineAt > lockStarted[lockStarted.length - 1], `the baseline scheduled (event ${baselineAt}) after the lock started (events ${lockStarted.join(', ')})`);
  });
});

describe('guardrails', () => {
  let w: TestWorker;
  let nats: Awaited<ReturnType<typeof startNats>>;
  let server: http.Server;
  let healthUrl: string;
  let slowAfter = Infinity;

  before(async () => {
    nats = await startNats(NATS, PORT);
    w = await startWorker('guardrails');
    server = http.createServer((_req, res) => {
      if (Date.now() > slowAfter) setTimeout(() => res.end('slow'), 600);
      else res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    healthUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
  });
  after(async () => {
    server?.close();
    await w?.stop();
    await nats?.remove();
  });

  test('a guardrail breached during observe aborts at once; the report names it, its value and the time', async () => {
    const spec = {
      ...pauseExperiment('guardrail', NATS, nats.url, '5m'),
      guardrails: [{ name: 'health answers fast', probe: { kind: 'http' as const, url: healthUrl, timeout: '2s' }, abortWhen: { latencyMs: { atLeast: 400 } }, interval: '300ms' }],
    };
    const handle = await w.start({ spec });
    await eventually('the container to be paused', async () => (await containerState(NATS)).Paused);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await containerState(NATS)).Paused, true, 'the guardrail holds while the health endpoint is fast');
    slowAfter = Date.now();
    const result = (await handle.result()) as ExperimentResult;
    await recordHistory(handle.workflowId, 'guardrail-breach');
    assert.equal(result.verdict, 'aborted');
    assert.match(result.reason, /guardrail 'health answers fast' breached at \S+: latencyMs \d+ \(abort when at least 400\)/);
    assert.equal((await containerState(NATS)).Paused, false);
    const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
    assert.equal(journal.breach?.guardrail, 'health answers fast');
    assert.ok(Number(/latencyMs (\d+)/.exec(journal.breach!.observed)?.[1]) >= 400);
    const report = await readFile(path.join(result.reportDir, 'report.md'), 'utf8');
    assert.match(report, /\| health answers fast \| \d+ \| BREACHED at \S+: latencyMs \d+ \(abort when latencyMs at least 400\) \|/);
  });
});
