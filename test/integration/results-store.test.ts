import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { exportReport } from '../../src/report/export';
import { renderMarkdown } from '../../src/report/markdown';
import { reportDirFor, writeReport } from '../../src/report/write';
import { migrateResultsStore, MIGRATIONS_TABLE } from '../../src/store/migrate';
import { openResultsStore } from '../../src/store/postgres';
import type { ResultsStore } from '../../src/store/types';
import { StoreWriter } from '../../src/store/writer';
import type { StoredSample } from '../../src/store/types';
import type { Journal, ProbeSample } from '../../src/types';
import { countOf, dropDatabase, PG_SERVER } from '../store-db';
import { at, journalFixture, sample, samples, storedSamples } from '../store-fixtures';

// A database of this file's own on the stack's server, created by the migrations and dropped after.
const SERVER = PG_SERVER;
const DB = `gameday_test_${process.pid}`;
const URL_ = `${SERVER}/${DB}`;
let store: ResultsStore;
let admin: pg.Client;

before(async () => {
  await migrateResultsStore(URL_);
  store = openResultsStore(URL_);
  admin = new pg.Client({ connectionString: URL_ });
  await admin.connect();
});

after(async () => {
  await store.close();
  await admin.end();
  await dropDatabase(DB);
});

const count = (sql: string, params: unknown[]): Promise<number> => countOf(admin, sql, params);

async function start(j: Journal): Promise<void> {
  await store.startRun({ workflowId: j.workflowId, runId: j.runId, experimentId: j.experimentId, title: j.title, hypothesis: j.hypothesis, source: j.source, startedAt: j.startedAt, trigger: 'schedule', spec: j.plan?.spec });
}

test('migrations apply twice in a row, and from two callers at once, without error', async () => {
  await migrateResultsStore(URL_);
  const fresh = `${DB}_concurrent`;
  try {
    await Promise.all([migrateResultsStore(`${SERVER}/${fresh}`), migrateResultsStore(`${SERVER}/${fresh}`)]);
    const c = new pg.Client({ connectionString: `${SERVER}/${fresh}` });
    await c.connect();
    const applied = await c.query<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY id`);
    const tables = await c.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`);
    await c.end();
    assert.deepEqual(applied.rows.map((r) => r.name), ['001_results-store', '003_samples-retention', '004_history']);
    assert.deepEqual(tables.rows.map((r) => r.table_name), ['breaches', 'events', 'expectations', 'faults', MIGRATIONS_TABLE, 'runs', 'samples']);
  } finally {
    await dropDatabase(fresh);
  }
});

test('a journal written with 10,000 samples in batches of 1,000 reads back whole and in order', async (t) => {
  const j = journalFixture('store-10k', 'run-10k');
  await start(j);
  // Two observe probes sampled together, as an observe round does, 5,000 rounds each.
  const rounds = Array.from({ length: 5000 }, (_, i) => [
    { phase: 'observe' as const, seq: i, sample: sample('publishes fail fast', i) },
    { phase: 'observe' as const, seq: i, sample: sample('queue drains', i) },
  ]).flat();
  const timings: number[] = [];
  for (let i = 0; i < rounds.length; i += 1000) {
    const t0 = performance.now();
    await store.writeSamples(j, rounds.slice(i, i + 1000));
    timings.push(performance.now() - t0);
  }
  t.diagnostic(`1,000 samples per writeSamples: ${timings.map((ms) => ms.toFixed(0)).join(', ')} ms (median ${[...timings].sort((a, b) => a - b)[5].toFixed(0)} ms)`);
  await store.writeSamples(j, storedSamples({ ...j, observations: [] }));
  await store.finishRun(j);

  const back = await store.readJournal(j.workflowId, j.runId);
  assert.ok(back);
  assert.equal(back.observations.length, 10_000);
  // By time, then seq: the two probes of a round side by side, rounds in order.
  back.observations.forEach((s, i) => {
    assert.equal(s.at, at(Math.floor(i / 2) * 1000));
    assert.equal(s.check, i % 2 === 0 ? 'publishes fail fast' : 'queue drains');
  });
  assert.deepEqual(back.observations[9_999], sample('queue drains', 4_999));
  assert.deepEqual(back.baseline, j.baseline);
  assert.deepEqual(back.guardrails, j.guardrails);
  assert.deepEqual(back.verification, j.verification);
  assert.deepEqual(back.rollback, j.rollback);
  assert.deepEqual(back.hypothesisVsReality, j.hypothesisVsReality);
  assert.deepEqual(back.plan, j.plan);
  assert.deepEqual(back.breach, j.breach);
  assert.deepEqual(back.abort, j.abort);
  assert.equal(back.verdict, 'failed');
});

test('a retried batch and a batch rewritten by a worker that took over leave one row per sample and no holes', async () => {
  const j = journalFixture('store-retry', 'run-retry');
  await start(j);
  const batch = samples('observe', 'webhooks', 0, 100);
  await store.writeSamples(j, batch);
  await store.writeSamples(j, batch); // the same activity, retried
  // Another worker took over at seq 50 and wrote 50..149 again, with its own measurements.
  const takeover = samples('observe', 'webhooks', 50, 100).map((s) => ({ ...s, sample: { ...s.sample, measurement: { latencyMs: 99, messages: s.seq } } }));
  await store.writeSamples(j, takeover);

  const key = [j.workflowId, j.runId];
  assert.equal(await count(`SELECT count(*) AS n FROM samples WHERE workflow_id = $1 AND run_id = $2`, key), 150);
  assert.equal(await count(`SELECT count(DISTINCT seq) AS n FROM samples WHERE workflow_id = $1 AND run_id = $2 AND seq BETWEEN 0 AND 149`, key), 150);
  const back = await store.readJournal(j.workflowId, j.runId);
  assert.ok(back);
  assert.deepEqual(back.observations.map((s) => s.measurement.messages), Array.from({ length: 150 }, (_, i) => i));
  assert.ok(back.observations.slice(50).every((s) => s.measurement.latencyMs === 99));
  assert.ok(back.observations.slice(0, 50).every((s) => s.measurement.latencyMs !== 99));
});

test('a batch of many runs written twice (a retried statement) leaves one copy of each sample, and a takeover rewrites only its run', async () => {
  const runs = Array.from({ length: 30 }, (_, i) => ({ workflowId: `store-many-${i}`, runId: 'run-1' }));
  for (const run of runs) await start(journalFixture(run.workflowId, run.runId));
  const batch = runs.map((run) => ({ run, samples: [...samples('observe', 'webhooks', 0, 40), ...samples('guardrail', 'api answers', 0, 40)] }));
  await store.writeSamplesOfRuns(batch);
  await store.writeSamplesOfRuns(batch);
  // Another worker took over run 7 at seq 20 and wrote 20..59 again, with its own measurements.
  const takeover = samples('observe', 'webhooks', 20, 40).map((s) => ({ ...s, sample: { ...s.sample, measurement: { latencyMs: 99, messages: s.seq } } }));
  await store.writeSamplesOfRuns([{ run: runs[7], samples: takeover }]);

  const ids = runs.map((r) => r.workflowId);
  assert.equal(await count(`SELECT count(*) AS n FROM samples WHERE workflow_id = ANY($1)`, [ids]), 30 * 80 + 20);
  for (const [i, run] of runs.entries()) {
    const back = await store.readJournal(run.workflowId, run.runId);
    assert.ok(back, run.workflowId);
    const observed = i === 7 ? 60 : 40;
    assert.deepEqual(back.observations.map((s) => s.measurement.messages), Array.from({ length: observed }, (_, n) => n), `${run.workflowId}: each seq once, in order`);
    assert.equal(back.guardrails.length, 40);
    assert.equal(back.observations.filter((s) => s.measurement.latencyMs === 99).length, i === 7 ? 40 : 0, run.workflowId);
  }
});

test("a writer fed by 100 runs at once writes every run's samples once, in a few statements of many runs each", async () => {
  const runs = Array.from({ length: 100 }, (_, i) => ({ workflowId: `store-writer-${i}`, runId: 'run-1' }));
  for (const run of runs) await start(journalFixture(run.workflowId, run.runId));
  const statements: number[] = [];
  // The real store, counting the statements and the runs in each.
  const counted: ResultsStore = { ...store, writeSamplesOfRuns: (batch) => (statements.push(batch.length), store.writeSamplesOfRuns(batch)) };
  const writer = new StoreWriter(counted, { batchRows: 2000 });
  const rounds = 10;
  const durable: Promise<void>[] = [];
  for (let seq = 0; seq < rounds; seq++) for (const run of runs) durable.push(writer.samples(run, [...samples('observe', 'webhooks', seq, 1), ...samples('observe', 'queue drains', seq, 1), ...samples('guardrail', 'api answers', seq, 1)]));
  await Promise.all(durable);
  assert.equal(writer.pending, 0);
  writer.close();

  const ids = runs.map((r) => r.workflowId);
  assert.equal(await count(`SELECT count(*) AS n FROM samples WHERE workflow_id = ANY($1)`, [ids]), 100 * rounds * 3);
  assert.equal(await count(`SELECT count(DISTINCT (workflow_id, phase, check_name, seq)) AS n FROM samples WHERE workflow_id = ANY($1)`, [ids]), 100 * rounds * 3);
  const back = await store.readJournal(runs[42].workflowId);
  for (const check of ['webhooks', 'queue drains']) assert.deepEqual(back?.observations.filter((s) => s.check === check).map((s) => s.measurement.messages), Array.from({ length: rounds }, (_, n) => n), check);
  // 3,000 rows: the first statements go at once with the runs that came first, the rest wait and go together.
  assert.ok(statements.length < 20, `${statements.length} statements: ${statements.join(', ')} runs each`);
  assert.ok(Math.max(...statements) > 50, `the biggest statement held ${Math.max(...statements)} runs`);
});

test('finishing a run twice leaves exactly the journal\'s faults, rows, breach and events', async () => {
  const j = journalFixture('store-finish-twice', 'run-1');
  await store.finishRun(j);
  await store.finishRun(j);
  const key = [j.workflowId, j.runId];
  assert.equal(await count(`SELECT count(*) AS n FROM faults WHERE workflow_id = $1 AND run_id = $2`, key), 1);
  assert.equal(await count(`SELECT count(*) AS n FROM expectations WHERE workflow_id = $1 AND run_id = $2`, key), 3);
  assert.equal(await count(`SELECT count(*) AS n FROM breaches WHERE workflow_id = $1 AND run_id = $2`, key), 1);
  assert.equal(await count(`SELECT count(*) AS n FROM events WHERE workflow_id = $1 AND run_id = $2`, key), 3);
  const row = await admin.query(`SELECT experiment_id, verdict, rollback_status, spec->>'id' AS spec_id FROM runs WHERE workflow_id = $1 AND run_id = $2`, key);
  assert.deepEqual(row.rows, [{ experiment_id: j.experimentId, verdict: 'failed', rollback_status: 'complete', spec_id: j.experimentId }]);
});

test('finishing a run again with other rows leaves exactly the new journal\'s faults, rows and breach', async () => {
  const j = journalFixture('store-finish-changed', 'run-1');
  await store.finishRun(j);
  const [fault] = j.rollback.faults;
  const changed: Journal = {
    ...j,
    rollback: { ...j.rollback, faults: [{ ...fault, status: 'injected', lastRevertError: 'gone' }, { ...fault, id: 'f2', description: 'pause it again' }] },
    hypothesisVsReality: [{ ...j.hypothesisVsReality[2], observed: '11' }],
    breach: undefined,
  };
  await store.finishRun(changed);
  const key = [j.workflowId, j.runId];
  const faults = await admin.query(`SELECT fault_id, idx, status, last_error FROM faults WHERE workflow_id = $1 AND run_id = $2 ORDER BY idx`, key);
  assert.deepEqual(faults.rows, [
    { fault_id: 'f1', idx: 0, status: 'injected', last_error: 'gone' },
    { fault_id: 'f2', idx: 1, status: 'reverted', last_error: null },
  ]);
  const rows = await admin.query(`SELECT idx, checked_when, observed FROM expectations WHERE workflow_id = $1 AND run_id = $2 ORDER BY idx`, key);
  assert.deepEqual(rows.rows, [{ idx: 0, checked_when: 'after recovery', observed: '11' }]);
  assert.equal(await count(`SELECT count(*) AS n FROM breaches WHERE workflow_id = $1 AND run_id = $2`, key), 0);
  // And back: the first journal's rows again, as a retry of it would leave them.
  await store.finishRun(j);
  assert.deepEqual((await store.readJournal(j.workflowId, j.runId))?.hypothesisVsReality, j.hypothesisVsReality);
  assert.equal(await count(`SELECT count(*) AS n FROM faults WHERE workflow_id = $1 AND run_id = $2`, key), 1);
  assert.equal(await count(`SELECT count(*) AS n FROM breaches WHERE workflow_id = $1 AND run_id = $2`, key), 1);
  await store.recordExpectations(j, j.hypothesisVsReality.slice(1));
  assert.deepEqual((await store.readJournal(j.workflowId, j.runId))?.hypothesisVsReality, j.hypothesisVsReality.slice(1));
  await store.recordExpectations(j, []);
  assert.equal(await count(`SELECT count(*) AS n FROM expectations WHERE workflow_id = $1 AND run_id = $2`, key), 0);
});

test('events from every source read back merged by time', async () => {
  const j = journalFixture('store-events', 'run-1');
  await start(j);
  await store.writeEvents(j, [
    { source: 'observe', seq: 0, at: at(2000), stage: 'observe', message: "'publishes fail fast' went from ok to MISS" },
    { source: 'guardrail api answers', seq: 0, at: at(3000), stage: 'observe', message: 'breached' },
    { source: 'observe', seq: 1, at: at(5000), stage: 'observe', message: "'publishes fail fast' went from MISS to ok" },
  ]);
  await store.finishRun(j);
  const back = await store.readJournal(j.workflowId);
  assert.deepEqual(back?.events.map((e) => e.at.slice(17, 19) + ' ' + e.message), [
    '00 baseline: 1 check',
    '01 injected f1: pause container store-nats',
    "02 'publishes fail fast' went from ok to MISS",
    '03 breached',
    "05 'publishes fail fast' went from MISS to ok",
    '06 reverted f1',
  ]);
});

test('a workflow id read without a run id gives its newest run, and an unknown id gives undefined', async () => {
  const first = journalFixture('store-continued', 'run-a');
  const second = { ...journalFixture('store-continued', 'run-b'), startedAt: at(60_000), finishedAt: at(90_000), verdict: 'passed' as const };
  await store.finishRun(second);
  await store.finishRun(first);
  assert.equal((await store.readJournal('store-continued'))?.runId, 'run-b');
  assert.equal((await store.readJournal('store-continued', 'run-a'))?.verdict, 'failed');
  assert.equal(await store.readJournal('no-such-workflow'), undefined);
  assert.equal(await store.readJournal('store-continued', 'no-such-run'), undefined);
});

test('a read after a write (the report after finishRun) sees that write, and fails with its error when it fails', async () => {
  const j = journalFixture('store-read-after', 'run-1');
  await start(j);
  await store.writeSamples(j, samples('verify', 'webhooks', 0, 2));
  // The connection opens while the outcome is still being written; the snapshot sees it.
  const outcome = await store.readRun(j.workflowId, j.runId, async (r) => ({ verdict: r.head.verdict, counts: r.counts }), { after: store.finishRun(j) });
  assert.deepEqual(outcome, { verdict: 'failed', counts: { baseline: 0, observe: 0, guardrail: 0, verify: 2 } });
  // Phases without a sample are not queried, and read back empty; the others whole.
  const read = await store.readRun(j.workflowId, j.runId, async (r) => {
    const got: Record<string, number> = {};
    for (const phase of ['baseline', 'observe', 'guardrail', 'verify'] as const) {
      got[phase] = 0;
      for await (const _ of r.samples(phase)) got[phase]++;
    }
    return got;
  });
  assert.deepEqual(read, { baseline: 0, observe: 0, guardrail: 0, verify: 2 });
  const refused = new Error('the outcome could not be written');
  await assert.rejects(store.readRun(j.workflowId, j.runId, async () => 'read', { after: Promise.reject(refused) }), (e) => e === refused);
});

test('a phase of up to 1,000 samples comes with the head and one of more through a cursor, both read back the same', async () => {
  // Measurements whose keys are not in alphabetical order, quotes, newlines and non-ASCII text: what the head's JSON must carry unchanged.
  const odd = (check: string, seq: number): StoredSample => {
    const s = sample(check, seq, { zeta: seq, alpha: `"quoted"\nline ${seq} — ünïcödé`, ok: seq % 2 === 0 });
    return { phase: 'observe', seq, sample: { ...s, error: seq % 3 ? '' : 'failed:\n\t"tab"' } };
  };
  const runOf = async (workflowId: string, n: number): Promise<Journal> => {
    const j = journalFixture(workflowId, 'run-1');
    await store.writeSamples(j, [...storedSamples({ ...j, observations: [] }), ...Array.from({ length: n }, (_, i) => odd('many', i))]);
    await store.finishRun(j);
    return j;
  };
  // While `work` runs: is the read's own transaction (a cursor's) still open?
  const heldTransactions = () =>
    count(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'gameday-results' AND state LIKE 'idle in transaction%'`, []);
  const read = (j: Journal) =>
    store.readRun(j.workflowId, j.runId, async (r) => {
      const held = await heldTransactions();
      const phases: Record<string, ProbeSample[]> = {};
      for (const phase of ['baseline', 'observe', 'guardrail', 'verify'] as const) {
        phases[phase] = [];
        for await (const s of r.samples(phase)) phases[phase].push(s);
      }
      return { held, head: { ...r.head, workflowId: '' }, counts: r.counts, phases };
    });
  const small = await read(await runOf('store-inline-1000', 1000));
  const big = await read(await runOf('store-cursor-1001', 1001));
  assert.equal(small?.held, 0, 'a short run is read in one statement, no transaction held while the report is written');
  assert.equal(big?.held, 1, 'a long run is read in a transaction of its own');
  assert.deepEqual(small?.counts, { baseline: 1, observe: 1000, guardrail: 3, verify: 1 });
  assert.deepEqual(big?.counts, { ...small?.counts, observe: 1001 });
  assert.deepEqual(big?.head, small?.head);
  assert.deepEqual(big?.phases.observe.slice(0, 1000), small?.phases.observe);
  assert.deepEqual({ ...big?.phases, observe: [] }, { ...small?.phases, observe: [] });
  // The JSON of a measurement keeps its keys' order, as the json column does.
  assert.deepEqual(Object.keys(small?.phases.observe[7].measurement ?? {}), ['zeta', 'alpha', 'ok']);
  assert.equal(small?.phases.observe[3].error, 'failed:\n\t"tab"');
});

test('a run still going reads back with its samples so far, as not finished', async () => {
  const j = journalFixture('store-unfinished', 'run-1');
  await start(j);
  await store.writeSamples(j, samples('observe', 'webhooks', 0, 3));
  const back = await store.readJournal(j.workflowId);
  assert.equal(back?.observations.length, 3);
  assert.equal(back?.verdict, 'error');
  assert.equal(back?.rollback.status, 'incomplete');
  assert.match(back?.reason ?? '', /no outcome in the results store yet/);
});

test('a report exported from the store alone is the report the worker would have written', async () => {
  const j = journalFixture('store-export', 'run-1');
  await start(j);
  await store.writeSamples(j, storedSamples(j));
  await store.finishRun({ ...j, baseline: [], observations: [], guardrails: [], verification: [] });
  const reportsDir = await mkdtemp(path.join(os.tmpdir(), 'gameday-store-reports-'));
  try {
    // The worker's report compares with the run before; this DB holds none of this experiment that started earlier.
    const worker: Journal = { ...j, revalidation: { rows: [] } };
    const written = await writeReport(reportsDir, worker);
    await rm(path.join(written, 'journal.json'));
    await rm(path.join(written, 'report.md'));

    const dir = await exportReport(store, reportsDir, j.workflowId);
    assert.equal(dir, reportDirFor(reportsDir, j.workflowId));
    assert.equal(await readFile(path.join(dir, 'report.md'), 'utf8'), renderMarkdown(worker));
    const exported = JSON.parse(await readFile(path.join(dir, 'journal.json'), 'utf8')) as Journal;
    assert.equal(exported.observations.length, j.observations.length);
    assert.equal(exported.guardrails.length, j.guardrails.length);
    assert.deepEqual(exported, JSON.parse(JSON.stringify(worker)));
    const inMemory = JSON.stringify({ ...(await store.readJournal(j.workflowId)), revalidation: worker.revalidation }, null, 2) + '\n';
    assert.equal(await readFile(path.join(dir, 'journal.json'), 'utf8'), inMemory, 'streamed, journal.json is byte for byte the whole journal read into memory');
    await assert.rejects(exportReport(store, reportsDir, 'no-such-workflow'), /the results store has no run no-such-workflow to export/);
  } finally {
    await rm(reportsDir, { recursive: true, force: true });
  }
});

test("the previous run is the experiment's closed run that started last before this one; history lists runs newest first, bounded", async () => {
  const exp = 'store-history';
  const run = (n: number, verdict: Journal['verdict']): Journal => ({ ...journalFixture(`store-history-${n}`, 'r'), experimentId: exp, startedAt: at(1_000_000 + n * 1000), finishedAt: at(1_000_000 + n * 1000 + 500), verdict });
  await store.finishRun(run(1, 'failed'));
  await store.finishRun(run(2, 'passed'));
  await start(run(3, 'passed')); // still going: no outcome yet
  await store.finishRun({ ...run(4, 'passed'), experimentId: 'store-history-other' });
  const fifth = run(5, 'passed');
  await store.finishRun(fifth);

  const prev = await store.previousRun(fifth);
  assert.equal(prev?.run.workflowId, 'store-history-2', 'not the run still going, nor another experiment');
  assert.deepEqual(prev?.expectations, fifth.hypothesisVsReality.map((r) => ({ ...r })));
  assert.equal((await store.previousRun(run(1, 'failed')))?.run.workflowId, undefined, 'the first has none');

  await store.recordExpectations(fifth, [{ expectation: 'x', when: 'after recovery', expected: 'y', observed: 'z', ok: false }]);
  const listed = await store.listRuns({ experimentId: exp, limit: 10 });
  assert.deepEqual(listed.map((r) => [r.workflowId, r.verdict, r.trigger]), [['store-history-5', 'passed', null], ['store-history-3', null, 'schedule'], ['store-history-2', 'passed', null], ['store-history-1', 'failed', null]]);
  assert.deepEqual(listed[0].expectations, { met: 0, total: 1 }, 'the rows the report recorded, baseline left out');
  assert.equal(listed[0].system, 'store', 'derived from the container store-nats');
  assert.deepEqual((await store.listRuns({ experimentId: exp, limit: 2 })).map((r) => r.workflowId), ['store-history-5', 'store-history-3']);
  assert.deepEqual((await store.listRuns({ experimentId: exp, since: at(1_002_000), limit: 10 })).map((r) => r.workflowId), ['store-history-5', 'store-history-3', 'store-history-2']);
  const perExperiment = await store.listRuns({ since: at(1_000_000), limit: 10, perExperiment: 1, verdictsOrRollbackIncomplete: ['passed', 'failed'] });
  assert.deepEqual(perExperiment.map((r) => r.workflowId), ['store-history-5', 'store-history-4']);
});
