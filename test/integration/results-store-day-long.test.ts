/**
 * Day-long runs in the results store: a report of hundreds of thousands of samples is streamed
 * out whole and in order, and retention prunes the samples of old runs, keeping their records.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { exportReport } from '../../src/report/export';
import { renderMarkdown } from '../../src/report/markdown';
import { migrateResultsStore } from '../../src/store/migrate';
import { openResultsStore } from '../../src/store/postgres';
import type { ResultsStore } from '../../src/store/types';
import { StoreWriter } from '../../src/store/writer';
import type { Journal } from '../../src/types';
import { countOf, dropDatabase, PG_SERVER } from '../store-db';
import { at, journalFixture, samples, storedSamples } from '../store-fixtures';

// A database of this file's own on the stack's server, created by the migrations and dropped after.
const DB = `gameday_test_daylong_${process.pid}`;
const URL_ = `${PG_SERVER}/${DB}`;
const DAY = 86_400_000;
let store: ResultsStore;
let admin: pg.Client;
let reportsDir: string;

before(async () => {
  await migrateResultsStore(URL_);
  store = openResultsStore(URL_);
  admin = new pg.Client({ connectionString: URL_ });
  await admin.connect();
  reportsDir = await mkdtemp(path.join(os.tmpdir(), 'gameday-daylong-reports-'));
});

after(async () => {
  await store.close();
  await admin.end();
  await rm(reportsDir, { recursive: true, force: true });
  await dropDatabase(DB);
});

const count = (sql: string, params: unknown[]): Promise<number> => countOf(admin, sql, params);

/** Records the run as a worker would: its row, the fixture's samples, its outcome. */
async function recordRun(j: Journal): Promise<void> {
  await store.startRun({ workflowId: j.workflowId, runId: j.runId, experimentId: j.experimentId, title: j.title, hypothesis: j.hypothesis, source: j.source, startedAt: j.startedAt });
  await store.writeSamples(j, storedSamples(j));
  await store.finishRun(j);
}

const ROUNDS = 90_000;
const GUARD = 20_000;
/** Every 1000th round misses, with an error: 90 of each probe's samples. */
const MISSES = ROUNDS / 1000;

/**
 * 200,000 samples written straight into the table (as a day's sampling would leave them): two
 * observe probes a round, 90,000 rounds a second apart, and 20,000 guardrail samples.
 */
async function insertDay(j: Journal): Promise<void> {
  const sampleOf = (phase: string, checks: string[], n: number) => admin.query(
    `INSERT INTO samples (workflow_id, run_id, phase, check_name, seq, at, stage, ok, error, measurement, expectations)
     SELECT $1, $2, $3, c.name, g, $4::timestamptz + g * interval '1 second', 'observe', g % 1000 <> 999,
       CASE WHEN g % 1000 = 999 THEN 'timeout after 1500 ms' ELSE '' END,
       json_build_object('latencyMs', 3 + g % 7, 'messages', g),
       json_build_array(json_build_object('field', 'latencyMs', 'expected', 'at most 2500', 'observed', (3 + g % 7)::text, 'ok', g % 1000 <> 999))
     FROM generate_series(0, $5::int - 1) g, unnest($6::text[]) c(name)`,
    [j.workflowId, j.runId, phase, at(1000), n, checks],
  );
  await sampleOf('observe', ['publishes fail fast', 'queue drains'], ROUNDS);
  await sampleOf('guardrail', ['api answers'], GUARD);
}

test('a report of a run with 200,000 samples holds every sample in order, once, and its counts match', async () => {
  const j = journalFixture('daylong-report', 'run-1');
  await recordRun({ ...j, observations: [], guardrails: [] });
  await insertDay(j);

  const dir = await exportReport(store, reportsDir, j.workflowId);
  const text = await readFile(path.join(dir, 'journal.json'), 'utf8');
  const exported = JSON.parse(text) as Journal;
  assert.equal(exported.observations.length, 2 * ROUNDS);
  assert.equal(exported.guardrails.length, GUARD);
  // In order (by time, the two probes of a round side by side), every round once.
  exported.observations.forEach((s, i) => {
    const round = Math.floor(i / 2);
    assert.equal(s.at, at(1000 + round * 1000), `observation #${i}`);
    assert.equal(s.check, i % 2 === 0 ? 'publishes fail fast' : 'queue drains', `observation #${i}`);
    assert.equal(s.measurement.messages, round, `observation #${i}`);
  });
  exported.guardrails.forEach((s, i) => assert.equal(s.measurement.messages, i, `guardrail sample #${i}`));
  assert.deepEqual(exported.baseline, j.baseline);
  assert.deepEqual(exported.verification, j.verification);

  // The very files the whole journal in memory would have given.
  const read = await store.readJournal(j.workflowId);
  assert.ok(read);
  // The export adds the comparison with the run before (none in this database).
  const whole: Journal = { ...read, revalidation: exported.revalidation };
  assert.deepEqual(exported.revalidation?.rows, []);
  assert.equal(text, JSON.stringify(whole, null, 2) + '\n');
  const md = await readFile(path.join(dir, 'report.md'), 'utf8');
  assert.equal(md, renderMarkdown(whole));

  // And what a reader checks in it.
  assert.match(md, new RegExp(`\\| publishes fail fast \\| ${ROUNDS} \\| ${MISSES} \\| 3–9 \\| timeout after 1500 ms \\|`));
  assert.match(md, new RegExp(`\\| queue drains \\| ${ROUNDS} \\| ${MISSES} \\| 3–9 \\| timeout after 1500 ms \\|`));
  assert.match(md, new RegExp(`\\| api answers \\| ${GUARD} \\| BREACHED at `));
  assert.match(md, new RegExp(`\\| … \\| ${2 * ROUNDS - 400} more samples in journal.json \\|`));
  const sampleRows = md.split('**Samples**')[1].split('\n').filter((l) => /^\| \d\d:\d\d/.test(l));
  assert.equal(sampleRows.length, 400, 'the first 200 samples and the last 200');
  assert.match(sampleRows[0], /^\| 20:00:01\.000 \| publishes fail fast \| ok \|/);
  assert.match(sampleRows[399], new RegExp(`^\\| ${at(1000 + (ROUNDS - 1) * 1000).slice(11, 23)} \\| queue drains \\| MISS \\|`));
});

test('retention prunes the samples of old runs and keeps their records; recent and possibly running runs keep theirs', async () => {
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const aged = (id: string, startedMs: number, finished: boolean): Journal => ({ ...journalFixture(id, 'run-1'), startedAt: iso(startedMs), finishedAt: finished ? iso(startedMs + 60_000) : '' });
  const oldRun = aged('retention-old', now - 40 * DAY, true);
  const recentRun = aged('retention-recent', now - 2 * DAY, true);
  const oldUnfinished = aged('retention-old-unfinished', now - 40 * DAY, false);
  const maybeRunning = aged('retention-maybe-running', now - 30 * DAY - 3_600_000, false);
  await recordRun(oldRun);
  await recordRun(recentRun);
  for (const j of [oldUnfinished, maybeRunning]) {
    await store.startRun({ workflowId: j.workflowId, runId: j.runId, experimentId: j.experimentId, title: j.title, hypothesis: j.hypothesis, source: j.source, startedAt: j.startedAt });
  }
  // Enough samples that pruning takes several batches.
  for (const j of [oldRun, recentRun, oldUnfinished, maybeRunning]) await store.writeSamples(j, samples('observe', 'webhooks', 0, 1050));
  const samplesOf = (j: Journal) => count(`SELECT count(*) AS n FROM samples WHERE workflow_id = $1 AND run_id = $2`, [j.workflowId, j.runId]);
  const before = { recent: await samplesOf(recentRun), maybeRunning: await samplesOf(maybeRunning) };

  const deleted = await store.pruneSamples(new Date(now - 30 * DAY), { batch: 100 });
  assert.equal(deleted, 2 * (1050 + storedSamples(oldRun).length) - storedSamples(oldRun).length, 'the old finished run and the old unfinished one');
  assert.equal(await samplesOf(oldRun), 0);
  assert.equal(await samplesOf(oldUnfinished), 0);
  assert.equal(await samplesOf(recentRun), before.recent);
  assert.equal(await samplesOf(maybeRunning), before.maybeRunning, 'a run without an outcome that may still be sampling keeps its samples');
  assert.equal(await store.pruneSamples(new Date(now - 30 * DAY)), 0, 'a second pass finds nothing');

  // The old run's record is whole: verdict, hypothesis rows, rollback record, breach, events.
  const back = await store.readJournal(oldRun.workflowId);
  assert.ok(back);
  assert.equal(back.verdict, oldRun.verdict);
  assert.deepEqual(back.hypothesisVsReality, oldRun.hypothesisVsReality);
  assert.deepEqual(back.rollback, oldRun.rollback);
  assert.deepEqual(back.breach, oldRun.breach);
  assert.deepEqual(back.events, oldRun.events);
  assert.deepEqual([back.observations.length, back.guardrails.length, back.baseline.length], [0, 0, 0]);
  assert.match(back.store?.samplesPrunedAt ?? '', /^\d{4}-\d\d-\d\dT/);
  const dir = await exportReport(store, reportsDir, oldRun.workflowId);
  assert.match(await readFile(path.join(dir, 'report.md'), 'utf8'), /The run's samples were pruned from the results store at .* \(GAMEDAY_RESULTS_RETENTION\)/);
  assert.equal((await store.readJournal(recentRun.workflowId))?.store, undefined);
});

test('a writer whose store is down holds at most its cap and counts every sample it refuses past it', async () => {
  // A real store that refuses every connection: nothing listens on port 1.
  const down = openResultsStore('postgres://postgres@127.0.0.1:1/gameday', { connectionTimeoutMillis: 500 });
  const writer = new StoreWriter(down, { maxPending: 1000, retryMs: () => 200 });
  try {
    const run = { workflowId: 'writer-down', runId: 'run-1' };
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        Promise.race([
          writer.samples(run, samples('observe', 'webhooks', i * 200, 200)).then(
            () => 'stored',
            (e: Error) => e.message,
          ),
          new Promise<string>((r) => setTimeout(() => r('waiting'), 1500)),
        ]),
      ),
    );
    assert.deepEqual(outcomes.slice(0, 5), ['waiting', 'waiting', 'waiting', 'waiting', 'waiting'], 'the first 1,000 rows wait for the store');
    for (const refused of outcomes.slice(5)) assert.match(refused, /^the results store has 1000 rows waiting \(it is down since .*\): 200 more refused$/);
    assert.equal(writer.pending, 1000);
    assert.equal(writer.lost, 1000, 'every refused sample is counted, for the report to name');
    assert.match(writer.lastError ?? '', /unreachable/);
  } finally {
    writer.close();
    await down.close();
  }
});
