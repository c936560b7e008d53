/**
 * Hours packed into minutes: an experiment that samples every 10 ms, observe probe and guardrail,
 * for two minutes (what 1 s sampling does in about six and a half hours) keeps a short history and
 * small payloads, and its report holds every sample, read back from the results store.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { containerState, eventually, recordHistory, removeContainer, startOkServer, startSleeper, startWorker, type TestWorker } from '../helpers';
import { payloadSizes } from '../payloads';
import type { Experiment } from '../../src/spec/schema';
import type { ExperimentResult, Journal } from '../../src/types';

const TARGET = 'gameday-test-long-run';
const FAULT_SECONDS = Number(process.env.GAMEDAY_LONG_RUN_SECONDS ?? 120);
const PAYLOAD_LIMIT = 256 * 1024;

describe('a long run at a fast sampling rate', () => {
  let w: TestWorker;
  let server: Awaited<ReturnType<typeof startOkServer>>;
  let url: string;

  before(async () => {
    server = await startOkServer();
    url = server.url;
    await startSleeper(TARGET);
    w = await startWorker('long-run');
  });
  after(async () => {
    await w?.stop();
    await removeContainer(TARGET);
    server?.close();
  });

  test(`${FAULT_SECONDS} s sampled every 10 ms keeps its history under 2,000 events and every payload under 256 KB, and the report holds every sample`, { timeout: (FAULT_SECONDS + 120) * 1000 }, async (t) => {
    const spec: Experiment = {
      id: 'long-run',
      title: 'hours packed into minutes',
      hypothesis: 'the container answers throughout',
      targets: { box: { kind: 'docker', container: TARGET } },
      steadyState: [{ name: 'server answers', probe: { kind: 'http', url, timeout: '1s' }, expect: { status: { equals: 200 } } }],
      method: [{ fault: { kind: 'docker-pause', target: 'box' }, duration: `${FAULT_SECONDS}s` }],
      observe: { interval: '10ms', probes: [{ name: 'server during the pause', probe: { kind: 'http', url, timeout: '1s' }, expect: { status: { equals: 200 } } }] },
      guardrails: [{ name: 'server not slow', probe: { kind: 'http', url, timeout: '1s' }, abortWhen: { latencyMs: { atLeast: 5000 } }, interval: '10ms' }],
      recovery: { within: '10s', interval: '100ms' },
    };
    const handle = await w.start({ spec });
    await eventually('the container to be paused', async () => (await containerState(TARGET)).Paused, 30_000);
    const result = (await handle.result()) as ExperimentResult;
    assert.equal(result.verdict, 'passed', result.reason);
    assert.equal((await containerState(TARGET)).Paused, false, 'the pause was reverted');

    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    await recordHistory(handle.workflowId, 'bounded-long-run');
    assert.ok(events.length < 2000, `the history has ${events.length} events`);
    const largest = Math.max(...payloadSizes(events));
    assert.ok(largest < PAYLOAD_LIMIT, `the largest payload is ${largest} bytes`);
    const timers = events.filter((e) => e.timerStartedEventAttributes).length;
    assert.ok(timers < 10, `${timers} timers were started: one per fault, not one per round`);

    const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
    const observed = journal.observations.filter((s) => s.check === 'server during the pause');
    const guarded = journal.guardrails.filter((s) => s.check === 'server not slow');
    // At 10 ms a round, two minutes give thousands of samples of each (a noisy machine fewer).
    assert.ok(observed.length > FAULT_SECONDS * 20, `${observed.length} observe samples`);
    assert.ok(guarded.length > FAULT_SECONDS * 20, `${guarded.length} guardrail samples`);
    assert.ok(guarded.every((s) => s.breached === false), 'no guardrail sample says breached');
    const row = journal.hypothesisVsReality.find((r) => r.expectation === 'server during the pause');
    assert.equal(row?.observed, `${observed.length} of ${observed.length} samples met it`, 'the verdict counted every sample the report holds');
    t.diagnostic(`${events.length} history events, largest payload ${largest} B, ${observed.length} observe and ${guarded.length} guardrail samples`);
    assert.equal(journal.store?.missingSamples, undefined, 'every sample the workflow counted reached the store');
    const times = observed.map((s) => Date.parse(s.at));
    assert.deepEqual(times, [...times].sort((a, b) => a - b), 'samples are in time order');
    const report = await readFile(path.join(result.reportDir, 'report.md'), 'utf8');
    assert.match(report, /passed/);
  });
});
