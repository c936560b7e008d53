/**
 * The reference experiments of experiments/ (shared METHOD.md) against the demo target system,
 * through the real workflows, as an SRE runs them: each must carry out its fault, roll it back,
 * and report what really happened. Where the demo system is fragile on purpose, the finding is
 * asserted: it is what the game day is for. (chaos-001 is `gameday demo`: test/integration/demo.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from 'pg';
import { TARGET_SYSTEM, ensureTargetSystem, sendWebhook, waitForMessage } from '../../src/stack';
import type { ExperimentResult, Journal, ScenarioJournal } from '../../src/types';
import { containerState, docker, startWorker, type TestWorker } from '../helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');

async function journalOf(result: ExperimentResult): Promise<{ journal: Journal; report: string }> {
  const [journal, report] = await Promise.all([readFile(path.join(result.reportDir, 'journal.json'), 'utf8'), readFile(path.join(result.reportDir, 'report.md'), 'utf8')]);
  return { journal: JSON.parse(journal) as Journal, report };
}

function valuesOf(journal: Journal, check: string, field: string): number[] {
  return journal.observations.filter((s) => s.check === check).map((s) => Number(s.measurement[field]));
}

async function query(sql: string): Promise<number> {
  const db = new Client({ connectionString: TARGET_SYSTEM.postgresUrl });
  await db.connect();
  try {
    return Number((await db.query<{ n: string }>(sql)).rows[0].n);
  } finally {
    await db.end();
  }
}

function sh(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(cmd, args, (e, out, err) => (e ? reject(new Error(`${cmd}: ${err}`)) : resolve(out))));
}

describe('the reference experiments against the demo target system', () => {
  let w: TestWorker;

  before(async () => {
    await ensureTargetSystem(docker);
    w = await startWorker('reference', { experimentsDir: path.join(ROOT, 'experiments') });
  });
  after(async () => {
    await w?.stop();
  });

  const run = async (id: string): Promise<ExperimentResult> => (await w.start({ experiment: id }, `${id}-${Date.now()}`)).result() as Promise<ExperimentResult>;
  const runScenario = async (id: string): Promise<ExperimentResult> =>
    (await w.client.workflow.start('scenario', { taskQueue: w.taskQueue, workflowTaskTimeout: '2s', workflowId: `${id}-${Date.now()}`, args: [{ scenario: id }] })).result() as Promise<ExperimentResult>;

  test('chaos-002: every free connection held, then the app sessions cut; the pools come back (through the superuser reserve)', async () => {
    const result = await run('chaos-002-postgres-pool-exhaustion');
    assert.equal(result.rollback, 'complete');
    const { journal, report } = await journalOf(result);
    assert.equal(result.verdict, 'passed', result.reason);
    assert.ok(Math.max(...valuesOf(journal, 'connections in use', 'value')) >= 90, 'the server was full during the fault');
    assert.match(report, /injected f1 \(holding \d+ connections tagged gameday-[0-9a-f]{8}-f1/);
    assert.match(report, /injected f2 \(terminated [1-9]\d* of \d+ matching backends/, "the app's sessions were cut");
    assert.equal(await query("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name LIKE 'gameday-%-f1'"), 0, 'no held connection is left');
  });

  test('chaos-003: the worker killed mid-scoring; what it held is redelivered after ack_wait and scored, nothing lost', async () => {
    const since = new Date();
    const result = await runScenario('chaos-003-worker-killed-during-scoring');
    assert.equal(result.verdict, 'passed', result.reason);
    const scenario = JSON.parse(await readFile(path.join(result.reportDir, 'scenario.json'), 'utf8')) as ScenarioJournal;
    assert.deepEqual(scenario.stages.map((s) => [s.name, s.result?.verdict, s.result?.rollback]), [['slow-scoring', 'passed', 'complete'], ['worker-killed', 'passed', 'complete']]);
    const killed = await journalOf(scenario.stages[1].result!);
    const state = killed.journal.observations.filter((s) => s.check === 'worker state');
    assert.ok(state.length > 0 && state.every((s) => s.measurement.running === false && s.measurement.exitCode === 137), 'the worker was down (SIGKILL, exit 137) during observe');
    assert.match(killed.report, /waiting 35 s before verifying/);
    // What JetStream redelivered the restarted worker scored: its log says delivery=2.
    const logs = await sh('docker', ['logs', '--since', since.toISOString(), 'demo-target-worker']);
    assert.match(logs, /scored id=\d+ .*delivery=[2-9]/, 'a message the dead worker held was redelivered and scored');
    assert.equal((await containerState('demo-target-worker')).Running, true);
    assert.equal(await query("SELECT count(*) AS n FROM messages WHERE status = 'queued' AND updated_at < now() - interval '20 seconds'"), 0, 'no accepted message left unscored');
  });

  test('chaos-005: with the database 6 s late the webhook answers 500 after 3 s or not within 5 s: the finding', async () => {
    const result = await run('chaos-005-webhook-timeout-slow-database');
    assert.equal(result.rollback, 'complete');
    assert.equal(result.verdict, 'failed', result.reason);
    assert.match(result.reason, /during the fault, not as expected: webhook answers within 5 s while the database is slow/);
    const { journal } = await journalOf(result);
    const during = journal.observations.filter((s) => s.check === 'webhook answers within 5 s while the database is slow');
    assert.ok(during.length > 0 && during.every((s) => s.measurement.status !== 202), 'no webhook was accepted in time while the database was slow');
    const toxics = (await (await fetch(`${TARGET_SYSTEM.toxiproxyUrl}/proxies/postgres/toxics`)).json()) as unknown[];
    assert.deepEqual(toxics, [], 'no toxic left on the postgres proxy');
  });

  test('chaos-006: a rate limit, then an outage, of the scoring dependency fail every message that arrives then: the findings', async () => {
    const result = await runScenario('chaos-006-scoring-dependency-failures');
    assert.equal(result.verdict, 'failed', result.reason);
    const scenario = JSON.parse(await readFile(path.join(result.reportDir, 'scenario.json'), 'utf8')) as ScenarioJournal;
    assert.deepEqual(
      scenario.stages.map((s) => [s.name, s.result?.verdict, s.result?.rollback]),
      [['rate-limited', 'failed', 'complete'], ['server-errors', 'failed', 'complete']],
      'both stages ran (onStageFailure: continue) and both found the worker failing messages',
    );
    for (const [stage, check] of [[0, 'messages marked failed during the rate limit'], [1, 'messages marked failed during the outage']] as const) {
      const { journal } = await journalOf(scenario.stages[stage].result!);
      assert.ok(Math.max(...valuesOf(journal, check, 'value')) >= 1, `${check}: some were`);
      assert.ok(journal.observations.filter((s) => s.check === 'webhook unaffected').every((s) => s.ok), 'the webhook was not affected');
    }
    const fault = (await (await fetch(`${TARGET_SYSTEM.scoringAdminUrl}/fault`)).json()) as { fault: unknown };
    assert.equal(fault.fault, null, 'the scoring fault is cleared');
  });

  test('chaos-010: through the HTTP fault proxy, 503s with Retry-After and slow answers fail the messages that meet them: the finding; all pass again after rollback', async () => {
    const result = await run('chaos-010-scoring-errors-through-http-fault-proxy');
    assert.equal(result.verdict, 'failed', result.reason);
    assert.equal(result.rollback, 'complete');
    const { journal, report } = await journalOf(result);
    const failed503 = Math.max(...valuesOf(journal, 'messages failed on a 503 during the fault', 'value'));
    const failedSlow = Math.max(...valuesOf(journal, 'messages failed on a slow answer during the fault', 'value'));
    assert.ok(failed503 + failedSlow >= 1, `the worker saw the faults during observe: ${failed503} failed on a 503, ${failedSlow} on a slow answer`);
    assert.ok(journal.observations.filter((s) => s.check === 'webhook unaffected').every((s) => s.ok), 'the webhook was not affected');
    assert.match(report, /answer 50% of POST \/score requests to scoring \(through the fault proxy\) with 503 and Retry-After 2s/);
    const rules = (await (await fetch(`${TARGET_SYSTEM.scoringProxyAdminUrl}/rules`)).json()) as { rules: unknown[] };
    assert.deepEqual(rules.rules, [], 'the proxy passes everything again');
    const id = await sendWebhook('chaos-010 after the rollback');
    assert.equal((await waitForMessage(id)).status, 'scored', 'a message after the rollback is scored through the proxy');
  });

  test('chaos-007: the worker cut off from NATS; the queue grows, and drains once the partition heals', async () => {
    const result = await run('chaos-007-network-partition-worker-nats');
    assert.equal(result.rollback, 'complete');
    assert.equal(result.verdict, 'passed', result.reason);
    const { journal } = await journalOf(result);
    const depth = valuesOf(journal, 'queue depth', 'pending');
    assert.ok(Math.max(...depth) > depth[0], `the queue grew while the worker was cut off (${depth.join(', ')})`);
    const pid = (await docker.getContainer('demo-target-worker').inspect()).State.Pid;
    const rules = await sh('nsenter', ['-t', String(pid), '-n', 'iptables', '-S']);
    assert.doesNotMatch(rules, /gameday-/, 'no packet-loss rule is left in the worker');
  });

  test('chaos-009: the worker out of memory mid-scoring is OOM-killed and restarted; what it was scoring is redelivered and scored once', async () => {
    const before = await docker.getContainer('demo-target-worker').inspect();
    const since = new Date();
    const result = await runScenario('chaos-009-worker-out-of-memory');
    const scenario = JSON.parse(await readFile(path.join(result.reportDir, 'scenario.json'), 'utf8')) as ScenarioJournal;
    assert.deepEqual(scenario.stages.map((s) => [s.name, s.result?.verdict, s.result?.rollback]), [['slow-scoring', 'passed', 'complete'], ['out-of-memory', 'passed', 'complete']], result.reason);
    const after = await docker.getContainer('demo-target-worker').inspect();
    assert.equal(after.State.OOMKilled, true, 'docker inspect: the worker was OOM-killed');
    assert.ok(after.RestartCount > before.RestartCount, `docker inspect: restarted by its policy (${before.RestartCount} → ${after.RestartCount})`);
    assert.equal(after.State.Running, true, 'it runs again after rollback');
    const oom = await journalOf(scenario.stages[1].result!);
    assert.match(oom.report, /the OOM killer ended the writer of \/dev\/shm\/gameday-[0-9a-f]{8}-f1 in container demo-target-worker before its 200 MB \(its memory limit: 192 MB\); its process \d+ was killed/);
    const state = oom.journal.observations.filter((s) => s.check === 'worker OOM-killed and restarted');
    assert.ok(state.some((s) => s.measurement.oomKilled === true && Number(s.measurement.restartCount) > before.RestartCount), 'the report samples show oomKilled and the restart count going up');
    for (const row of ['worker OOM-killed and restarted', 'scorings cut short by the OOM kill', 'no message scored more than once \\(last 3 minutes\\)', 'every scoring cut short was redelivered and finished']) {
      assert.match(oom.report, new RegExp(`${row}.*PASS`), `the report's row: ${row}`);
    }
    // What the OOM kill cut short, JetStream redelivered and the restarted worker scored once.
    const db = new Client({ connectionString: TARGET_SYSTEM.postgresUrl });
    await db.connect();
    try {
      const cut = await db.query<{ message_id: string; scored: string; delivery: number }>(
        `SELECT s.message_id, (SELECT count(*) FROM scorings r WHERE r.message_id = s.message_id AND r.outcome = 'scored') AS scored,
                (SELECT max(delivery) FROM scorings r WHERE r.message_id = s.message_id AND r.outcome = 'scored') AS delivery
           FROM scorings s WHERE s.finished_at IS NULL AND s.started_at > $1`,
        [since],
      );
      assert.ok(cut.rows.length >= 1, 'a scoring was cut short by the OOM kill');
      assert.deepEqual(cut.rows.map((r) => [Number(r.scored), r.delivery > 1]), cut.rows.map(() => [1, true]), 'each was redelivered and scored once');
    } finally {
      await db.end();
    }
  });

  test('chaos-008: the dashboard feed dropped while messages are scored; it reconnects and is sent every event it missed', async () => {
    const result = await run('chaos-008-dashboard-websocket-drops');
    assert.equal(result.rollback, 'complete');
    assert.equal(result.verdict, 'passed', result.reason);
    const { journal } = await journalOf(result);
    const during = journal.observations.filter((s) => s.check === 'dashboard feed cut off');
    const refused = during.filter((s) => /could not connect/.test(s.error)).length;
    assert.ok(refused >= 10, `the feed could not reconnect while the 15 s fault lasted (${refused} of ${during.length} samples refused)`);
    const verified = journal.verification.filter((s) => s.check === 'dashboard feed complete').at(-1);
    assert.ok(verified, 'the feed was probed after recovery');
    assert.equal(verified.measurement.drops, 1, 'its connection was dropped once');
    assert.ok(Number(verified.measurement.reconnects) >= 1, 'and it reconnected');
    assert.equal(verified.measurement.missed, 0, 'and missed no event');
    const toxics = (await (await fetch(`${TARGET_SYSTEM.toxiproxyUrl}/proxies/dashboard/toxics`)).json()) as unknown[];
    assert.deepEqual(toxics, [], 'no toxic left on the dashboard proxy');
  });
});
