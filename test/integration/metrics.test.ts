/**
 * A worker started with GAMEDAY_METRICS_ADDRESS serves Prometheus metrics at /metrics: the SDK's
 * temporal_* and Gameday's gameday_*. Scraped during a real run (a busybox container of this
 * test's own, paused through the real Docker engine, on the real Temporal dev server) and after
 * it; a second run's guardrail breach shows in the detection histogram.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { Experiment } from '../../src/spec/schema';
import type { ExperimentResult } from '../../src/types';
import { containerState, eventually, removeContainer, startOkServer, startSleeper, startWorker, type TestWorker } from '../helpers';
import { freePort, scrape, valueOf, type Series } from '../prometheus';
import { PG_SERVER } from '../store-db';

const TARGET = 'gameday-test-metrics';
const DB = 'gameday_metrics';
const PAUSE = { kind: 'docker-pause' };
const DUE_TIME = { kind: 'docker-pause', path: 'due-time' };

function pauseFor(duration: string, url: string, extra: Partial<Experiment> = {}): Experiment {
  return {
    id: 'metrics-pause',
    title: 'pause a busybox container',
    hypothesis: 'the local server answers throughout',
    targets: { box: { kind: 'docker', container: TARGET } },
    steadyState: [{ name: 'server answers', probe: { kind: 'http', url, timeout: '1s' }, expect: { status: { equals: 200 } } }],
    method: [{ fault: { kind: 'docker-pause', target: 'box' }, duration }],
    observe: { interval: '500ms', probes: [{ name: 'server during the pause', probe: { kind: 'http', url, timeout: '1s' } }] },
    recovery: { within: '10s', interval: '200ms' },
    ...extra,
  };
}

async function ensureDatabase(name: string): Promise<void> {
  const c = new pg.Client({ connectionString: `${PG_SERVER}/postgres` });
  await c.connect();
  const known = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (known.rowCount === 0) await c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  await c.end();
}

/** A histogram's count (the _count series) for those labels, 0 when it has none yet. */
const countOf = (s: Series[], name: string, labels: Record<string, string>): number => valueOf(s, `${name}_count`, labels) ?? 0;

describe('metrics', () => {
  let address: string;
  let worker: TestWorker;
  let server: Awaited<ReturnType<typeof startOkServer>>;

  before(async () => {
    address = `127.0.0.1:${await freePort()}`;
    // As a user starts one: the variable is read by loadConfig(), inside startWorker.
    process.env.GAMEDAY_METRICS_ADDRESS = address;
    await ensureDatabase(DB);
    server = await startOkServer();
    await startSleeper(TARGET);
    worker = await startWorker('metrics', { resultsUrl: `${PG_SERVER}/${DB}` });
  });
  after(async () => {
    await worker?.stop();
    server?.close();
    await removeContainer(TARGET);
    delete process.env.GAMEDAY_METRICS_ADDRESS;
  });

  test('during a run /metrics shows the SDK\'s metrics, the run and its fault in place; after it, none in place and the revert\'s lateness', async () => {
    const before = await scrape(address);
    const handle = await worker.start({ spec: pauseFor('6s', server.url) }, `metrics-pause-${Date.now()}`);
    const ended = (handle.result() as Promise<ExperimentResult>).then((r) => assert.fail(`the run ended before its fault was seen: ${r.verdict}: ${r.reason}`));
    await Promise.race([eventually('the container is paused', async () => (await containerState(TARGET)).Paused, 30_000), ended]);

    const during = await eventually('the fault is counted in place', async () => {
      const s = await scrape(address);
      return valueOf(s, 'gameday_faults_in_place', PAUSE) === 1 ? s : undefined;
    });
    assert.ok(during.some((s) => s.name.startsWith('temporal_')), 'the SDK\'s temporal_* series are served on the same endpoint');
    assert.notEqual(valueOf(during, 'temporal_worker_task_slots_available'), undefined, 'the SDK worker\'s slots are served');
    assert.notEqual(valueOf(during, 'temporal_request'), undefined, 'the SDK\'s requests to the server are served');
    assert.ok((valueOf(during, 'gameday_experiments_running') ?? 0) >= 1, 'the run counts as running');
    assert.equal(valueOf(during, 'gameday_rollbacks_failing', PAUSE), 0);

    const result = (await handle.result()) as ExperimentResult;
    assert.equal(result.rollback, 'complete');
    assert.equal((await containerState(TARGET)).Paused, false);

    const end = await scrape(address);
    assert.equal(valueOf(end, 'gameday_faults_in_place', PAUSE), 0, 'nothing in place once the run reverted its fault');
    assert.equal(valueOf(end, 'gameday_experiments_running'), 0, 'the run is over once its report is written');
    assert.equal(countOf(end, 'gameday_revert_lateness_seconds', DUE_TIME), countOf(before, 'gameday_revert_lateness_seconds', DUE_TIME) + 1, 'the due-time revert recorded its lateness once');
    const workflowPath = { kind: 'docker-pause', path: 'workflow' };
    assert.equal(countOf(end, 'gameday_revert_lateness_seconds', workflowPath), countOf(before, 'gameday_revert_lateness_seconds', workflowPath) + 1, 'the workflow\'s own revert recorded its lateness once');
    assert.equal(valueOf(end, 'gameday_revert_failures_total', DUE_TIME), valueOf(before, 'gameday_revert_failures_total', DUE_TIME), 'no revert attempt failed');
  });

  test('a guardrail breach is recorded in the detection histogram, and its early revert is not counted as late', async () => {
    const before = await scrape(address);
    // Every sample's latency is at least 0 ms: the first sample breaches.
    const spec = pauseFor('30s', server.url, { guardrails: [{ name: 'always breached', probe: { kind: 'http', url: server.url, timeout: '1s' }, abortWhen: { latencyMs: { atLeast: 0 } }, interval: '200ms' }] });
    const result = (await (await worker.start({ spec }, `metrics-guardrail-${Date.now()}`)).result()) as ExperimentResult;
    assert.equal(result.verdict, 'aborted', result.reason);
    assert.equal(result.rollback, 'complete');

    const end = await scrape(address);
    const http = { probe: 'http' };
    assert.equal(countOf(end, 'gameday_guardrail_detection_seconds', http), countOf(before, 'gameday_guardrail_detection_seconds', http) + 1);
    assert.ok((valueOf(end, 'gameday_guardrail_detection_seconds_sum', http) ?? -1) >= 0);
    assert.equal(valueOf(end, 'gameday_faults_in_place', PAUSE), 0);
    assert.equal(countOf(end, 'gameday_revert_lateness_seconds', { kind: 'docker-pause', path: 'workflow' }), countOf(before, 'gameday_revert_lateness_seconds', { kind: 'docker-pause', path: 'workflow' }), 'a revert before its due time is not late');
  });
});
