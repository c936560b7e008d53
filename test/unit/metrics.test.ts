/**
 * Gameday's gauges and histograms on the SDK's real runtime and Prometheus exporter (installed in
 * this test process on a free port, no Temporal server needed), scraped after each sequence of
 * events: retries, a due-time revert followed by the workflow's, a failing revert, runs and faults
 * that ended on another worker (the reconciliation's checks answer as Temporal would for them).
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { GamedayError } from '../../src/errors';
import { gamedayMetrics, type GamedayMetrics } from '../../src/metrics/gameday';
import { installRuntime } from '../../src/metrics/runtime';
import { freePort, scrape, valueOf, type Series } from '../prometheus';

let address: string;
let metrics: GamedayMetrics;
const run = (n: number) => ({ workflowId: `metrics-unit-${n}`, runId: `r${n}` });
const count = (s: Series[], name: string, labels: Record<string, string>) => valueOf(s, `${name}_count`, labels) ?? 0;

before(async () => {
  address = `127.0.0.1:${await freePort()}`;
  installRuntime({ logLevel: 'ERROR', metricsAddress: address });
  metrics = gamedayMetrics();
});

/** Scrapes until `check` holds on what is served (the exporter reads the meter on each scrape). */
async function served(check: (s: Series[]) => boolean): Promise<Series[]> {
  let last: Series[] = [];
  for (let i = 0; i < 50; i++) {
    last = await scrape(address);
    if (check(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

test('an inject retried counts once, and the due-time revert then the workflow\'s second revert leave nothing in place and never a negative count', async () => {
  metrics.faultInjected(run(1), 'f1', 'docker-kill');
  metrics.faultInjected(run(1), 'f1', 'docker-kill');
  let s = await served((x) => valueOf(x, 'gameday_faults_in_place', { kind: 'docker-kill' }) === 1);
  assert.equal(valueOf(s, 'gameday_faults_in_place', { kind: 'docker-kill' }), 1);

  const due = Date.now() - 250;
  metrics.faultReverted(run(1), 'f1', 'docker-kill', 'due-time', due);
  metrics.faultReverted(run(1), 'f1', 'docker-kill', 'workflow', due);
  // A revert of a fault another worker injected.
  metrics.faultReverted(run(9), 'f1', 'docker-kill', 'workflow', due);
  s = await served((x) => count(x, 'gameday_revert_lateness_seconds', { kind: 'docker-kill', path: 'workflow' }) === 2);
  assert.equal(valueOf(s, 'gameday_faults_in_place', { kind: 'docker-kill' }), 0);
  assert.equal(count(s, 'gameday_revert_lateness_seconds', { kind: 'docker-kill', path: 'due-time' }), 1);
  assert.equal(count(s, 'gameday_revert_lateness_seconds', { kind: 'docker-kill', path: 'workflow' }), 2);
  assert.ok((valueOf(s, 'gameday_revert_lateness_seconds_sum', { kind: 'docker-kill', path: 'due-time' }) ?? 0) >= 0.25);
});

test('a revert before its due time (a halted run) records no lateness', async () => {
  metrics.faultInjected(run(2), 'f1', 'docker-stop');
  metrics.faultReverted(run(2), 'f1', 'docker-stop', 'workflow', Date.now() + 60_000);
  const s = await served((x) => valueOf(x, 'gameday_faults_in_place', { kind: 'docker-stop' }) === 0);
  assert.equal(valueOf(s, 'gameday_faults_in_place', { kind: 'docker-stop' }), 0);
  assert.equal(count(s, 'gameday_revert_lateness_seconds', { kind: 'docker-stop', path: 'workflow' }), 0);
});

test('failing revert attempts are counted each, the fault counts as failing once, until a revert succeeds', async () => {
  metrics.faultInjected(run(3), 'f1', 'docker-pause');
  metrics.revertFailed(run(3), 'f1', 'docker-pause', 'due-time');
  metrics.revertFailed(run(3), 'f1', 'docker-pause', 'workflow');
  metrics.revertFailed(run(3), 'f1', 'docker-pause', 'workflow');
  let s = await served((x) => valueOf(x, 'gameday_revert_failures_total', { kind: 'docker-pause', path: 'workflow' }) === 2);
  assert.equal(valueOf(s, 'gameday_revert_failures_total', { kind: 'docker-pause', path: 'due-time' }), 1);
  assert.equal(valueOf(s, 'gameday_revert_failures_total', { kind: 'docker-pause', path: 'workflow' }), 2);
  assert.equal(valueOf(s, 'gameday_rollbacks_failing', { kind: 'docker-pause' }), 1);
  assert.equal(valueOf(s, 'gameday_faults_in_place', { kind: 'docker-pause' }), 1);

  metrics.faultReverted(run(3), 'f1', 'docker-pause', 'workflow', Date.now());
  s = await served((x) => valueOf(x, 'gameday_rollbacks_failing', { kind: 'docker-pause' }) === 0);
  assert.equal(valueOf(s, 'gameday_rollbacks_failing', { kind: 'docker-pause' }), 0);
  assert.equal(valueOf(s, 'gameday_faults_in_place', { kind: 'docker-pause' }), 0);
});

test('runs count from their plan to their report, once each; runs and faults that ended on another worker are dropped by the reconciliation', async () => {
  metrics.experimentStarted(run(4));
  metrics.experimentStarted(run(4));
  metrics.experimentStarted(run(5));
  metrics.faultInjected(run(5), 'f1', 'http-error');
  let s = await served((x) => valueOf(x, 'gameday_experiments_running') === 2);
  assert.equal(valueOf(s, 'gameday_experiments_running'), 2);

  metrics.experimentEnded(run(4));
  metrics.experimentEnded(run(4));
  // Run 5 was reported, and its fault reverted, by another worker.
  await metrics.reconcile({ runOpen: async (r) => r.workflowId !== run(5).workflowId, faultInPlace: async () => false });
  s = await served((x) => valueOf(x, 'gameday_experiments_running') === 0);
  assert.equal(valueOf(s, 'gameday_experiments_running'), 0);
  assert.equal(valueOf(s, 'gameday_faults_in_place', { kind: 'http-error' }), 0);

  // An answer that does not come keeps the count.
  metrics.experimentStarted(run(6));
  await metrics.reconcile({ runOpen: () => Promise.reject(new Error('no answer')), faultInPlace: async () => true });
  s = await served((x) => valueOf(x, 'gameday_experiments_running') === 1);
  assert.equal(valueOf(s, 'gameday_experiments_running'), 1);
  metrics.experimentEnded(run(6));
});

test('a guardrail\'s detection time is from the start of the breaching sample', async () => {
  metrics.guardrailBreached('nats-publish', new Date(Date.now() - 1500).toISOString());
  const s = await served((x) => count(x, 'gameday_guardrail_detection_seconds', { probe: 'nats-publish' }) === 1);
  assert.equal(count(s, 'gameday_guardrail_detection_seconds', { probe: 'nats-publish' }), 1);
  assert.ok((valueOf(s, 'gameday_guardrail_detection_seconds_sum', { probe: 'nats-publish' }) ?? 0) >= 1.5);
  assert.equal(valueOf(s, 'gameday_guardrail_detection_seconds_bucket', { probe: 'nats-publish', le: '1' }), 0);
  assert.equal(valueOf(s, 'gameday_guardrail_detection_seconds_bucket', { probe: 'nats-publish', le: '2' }), 1);
});

test('a second install with another metrics address is refused, naming the variable', () => {
  assert.doesNotThrow(() => installRuntime({ logLevel: 'ERROR', metricsAddress: address }));
  assert.throws(
    () => installRuntime({ logLevel: 'ERROR', metricsAddress: '127.0.0.1:1' }),
    (e: unknown) => e instanceof GamedayError && e.type === 'InvalidConfig' && e.message.startsWith(`GAMEDAY_METRICS_ADDRESS: this process serves metrics on ${address} already`),
  );
});
