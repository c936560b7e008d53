/**
 * `BENCH_ONLY=daylong`: a day-long run's report and the StoreWriter at volume, on a scratch
 * database of the stack's PostgreSQL (dropped after).
 *
 * - report: a synthetic 24 h journal (3 observe probes + 1 guardrail a round) inserted straight
 *   into the store, at each size of BENCH_DAYLONG_SAMPLES (default 345600 = 1 s for 24 h, and
 *   2000000); its report exported by a fresh process, streamed (`after`) and through the whole
 *   journal in memory (`before`, the path reports took until now), each with its time, peak RSS
 *   and peak heap, or the error that ended it.
 * - writer: 100 runs handing a round of 3 probes + 1 guardrail to one StoreWriter every 10 ms
 *   (40,000 rows/s offered) for BENCH_DAYLONG_WRITER_S seconds: rows/s made durable, the most
 *   waiting, refused rows; then the same against a store that is down: memory at the queue's cap
 *   and the rows refused past it (counted, so the report names them as missing); and its
 *   capacity: a backlog of 160,000 rows of 100 runs handed over at once, timed until durable.
 *
 * BENCH_DAYLONG_PARTS=writer measures the writer alone, keeping the report's last figures (and
 * saying when they were measured).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { migrateResultsStore } from '../src/store/migrate';
import { openResultsStore } from '../src/store/postgres';
import type { StoredSample } from '../src/store/types';
import { StoreWriter } from '../src/store/writer';
import type { ProbeSample } from '../src/types';
import { journalFixture, storedSamples } from '../test/store-fixtures';
import { below, delay, envNumber, envNumbers, progress, readResults, ROOT } from './lib';

const run = promisify(execFile);
const SERVER = 'postgres://postgres@127.0.0.1:55432';
const DB = 'gameday_bench_daylong';
const URL_ = `${SERVER}/${DB}`;
const DAY_MS = 86_400_000;
const OBSERVE = ['publishes fail fast', 'queue drains', 'api answers fast'];
const GUARDRAIL = 'api answers';

async function admin<T>(database: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: `${SERVER}/${database}` });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

/** A run of `samples` samples over 24 h: its record through the store, its samples straight into the table. */
async function insertRun(workflowId: string, samples: number): Promise<{ rounds: number; intervalMs: number }> {
  const rounds = Math.ceil(samples / (OBSERVE.length + 1));
  const intervalMs = DAY_MS / rounds;
  const j = journalFixture(workflowId, 'run-1');
  const store = openResultsStore(URL_);
  const startedAt = new Date(Date.parse(j.startedAt) - DAY_MS).toISOString();
  await store.startRun({ workflowId, runId: 'run-1', experimentId: j.experimentId, title: j.title, hypothesis: j.hypothesis, source: j.source, startedAt });
  await store.writeSamples(j, storedSamples({ ...j, observations: [], guardrails: [] }));
  await store.finishRun({ ...j, startedAt });
  await store.close();
  await admin(DB, async (c) => {
    for (let from = 0; from < rounds; from += 100_000) {
      const to = Math.min(rounds, from + 100_000) - 1;
      const insert = (phase: string, checks: string[]) =>
        c.query(
          `INSERT INTO samples (workflow_id, run_id, phase, check_name, seq, at, stage, ok, error, measurement, expectations)
           SELECT $1, 'run-1', $2, ch.name, g, $3::timestamptz + g * $4::float8 * interval '1 millisecond', 'observe', g % 1000 <> 999,
             CASE WHEN g % 1000 = 999 THEN 'timeout after 1500 ms' ELSE '' END,
             json_build_object('status', 200, 'latencyMs', 3 + g % 7),
             json_build_array(json_build_object('field', 'latencyMs', 'expected', 'at most 2500', 'observed', (3 + g % 7)::text, 'ok', g % 1000 <> 999))
           FROM generate_series($5::int, $6::int) g, unnest($7::text[]) ch(name)`,
          [workflowId, phase, startedAt, intervalMs, from, to, checks],
        );
      await insert('observe', OBSERVE);
      await insert('guardrail', [GUARDRAIL]);
    }
    await c.query('ANALYZE samples');
  });
  return { rounds, intervalMs: Math.round(intervalMs * 10) / 10 };
}

interface ChildResult {
  mode: string;
  seconds?: number;
  peakRssMiB?: number;
  peakHeapMiB?: number;
  error?: string;
}

/** One export in a fresh process; an out-of-memory or a timeout is an outcome, not a crash of the bench. */
async function exportIn(mode: 'before' | 'after', workflowId: string, reportsDir: string): Promise<ChildResult> {
  try {
    const { stdout } = await run(process.execPath, [path.join(ROOT, 'dist', 'bench', 'daylong-child.js'), URL_, reportsDir, workflowId, mode], { timeout: 600_000, maxBuffer: 1 << 20 });
    return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as ChildResult;
  } catch (e) {
    const err = e as { code?: number; signal?: string; killed?: boolean; stderr?: string };
    const last = (err.stderr ?? '').trim().split('\n').filter(Boolean).slice(-2).join(' / ');
    return { mode, error: err.killed ? 'gave up after 600 s' : `exited ${err.signal ?? `with code ${err.code}`}: ${last.slice(0, 300)}` };
  }
}

async function reportPoints(sizes: number[]): Promise<unknown[]> {
  const points = [];
  for (const samples of sizes) {
    const workflowId = `bench-daylong-${samples}`;
    const t = performance.now();
    const shape = await insertRun(workflowId, samples);
    const insertSeconds = Math.round((performance.now() - t) / 100) / 10;
    progress(`daylong: ${samples} samples inserted in ${insertSeconds} s`);
    const reportsDir = await mkdtemp(path.join(os.tmpdir(), 'h-day-bench-reports-'));
    try {
      const after = await exportIn('after', workflowId, reportsDir);
      progress(`daylong: ${samples} streamed: ${JSON.stringify(after)}`);
      const before = await exportIn('before', workflowId, reportsDir);
      progress(`daylong: ${samples} whole in memory: ${JSON.stringify(before)}`);
      points.push({ samples, ...shape, insertSeconds, after, before });
    } finally {
      await rm(reportsDir, { recursive: true, force: true });
    }
  }
  return points;
}

function round(seq: number, at: string, checks: string[], phase: StoredSample['phase']): StoredSample[] {
  return checks.map((check) => {
    const sample: ProbeSample = { check, stage: 'observe', at, measurement: { status: 200, latencyMs: 3 + (seq % 7) }, error: '', expectations: [{ field: 'latencyMs', expected: 'at most 2500', observed: String(3 + (seq % 7)), ok: true }], ok: true };
    return { phase, seq, sample };
  });
}

/** `runs` runs each offering a round every `intervalMs` for `seconds`; what the writer made of it. */
async function offer(writer: StoreWriter, runs: number, intervalMs: number, seconds: number, prefix: string) {
  const keys = Array.from({ length: runs }, (_, i) => ({ workflowId: `${prefix}-${i}`, runId: 'run-1' }));
  let offered = 0;
  let durable = 0;
  let refused = 0;
  let maxPending = 0;
  let peakHeap = 0;
  const started = performance.now();
  let seq = 0;
  while (performance.now() - started < seconds * 1000) {
    const tick = performance.now();
    const at = new Date().toISOString();
    for (const key of keys) {
      for (const [checks, phase] of [[OBSERVE, 'observe'], [[GUARDRAIL], 'guardrail']] as const) {
        const rows = round(seq, at, [...checks], phase);
        offered += rows.length;
        writer.samples(key, rows).then(
          () => (durable += rows.length),
          () => (refused += rows.length),
        );
      }
    }
    seq++;
    maxPending = Math.max(maxPending, writer.pending);
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    await delay(Math.max(0, intervalMs - (performance.now() - tick)));
  }
  const offeredSeconds = (performance.now() - started) / 1000;
  return { offered, offeredSeconds, durable: () => durable, refused: () => refused, maxPending, peakHeap, started };
}

async function writerAtVolume(seconds: number): Promise<unknown> {
  const runs = 100;
  const store = openResultsStore(URL_);
  const writer = new StoreWriter(store);
  const o = await offer(writer, runs, 10, seconds, 'bench-writer');
  const drained = await writer.drained(120_000);
  const allSeconds = (performance.now() - o.started) / 1000;
  writer.close();
  await store.close();
  const offeredPerSecond = Math.round(o.offered / o.offeredSeconds);
  const durablePerSecond = Math.round(o.durable() / allSeconds);
  return {
    runs,
    intervalMs: 10,
    seconds,
    offeredRowsPerSecond: offeredPerSecond,
    // Kept up: what was offered is durable at (nearly) the rate it came.
    durableRowsPerSecond: { value: durablePerSecond, target: `>= ${Math.round(offeredPerSecond * 0.95)} rows/s (95% of offered)`, met: durablePerSecond >= offeredPerSecond * 0.95 },
    drainedWithin120s: drained,
    maxPendingRows: o.maxPending,
    refusedRows: o.refused(),
    peakHeapMiB: Math.round(o.peakHeap / 2 ** 20),
  };
}

/**
 * What the writer drains when it is behind: `rounds` rounds of 100 runs handed over at once (the
 * backlog a slow store leaves), timed until every row is durable. Unlike the offered rate, this
 * does not depend on how fast a loaded machine can produce rows.
 */
async function writerCapacity(rounds: number): Promise<unknown> {
  const store = openResultsStore(URL_);
  const writer = new StoreWriter(store);
  const keys = Array.from({ length: 100 }, (_, i) => ({ workflowId: `bench-capacity-${i}`, runId: 'run-1' }));
  const at = new Date().toISOString();
  const t = performance.now();
  const writes: Promise<void>[] = [];
  for (let seq = 0; seq < rounds; seq++) for (const key of keys) writes.push(writer.samples(key, [...round(seq, at, [...OBSERVE], 'observe'), ...round(seq, at, [GUARDRAIL], 'guardrail')]));
  const results = await Promise.allSettled(writes);
  const seconds = (performance.now() - t) / 1000;
  writer.close();
  await store.close();
  const rows = rounds * keys.length * (OBSERVE.length + 1);
  return { rows, refused: results.filter((r) => r.status === 'rejected').length * (OBSERVE.length + 1), seconds: Math.round(seconds * 10) / 10, durableRowsPerSecond: Math.round(rows / seconds) };
}

async function writerWhileDown(seconds: number): Promise<unknown> {
  const store = openResultsStore('postgres://postgres@127.0.0.1:1/down', { connectionTimeoutMillis: 500 });
  const writer = new StoreWriter(store);
  const heapBefore = process.memoryUsage().heapUsed;
  const o = await offer(writer, 100, 10, seconds, 'bench-writer-down');
  await delay(100);
  const refused = o.refused();
  const lost = writer.lost;
  writer.close();
  await store.close();
  return {
    seconds,
    offeredRows: o.offered,
    maxPendingRows: o.maxPending,
    refusedRows: refused,
    // Every refused row is counted (the sampler adds it to its progress; the report names it as missing).
    lostCountedByWriter: lost,
    heapGrowthMiB: below(Math.round((o.peakHeap - heapBefore) / 2 ** 20), 512, 'MiB at the 200,000-row cap'),
  };
}

/** The report's figures of the last run of this part, when this one measures the writer alone. */
async function lastReport(): Promise<Record<string, unknown>> {
  const last = ((await readResults()).daylong ?? {}) as Record<string, unknown>;
  return { reportMeasured: { commit: last.commit, date: last.date }, report: last.report, reportPeakRssMiB: last.reportPeakRssMiB, reportPeakRssGrowth: last.reportPeakRssGrowth };
}

/** The part: report points, then the writer. */
export async function dayLong(): Promise<unknown> {
  const parts = (process.env.BENCH_DAYLONG_PARTS ?? 'report,writer').split(',').map((p) => p.trim());
  await admin('postgres', (c) => c.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`));
  await migrateResultsStore(URL_);
  try {
    let report: Record<string, unknown>;
    if (parts.includes('report')) {
      const points = await reportPoints(envNumbers('BENCH_DAYLONG_SAMPLES', [345_600, 1_000_000]));
      const after = (points as { after: ChildResult }[]).map((p) => p.after.peakRssMiB ?? NaN);
      report = {
        report: points,
        reportPeakRssMiB: below(Math.max(...after), 400, 'MiB for every size (streamed)'),
        reportPeakRssGrowth: below(Math.round((Math.max(...after) / Math.min(...after)) * 100) / 100, 1.5, '× from the smallest to the biggest journal (streamed)'),
      };
    } else report = await lastReport();
    const seconds = envNumber('BENCH_DAYLONG_WRITER_S', 20);
    progress('daylong: writer, 100 runs every 10 ms');
    const writer = await writerAtVolume(seconds);
    progress(`daylong: writer ${JSON.stringify(writer)}`);
    const capacity = await writerCapacity(envNumber('BENCH_DAYLONG_CAPACITY_ROUNDS', 400));
    progress(`daylong: writer capacity ${JSON.stringify(capacity)}`);
    const down = await writerWhileDown(Math.max(10, seconds / 2));
    progress(`daylong: writer, store down ${JSON.stringify(down)}`);
    return { ...report, writer, writerCapacity: capacity, writerWhileDown: down };
  } finally {
    await admin('postgres', (c) => c.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`));
  }
}
