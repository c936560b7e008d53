/**
 * Verification after the revert (QUICK_VERIFY_PATCH): its first round in a local activity of the
 * revert's workflow task, further rounds in the verify activity going on from it. On the real dev
 * server, a real container (paused and resumed) and an HTTP server of the test's own whose answers
 * the test decides.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { Experiment } from '../../src/spec/schema';
import type { ExperimentResult, Journal } from '../../src/types';
import { containerState, eventually, removeContainer, startSleeper, startWorker, type TestWorker } from '../helpers';

const CONTAINER = 'gameday-test-verify-rounds';

/** A pause of the container, its steady state an HTTP check of the test's server. */
function spec(id: string, url: string, timeout = '1s'): Experiment {
  return {
    id,
    title: `pause ${CONTAINER}`,
    hypothesis: 'the endpoint answers once the container runs again',
    targets: { c: { kind: 'docker', container: CONTAINER } },
    steadyState: [{ name: 'endpoint answers', probe: { kind: 'http', url, timeout }, expect: { status: { equals: 200 } } }],
    method: [{ fault: { kind: 'docker-pause', target: 'c' }, duration: '1s' }],
    recovery: { within: '20s', interval: '300ms' },
  };
}

type History = Awaited<ReturnType<Awaited<ReturnType<TestWorker['start']>>['fetchHistory']>>;

/** The activities the run scheduled, and the local activities it ran, by type. */
function activitiesOf(history: History): { scheduled: string[]; local: string[] } {
  const events = history.events ?? [];
  const scheduled = events.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType!.name!] : []));
  const local = events.flatMap((e) => {
    const data = e.markerRecordedEventAttributes?.markerName === 'core_local_activity' ? e.markerRecordedEventAttributes.details?.data?.payloads?.[0]?.data : undefined;
    return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type: string }).activity_type] : [];
  });
  return { scheduled, local };
}

describe('verification after the revert', () => {
  let w: TestWorker;
  let server: Server;
  let url: string;
  let store: pg.Client;
  /** How many of the next requests answer 503. */
  let failNext = 0;
  const answered: number[] = [];

  before(async () => {
    await startSleeper(CONTAINER);
    server = createServer((_req, res) => {
      const status = failNext > 0 ? (failNext--, 503) : 200;
      answered.push(status);
      res.writeHead(status).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    w = await startWorker('verify-rounds');
    store = new pg.Client({ connectionString: w.config.resultsUrl });
    await store.connect();
  });
  after(async () => {
    await w?.stop();
    await store?.end();
    server?.close();
    await removeContainer(CONTAINER);
  });

  test('a steady state that holds at once is verified in the workflow task of the revert: no verify activity', async () => {
    const handle = await w.start({ spec: spec('verify-at-once', url) });
    const result = (await handle.result()) as ExperimentResult;
    assert.equal(result.verdict, 'passed', result.reason);
    assert.equal((await containerState(CONTAINER)).Paused, false);
    const { scheduled, local } = activitiesOf(await handle.fetchHistory());
    // Right after the revert, in the same local activity.
    assert.ok(local.includes('revertThenVerify'), `verified in the revert's local activity: ${local.join(', ')}`);
    assert.ok(!scheduled.includes('verifySteadyState'), `no verify activity: ${scheduled.join(', ')}`);
    // The report too, in the same workflow task; the baseline in the first local activity: a short
    // run schedules only its inject.
    assert.ok(local.includes('reportAndPublish'), `reported in a local activity: ${local.join(', ')}`);
    assert.deepEqual(scheduled, ['injectFaultUntilDue']);
    assert.equal(local[0], 'planAndResolve', `planned, resolved and the baseline taken in one local activity: ${local.join(', ')}`);
    assert.ok(existsSync(path.join(result.reportDir, 'report.md')));
    const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
    assert.deepEqual(journal.verification.map((s) => s.ok), [true]);
  });

  test('a steady state back on the third round: the first round in the workflow task, the others in the activity, each stored once in order', async () => {
    answered.length = 0;
    const handle = await w.start({ spec: spec('verify-later', url) });
    await eventually('the container to be paused', async () => (await containerState(CONTAINER)).Paused);
    // The baseline has answered 200; the first two verification rounds get 503.
    failNext = 2;
    const result = (await handle.result()) as ExperimentResult;
    assert.equal(result.verdict, 'passed', result.reason);
    assert.deepEqual(answered, [200, 503, 503, 200], 'the baseline, then three verification rounds');
    const { scheduled, local } = activitiesOf(await handle.fetchHistory());
    assert.equal(local.filter((t) => t === 'revertThenVerify').length, 1, `one local round, with the revert: ${local.join(', ')}`);
    assert.equal(scheduled.filter((t) => t === 'verifySteadyState').length, 1, `then the activity: ${scheduled.join(', ')}`);

    const stored = await store.query<{ seq: number; ok: boolean; at: Date }>("SELECT seq, ok, at FROM samples WHERE workflow_id = $1 AND phase = 'verify' ORDER BY seq", [handle.workflowId]);
    assert.deepEqual(stored.rows.map((r) => [r.seq, r.ok]), [[0, false], [1, false], [2, true]], 'no gap and no duplicate');
    // The activity waits the interval after the first round before its own.
    assert.ok(stored.rows[1].at.getTime() - stored.rows[0].at.getTime() >= 300, 'the second round an interval after the first');
    const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
    assert.deepEqual(journal.verification.map((s) => s.ok), [false, false, true]);
  });

  test('a steady-state round that may take long (a 10 s probe timeout) is taken and verified in activities, as before', async () => {
    const handle = await w.start({ spec: spec('verify-slow-probe', url, '10s') });
    const result = (await handle.result()) as ExperimentResult;
    assert.equal(result.verdict, 'passed', result.reason);
    const { scheduled, local } = activitiesOf(await handle.fetchHistory());
    assert.ok(!local.includes('verifySteadyState') && !local.includes('revertThenVerify'), `no local round: ${local.join(', ')}`);
    assert.equal(scheduled.filter((t) => t === 'verifySteadyState').length, 1);
    // So is the baseline: a round that may take long holds no workflow task open.
    assert.equal(scheduled[0], 'probeBaseline', `the baseline in its activity: ${scheduled.join(', ')}`);
  });
});
