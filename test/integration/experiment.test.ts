/**
 * The experiment workflow end to end, on the real Temporal dev server, the real Docker engine and
 * a real NATS server in a container.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Journal, ExperimentResult, ExperimentStatus } from '../../src/types';
import { containerState, eventually, pauseExperiment, recordHistory, startNats, startWorker, type TestWorker } from '../helpers';

const NATS = 'gameday-test-exp-nats';
const PORT = 14301;

describe('the experiment workflow', () => {
  let w: TestWorker;
  let nats: Awaited<ReturnType<typeof startNats>>;

  before(async () => {
    nats = await startNats(NATS, PORT);
    w = await startWorker('experiment');
  });
  after(async () => {
    await w?.stop();
    await nats?.remove();
  });

  test('pauses the container during observe, runs it again after rollback, and writes the report', async () => {
    const handle = await w.start({ spec: pauseExperiment('happy-path', NATS, nats.url, '3s') });
    // docker inspect during observe: the container really is paused.
    const during = await eventually('the status query to report the observe stage', async () => {
      const s = await handle.query<ExperimentStatus>('status');
      return s.stage === 'observe' && s;
    });
    assert.deepEqual(during.activeFaults.map((f) => f.description), [`pause container ${NATS}`]);
    assert.equal((await containerState(NATS)).Paused, true, 'docker inspect says paused during observe');

    const result = (await handle.result()) as ExperimentResult;
    await recordHistory(handle.workflowId, 'happy-path');
    assert.equal(result.verdict, 'passed', result.reason);
    assert.equal(result.rollback, 'complete');
    // The quick steps, as the history has them: the baseline round taken in the local activity
    // that plans and resolves, before the lock is started (BASELINE_HERE_PATCH), and the fault
    // reverted when due in a local activity of the timer's workflow task, with no revert activity
    // on the fault queue (QUICK_STEPS_PATCH).
    const events = (await handle.fetchHistory()).events ?? [];
    const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => ({ id: Number(e.eventId), type: e.activityTaskScheduledEventAttributes!.activityType!.name }));
    const lockInitiated = Number(events.find((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)?.eventId);
    const localAt = events.flatMap((e) => {
      const data = e.markerRecordedEventAttributes?.markerName === 'core_local_activity' ? e.markerRecordedEventAttributes.details?.data?.payloads?.[0]?.data : undefined;
      return data ? [{ id: Number(e.eventId), type: (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type: string }).activity_type }] : [];
    });
    const local = localAt.map((a) => a.type);
    assert.ok(!scheduled.some((a) => a.type === 'probeBaseline'), `no baseline activity: ${scheduled.map((a) => a.type).join(', ')}`);
    assert.ok(localAt[0].type === 'planAndResolve' && localAt[0].id < lockInitiated, `planned, resolved and the baseline taken before the lock: ${local.join(', ')}`);
    assert.ok(!scheduled.some((a) => a.type === 'revertFault'), `no revert activity: ${scheduled.map((a) => a.type).join(', ')}`);
    assert.ok(local.includes('revertFault'), `the due-time revert ran as a local activity: ${local.join(', ')}`);
    // The steady state held at its first verification round, taken in that same workflow task (QUICK_VERIFY_PATCH).
    assert.ok(local.includes('verifySteadyState') && !scheduled.some((a) => a.type === 'verifySteadyState'), `verified in a local activity: ${local.join(', ')}`);
    const state = await containerState(NATS);
    assert.equal(state.Paused, false, 'no longer paused after rollback');
    assert.equal(state.Running, true, 'running after rollback');

    const report = await readFile(path.join(result.reportDir, 'report.md'), 'utf8');
    for (const heading of ['Steady state definition', 'Experiment design', 'Execution results', 'Hypothesis vs reality', 'Remediation', 'Rollback record', 'Summary']) {
      assert.match(report, new RegExp(`## ${heading}`), `report.md has a ${heading} section`);
    }
    assert.match(report, /\| f1 \| pause container gameday-test-exp-nats \| reverted \|/);
    const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
    assert.equal(journal.verdict, 'passed');
    assert.ok(journal.observations.some((s) => s.error !== ''), 'probes during the pause recorded their failures');
    assert.ok(journal.verification.every((s) => s.ok), 'the steady state held after recovery');
    assert.deepEqual(journal.baseline.map((s) => [s.check, s.ok]), [[journal.plan!.spec.steadyState[0].name, true]], 'the baseline round of the local activity is in the report');
  });

  test('the abort signal during observe goes straight to rollback: verdict aborted, container running', async () => {
    const handle = await w.start({ spec: pauseExperiment('abort', NATS, nats.url, '5m') });
    await eventually('the container to be paused', async () => (await containerState(NATS)).Paused);
    await handle.signal('abort', 'the dashboard went red');
    const result = (await handle.result()) as ExperimentResult;
    await recordHistory(handle.workflowId, 'abort-signal');
    assert.equal(result.verdict, 'aborted');
    assert.match(result.reason, /the dashboard went red/);
    assert.equal(result.rollback, 'complete');
    assert.equal((await containerState(NATS)).Paused, false);
    const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
    assert.equal(journal.rollback.faults[0].status, 'reverted');
  });

  test('cancelling the workflow (as from the Web UI) rolls back too: verdict aborted', async () => {
    const handle = await w.start({ spec: pauseExperiment('cancel', NATS, nats.url, '5m') });
    await eventually('the container to be paused', async () => (await containerState(NATS)).Paused);
    await handle.cancel();
    const result = (await handle.result()) as ExperimentResult;
    await recordHistory(handle.workflowId, 'cancelled');
    assert.equal(result.verdict, 'aborted');
    assert.equal((await containerState(NATS)).Paused, false);
  });

  test('an unhealthy baseline injects nothing: verdict not-run with the reason', async () => {
    const spec = pauseExperiment('unhealthy', NATS, nats.url);
    spec.steadyState[0].probe = { kind: 'nats-stream', url: nats.url, stream: 'no-such-stream', timeout: '1s' };
    const handle = await w.start({ spec });
    const result = (await handle.result()) as ExperimentResult;
    await recordHistory(handle.workflowId, 'not-run');
    assert.equal(result.verdict, 'not-run');
    assert.match(result.reason, /stream answers/);
    assert.equal(result.rollback, 'nothing-injected');
    assert.equal((await containerState(NATS)).Paused, false, 'never paused');
    const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
    assert.equal(journal.rollback.faults.length, 0);
    assert.ok(!journal.events.some((e) => e.stage === 'inject'), 'no inject stage');
  });

  test('a target that does not exist fails clearly, with nothing injected', async () => {
    const spec = pauseExperiment('missing-target', 'gameday-no-such-container', nats.url);
    const handle = await w.start({ spec });
    const result = (await handle.result()) as ExperimentResult;
    await recordHistory(handle.workflowId, 'target-not-found');
    assert.equal(result.verdict, 'error');
    assert.match(result.reason, /target 'nats': no container gameday-no-such-container found/);
    assert.equal(result.rollback, 'nothing-injected');
    assert.equal((await containerState(NATS)).Paused, false);
  });

  test('a target chosen by label selector is resolved to its containers', async () => {
    const spec = pauseExperiment('by-label', NATS, nats.url, '2s');
    spec.targets.nats = { kind: 'docker', labels: { 'gameday.test': NATS } };
    const result = (await (await w.start({ spec })).result()) as ExperimentResult;
    assert.equal(result.verdict, 'passed', result.reason);
    const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
    assert.deepEqual(journal.targets[0].refs.map((c) => c.name), [NATS]);
    assert.equal((await containerState(NATS)).Running, true);
  });

  test('an invalid inline spec ends with verdict error naming the field', async () => {
    const spec = { ...pauseExperiment('invalid', NATS, nats.url), hypothesis: '' };
    const result = (await (await w.start({ spec })).result()) as ExperimentResult;
    assert.equal(result.verdict, 'error');
    assert.match(result.reason, /hypothesis: an experiment states its hypothesis/);
  });

  test('an expectation missed during the fault is a finding: verdict failed, rolled back', async () => {
    const spec = pauseExperiment('finding', NATS, nats.url, '2s');
    spec.observe!.probes![0].expect = { error: { equals: '' } };
    const handle = await w.start({ spec });
    const result = (await handle.result()) as ExperimentResult;
    await recordHistory(handle.workflowId, 'finding');
    assert.equal(result.verdict, 'failed');
    assert.match(result.reason, /stream during pause/);
    assert.equal(result.rollback, 'complete');
    const report = await readFile(path.join(result.reportDir, 'report.md'), 'utf8');
    assert.match(report, /\| stream during pause \| during the fault \| every sample: error equals "" \| 0 of \d+ samples met it.*\| FAIL \|/);
    assert.equal((await containerState(NATS)).Paused, false);
  });
});
