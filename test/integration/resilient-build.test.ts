/**
 * The method's last step, "fix, then re-run and compare", on the demo target system: chaos-001,
 * chaos-005 and chaos-006 run as the experiments define them, first on the weak build (each must
 * fail, on the expectation its report's remediation is for), then on the resilient build, which
 * has those remediations (DEMO_BUILD=resilient: examples/target-system/outbox.js,
 * scoring-client.js, the bounded pool), where each must pass (chaos-001 there through
 * `gameday demo --build resilient`, as the README has it); then `gameday compare` on two of
 * these runs. The stack is put back on the weak build afterwards: the other tests expect it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureTargetSystem, runningBuild, type DemoBuild } from '../../src/stack';
import type { ExperimentResult, Journal, ScenarioJournal } from '../../src/types';
import { docker, gameday, startWorker, type TestWorker } from '../helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');

async function journalOf(result: ExperimentResult): Promise<{ journal: Journal; report: string }> {
  const [journal, report] = await Promise.all([readFile(path.join(result.reportDir, 'journal.json'), 'utf8'), readFile(path.join(result.reportDir, 'report.md'), 'utf8')]);
  return { journal: JSON.parse(journal) as Journal, report };
}

async function stagesOf(result: ExperimentResult): Promise<ScenarioJournal['stages']> {
  return (JSON.parse(await readFile(path.join(result.reportDir, 'scenario.json'), 'utf8')) as ScenarioJournal).stages;
}

function samples(journal: Journal, check: string): Journal['observations'] {
  return journal.observations.filter((s) => s.check === check);
}

function workerLogs(since: Date): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('docker', ['logs', '--since', since.toISOString(), 'demo-target-worker'], (e, out, err) => (e ? reject(new Error(`docker logs: ${err}`)) : resolve(out))),
  );
}

describe('fix, re-run, compare: chaos-001, chaos-005 and chaos-006 on the weak and on the resilient build', () => {
  let w: TestWorker;
  const chaos001: Partial<Record<DemoBuild, ExperimentResult>> = {};
  let chaos005: ExperimentResult | undefined;

  const on = async (build: DemoBuild): Promise<void> => {
    await ensureTargetSystem(docker, build);
    assert.equal(await runningBuild(docker), build);
  };
  const run = async (id: string): Promise<ExperimentResult> => (await w.start({ experiment: id }, `${id}-${Date.now()}`)).result() as Promise<ExperimentResult>;
  const runScenario = async (id: string): Promise<ExperimentResult> =>
    (await w.client.workflow.start('scenario', { taskQueue: w.taskQueue, workflowTaskTimeout: '2s', workflowId: `${id}-${Date.now()}`, args: [{ scenario: id }] })).result() as Promise<ExperimentResult>;

  before(async () => {
    w = await startWorker('resilient-build', { experimentsDir: path.join(ROOT, 'experiments') });
  });
  after(async () => {
    await w?.stop();
    await ensureTargetSystem(docker, 'weak');
  });

  test('chaos-001: the weak build holds every webhook while NATS is paused; the resilient one answers 202 at once and scores them all after', async () => {
    await on('weak');
    const weak = (chaos001.weak = await run('chaos-001-nats-broker-pause'));
    assert.equal(weak.verdict, 'failed', weak.reason);
    assert.match(weak.reason, /during the fault, not as expected: webhook answers 202 within 5 s during the pause/);
    const held = samples((await journalOf(weak)).journal, 'webhook answers 202 within 5 s during the pause');
    assert.ok(held.length >= 2 && held.every((s) => !s.ok), 'no webhook was answered 202 within 5 s during the pause');

    // The resilient run as the README has it: `gameday demo --build resilient` switches the stack.
    const reportsDir = await mkdtemp(path.join(os.tmpdir(), 'gameday-resilient-demo-'));
    const demo = await gameday(['demo', '--build', 'resilient'], { GAMEDAY_TASK_QUEUE: `test-resilient-demo-${process.pid}`, GAMEDAY_REPORTS_DIR: reportsDir });
    assert.equal(demo.code, 0, demo.stderr);
    assert.match(demo.stderr, /demo target system \(resilient build\) healthy/);
    assert.match(demo.stdout, /^verdict: passed — the hypothesis held$/m, demo.stdout + demo.stderr);
    assert.match(demo.stdout, /^rollback: complete$/m);
    assert.equal(await runningBuild(docker), 'resilient');
    const reportDir = path.dirname(/^report: (.*)$/m.exec(demo.stdout)![1]);
    const { journal, report } = await journalOf({ reportDir } as ExperimentResult);
    chaos001.resilient = { workflowId: journal.workflowId } as ExperimentResult;
    const answered = samples(journal, 'webhook answers 202 within 5 s during the pause');
    assert.ok(answered.length >= 10 && answered.every((s) => s.measurement.status === 202), 'every webhook during the pause was answered 202');
    // The report's re-validation compares with the run before it: the weak build's.
    assert.match(report, new RegExp(`Compared with the previous run of \`chaos-001-nats-broker-pause\`: workflow \`${weak.workflowId}\``));
    assert.match(report, /\| webhook answers 202 within 5 s during the pause \| during the fault \| [^|]+ \| fixed \| not met: [^|]+ \| met: /);
  });

  test('chaos-005: the weak build answers late while PostgreSQL is 6 s slow; the resilient one answers within 5 s, 202 or 503 with Retry-After', async () => {
    await on('weak');
    const weak = await run('chaos-005-webhook-timeout-slow-database');
    assert.equal(weak.verdict, 'failed', weak.reason);
    assert.match(weak.reason, /during the fault, not as expected: webhook answers within 5 s while the database is slow/);

    await on('resilient');
    const fixed = (chaos005 = await run('chaos-005-webhook-timeout-slow-database'));
    assert.equal(fixed.verdict, 'passed', fixed.reason);
    assert.equal(fixed.rollback, 'complete');
    const during = samples((await journalOf(fixed)).journal, 'webhook answers within 5 s while the database is slow');
    assert.ok(during.length >= 10 && during.every((s) => s.ok && Number(s.measurement.latencyMs) <= 5000), 'every webhook was answered within 5 s');
    assert.ok(during.some((s) => s.measurement.status === 503), 'the bounded pool answered 503 while the database was slow');
  });

  test('chaos-006: the weak build fails every message scored while the dependency rate-limits or fails; the resilient one backs off, opens its circuit and fails none', async () => {
    await on('weak');
    const weak = await runScenario('chaos-006-scoring-dependency-failures');
    assert.equal(weak.verdict, 'failed', weak.reason);
    const weakStages = await stagesOf(weak);
    assert.deepEqual(weakStages.map((s) => [s.name, s.result?.verdict]), [['rate-limited', 'failed'], ['server-errors', 'failed']]);
    assert.match(weakStages[0].result!.reason, /messages marked failed during the rate limit/);
    assert.match(weakStages[1].result!.reason, /messages marked failed during the outage/);

    await on('resilient');
    const since = new Date();
    const fixed = await runScenario('chaos-006-scoring-dependency-failures');
    assert.equal(fixed.verdict, 'passed', fixed.reason);
    const stages = await stagesOf(fixed);
    assert.deepEqual(stages.map((s) => [s.name, s.result?.verdict, s.result?.rollback]), [['rate-limited', 'passed', 'complete'], ['server-errors', 'passed', 'complete']]);
    const logs = await workerLogs(since);
    assert.match(logs, /deferred id=\d+ .*error="scoring answered 429"/, 'rate-limited messages were deferred, not failed');
    assert.match(logs, /circuit-open/, 'the circuit opened during the outage');
    assert.doesNotMatch(logs, /^\S+ failed id=/m, 'no message was marked failed');
  });

  test('gameday compare shows the weak and the resilient run of chaos-001 side by side, with the re-validation section', async () => {
    assert.ok(chaos001.weak && chaos001.resilient, 'chaos-001 ran on both builds (the first test)');
    const { code, stdout, stderr } = await gameday(['compare', chaos001.weak.workflowId, chaos001.resilient.workflowId]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^chaos-001-nats-broker-pause: failed before, passed after \([1-9]\d* fixed, 0 regressed/m);
    assert.match(stdout, new RegExp(`^workflow +${chaos001.weak.workflowId} +${chaos001.resilient.workflowId}$`, 'm'));
    assert.match(stdout, /^verdict +failed +passed$/m);
    assert.match(stdout, /^webhook answers 202 within 5 s during the pause +during the fault +every sample: status equals 202 +fixed +NOT MET: 0 of \d+ samples met it.* +met: /m);
    assert.match(stdout, /^## Re-validation$/m);
    assert.match(stdout, new RegExp(`Compared with the previous run of \`chaos-001-nats-broker-pause\`: workflow \`${chaos001.weak.workflowId}\``));
  });

  test('gameday compare refuses two runs of different experiments, naming both', async () => {
    assert.ok(chaos001.weak && chaos005, 'chaos-001 and chaos-005 ran (the tests above)');
    const { code, stderr } = await gameday(['compare', chaos001.weak.workflowId, chaos005.workflowId]);
    assert.equal(code, 1);
    assert.match(stderr, new RegExp(`^gameday: ${chaos001.weak.workflowId} is a run of chaos-001-nats-broker-pause and ${chaos005.workflowId} one of chaos-005-webhook-timeout-slow-database: compare two runs of one experiment$`, 'm'));
  });
});
