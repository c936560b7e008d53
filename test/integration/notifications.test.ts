/**
 * Notifications against local receivers (node http servers in this process): who is told of a
 * verdict, the body they get, retries of a receiver that fails, and that no receiver, however
 * slow, holds up a result or a revert. The experiments pause a sleeper container of their own.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import Docker from 'dockerode';
import type { Experiment } from '../../src/spec/schema';
import type { NotifySpec } from '../../src/notify/rules';
import { TRIGGER_MEMO } from '../../src/search-attributes';
import { dockerProxy } from '../docker-proxy';
import { containerState, eventually, recordHistory, removeContainer, startOkServer, startSleeper, startWorker, type ExperimentResult, type TestWorker } from '../helpers';
import { startReceiver } from '../webhook-receiver';

const BOX = 'h-ntf-box';

describe('notifications', () => {
  let w: TestWorker;
  let ok: Awaited<ReturnType<typeof startOkServer>>;
  const closing: (() => Promise<void>)[] = [];
  let workerHook: Awaited<ReturnType<typeof startReceiver>>;
  let workerAnswers: number[] = [];

  /** A pause of the sleeper for a second; `failing` adds an expectation the pause cannot meet. */
  const spec = (id: string, notify: NotifySpec[], failing = false): Experiment => ({
    id,
    title: `notify ${id}`,
    hypothesis: 'the server answers throughout',
    targets: { box: { kind: 'docker', container: BOX } },
    steadyState: [{ name: 'server answers', probe: { kind: 'http', url: ok.url, timeout: '1s' }, expect: { status: { equals: 200 } } }],
    method: [{ fault: { kind: 'docker-pause', target: 'box' }, duration: '1s' }],
    ...(failing ? { observe: { interval: '500ms', probes: [{ name: 'server says 500', probe: { kind: 'http', url: ok.url, timeout: '1s' }, expect: { status: { equals: 500 } } }] } } : {}),
    recovery: { within: '5s', interval: '200ms' },
    ...(notify.length ? { notify } : {}),
  });
  const receiver = async (...args: Parameters<typeof startReceiver>): ReturnType<typeof startReceiver> => {
    const r = await startReceiver(...args);
    closing.push(r.close);
    return r;
  };
  const id = (name: string): string => `h-ntf-${name}-${Date.now()}`;
  const notifyChild = (h: WorkflowHandle, runId: string): WorkflowHandle => w.client.workflow.getHandle(`${h.workflowId}-notify-${runId}`);
  const runIdOf = async (h: WorkflowHandle): Promise<string> => (await h.describe()).runId;

  before(async () => {
    ok = await startOkServer();
    await startSleeper(BOX);
    // The worker's own webhook (GAMEDAY_NOTIFY_*): Slack format, passed runs started with `gameday run`.
    workerHook = await receiver((n) => workerAnswers[n - 1] ?? 200);
    w = await startWorker('h-ntf', { taskQueue: `h-ntf-${process.pid}`, deps: { notify: { url: workerHook.url, format: 'slack', on: ['passed'], triggers: ['cli'] } } });
  });
  after(async () => {
    await w?.stop();
    await Promise.all(closing.map((c) => c()));
    ok?.close();
    await removeContainer(BOX);
  });

  test('a scheduled run that fails tells the experiment’s webhook once, by default, with the verdict, title, workflow id, run link and report path', async () => {
    const hook = await receiver();
    // A secret reference, read by the worker that sends (this process).
    process.env.H_NTF_HOOK = hook.url;
    const handle = await w.start({ spec: spec('h-ntf-failed', [{ url: '${env:H_NTF_HOOK}' }], true), trigger: 'schedule' }, id('failed'));
    await assert.rejects(handle.result(), (e: Error) => /^verdict failed/.test((e.cause as Error).message));
    const runId = await runIdOf(handle);
    const child = notifyChild(handle, runId);
    assert.deepEqual(await child.result(), { sentTo: [hook.url.replace(/\/hooks.*/, '/***')] });
    await recordHistory(handle.workflowId, 'notified');
    for (const h of [handle, child]) assert.ok(!JSON.stringify(await h.fetchHistory()).includes(hook.url), `the webhook's URL is not in ${h.workflowId}'s history`);
    assert.equal(hook.received.length, 1, 'exactly one notification');
    const body = hook.received[0].body;
    assert.equal(body.kind, 'gameday.notification');
    assert.equal(body.event, 'failed');
    assert.equal(body.title, 'notify h-ntf-failed');
    assert.equal(body.experimentId, 'h-ntf-failed');
    assert.equal(body.workflowId, handle.workflowId);
    assert.equal(body.runId, runId);
    assert.equal(body.trigger, 'schedule');
    assert.equal(body.rollback, 'complete');
    assert.equal(body.temporalUrl, `http://127.0.0.1:8233/namespaces/default/workflows/${handle.workflowId}`);
    assert.ok(existsSync(body.reportPath as string), `the report is where the notification says: ${String(body.reportPath)}`);
    assert.equal(workerHook.received.length, 0, "the worker's webhook wants passed runs of the CLI only");
  });

  test('the same failed run started from the Web UI tells no one: no notification workflow is even started', async () => {
    const hook = await receiver();
    const handle = await w.start({ spec: spec('h-ntf-ui', [{ url: hook.url }], true) }, id('ui'));
    const result = (await handle.result()) as ExperimentResult;
    assert.equal(result.verdict, 'failed');
    const events = (await handle.fetchHistory()).events ?? [];
    assert.equal(events.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name === 'notify').length, 0);
    assert.equal(hook.received.length, 0);
  });

  test('a receiver that answers 500 twice gets the notification on the third try (the worker’s Slack webhook, for a passed run from the CLI)', async () => {
    workerAnswers = [500, 500, 200];
    // Marked as `gameday run` marks its runs.
    const handle = await w.client.workflow.start('experiment', { taskQueue: w.taskQueue, workflowId: id('retried'), args: [{ spec: spec('h-ntf-retried', []) }], memo: { [TRIGGER_MEMO]: 'cli' } });
    assert.equal(((await handle.result()) as ExperimentResult).verdict, 'passed');
    const child = notifyChild(handle, await runIdOf(handle));
    await child.result();
    assert.ok(!JSON.stringify(await child.fetchHistory()).includes(workerHook.url), "the worker's webhook URL is not in the history");
    assert.equal(workerHook.received.length, 3);
    const [first, , third] = workerHook.received.map((r) => r.body);
    assert.deepEqual(third, first, 'each try sends the same message');
    assert.equal(third.text, `Experiment passed: notify h-ntf-retried (${handle.workflowId})`);
    assert.ok(JSON.stringify(third.blocks).includes(`/workflows/${handle.workflowId}|${handle.workflowId}>`));
  });

  test('a receiver that never answers does not hold up the result: the run ends while its notification is still being tried', async () => {
    const hook = await receiver(() => 'hang');
    const handle = await w.start({ spec: spec('h-ntf-hang', [{ url: hook.url, on: ['passed'], triggers: ['web-ui'] }]) }, id('hang'));
    assert.equal(((await handle.result()) as ExperimentResult).verdict, 'passed');
    const child = notifyChild(handle, await runIdOf(handle));
    assert.equal((await child.describe()).status.name, 'RUNNING', 'the notification is still being tried after the run ended');
    await eventually('the receiver to get the first try', async () => hook.received.length >= 1);
    await child.terminate('test over');
  });

  test('a revert that keeps failing tells rollbackFailing; a receiver that never answers does not delay the revert', async () => {
    const proxy = await dockerProxy();
    // The receiver never answers; the moment the first try arrives, the Docker engine comes back.
    const hook = await receiver(() => 'hang', () => void proxy.restore());
    const flaky = await startWorker('h-ntf-flaky', { taskQueue: `h-ntf-flaky-${process.pid}`, deps: { docker: new Docker({ socketPath: proxy.socketPath }) } });
    try {
      const handle = await flaky.start({ spec: spec('h-ntf-rollback', [{ url: hook.url, on: ['rollbackFailing'] }]) }, id('rollback'));
      await eventually('the container to be paused', async () => (await containerState(BOX)).Paused);
      await proxy.cut();
      const told = await eventually('a rollbackFailing notification', async () => hook.received[0]?.body, 30_000);
      assert.equal(told.event, 'rollbackFailing');
      assert.equal(told.workflowId, handle.workflowId);
      assert.deepEqual({ ...(told.fault as object), since: undefined }, { id: 'f1', description: `pause container ${BOX}`, attempts: 3, since: undefined });
      assert.equal(((await handle.result()) as ExperimentResult).rollback, 'complete');
      const revertedAt = Date.now();
      assert.equal((await containerState(BOX)).Paused, false);
      // The attempt that told the webhook ended on its own error, at once: had it waited for the
      // receiver, it would have ended by its heartbeat timeout instead.
      const events = (await handle.fetchHistory()).events ?? [];
      const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'revertFault');
      const started = events.find((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(scheduled?.eventId))?.activityTaskStartedEventAttributes;
      assert.equal(started?.attempt, 4, 'the revert succeeded on the attempt after the one that told');
      assert.ok(!started?.lastFailure?.timeoutFailureInfo, `attempt 3 ended by: ${started?.lastFailure?.message}`);
      assert.match(started?.lastFailure?.message ?? '', /unreachable/);
      // Three tries of 5 s each: the last one starts about 11 s after the first.
      await eventually('the notification’s third try', async () => hook.received.length >= 3, 30_000);
      assert.ok(revertedAt < hook.received[2].at, 'the revert happened before the notification’s tries were over');
    } finally {
      await proxy.restore();
      await flaky.stop();
      await proxy.cut();
    }
  });
});
