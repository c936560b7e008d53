/**
 * Reading one run of the results store to stream it: the run's rows at once, its samples phase by
 * phase through a server-side cursor (pg-query-stream), so that a report of millions of samples
 * holds one batch at a time. Everything is read in one REPEATABLE READ snapshot.
 */
import pg from 'pg';
import QueryStream from 'pg-query-stream';
import type { ProbeSample } from '../types';
import { storeFailure } from './errors';
import { type BreachRow, type EventRow, type ExpectationRow, type FaultRow, journalFromRows, type RunRead, sampleFromRow, type SampleRow } from './rows';
import type { RunReader, SamplePhase } from './types';

/** Rows fetched a round trip. */
const BATCH = 1000;
/**
 * PostgreSQL's statement timeout runs from a cursor's first batch to its last (a suspended
 * portal keeps it running), so a stream of millions of rows gets this long in all; a server that
 * stops answering is caught by the watchdog between rows instead.
 */
const STREAM_STATEMENT_TIMEOUT = '30min';
/** How long a stream may go without a row (the first one may wait for the server to plan and start). */
const STREAM_STALL_MS = 30_000;
const PHASES: SamplePhase[] = ['baseline', 'observe', 'guardrail', 'verify'];

// Times are read back as text in the journal's form (ISO 8601, UTC, milliseconds).
const ISO = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const RUN_COLUMNS = `workflow_id, run_id, experiment_id, title, hypothesis, source, ${ISO('started_at')} AS started_at, ${ISO('finished_at')} AS finished_at, verdict, reason, rollback_status, details, ${ISO('samples_pruned_at')} AS samples_pruned_at`;

const SQL = {
  run: `SELECT ${RUN_COLUMNS} FROM runs WHERE workflow_id = $1 AND run_id = $2`,
  newestRun: `SELECT ${RUN_COLUMNS} FROM runs WHERE workflow_id = $1 ORDER BY started_at DESC, recorded_at DESC LIMIT 1`,
  counts: `SELECT phase, count(*)::int AS n, ${ISO('max(at)')} AS newest FROM samples WHERE workflow_id = $1 AND run_id = $2 GROUP BY phase`,
  // The index samples_report_order serves this order: no sort of the whole run first.
  samples: `
    SELECT phase, check_name, seq, ${ISO('at')} AS at, stage, ok, error, measurement, expectations
    FROM samples WHERE workflow_id = $1 AND run_id = $2 AND phase = $3
    ORDER BY samples.at, seq, check_name`,
  // Every source merged by time; within one instant the workflow's own first, then each source's order.
  events: `
    SELECT source, seq, ${ISO('at')} AS at, stage, message FROM events WHERE workflow_id = $1 AND run_id = $2
    ORDER BY events.at, source <> 'workflow', source, seq`,
  faults: `SELECT planned FROM faults WHERE workflow_id = $1 AND run_id = $2 ORDER BY idx`,
  expectations: `SELECT idx, expectation, checked_when, expected, observed, ok FROM expectations WHERE workflow_id = $1 AND run_id = $2 ORDER BY idx`,
  breaches: `SELECT guardrail, ${ISO('at')} AS at, condition, observed FROM breaches WHERE workflow_id = $1 AND run_id = $2 ORDER BY breaches.at, guardrail`,
} as const;

/** How the reading connection is opened (the store's own settings). */
export interface ReadRunOptions {
  url: string;
  applicationName: string;
  connectionTimeoutMillis: number;
  /** Each statement, and each batch of a cursor, is cancelled by the server after this long. */
  statementTimeoutMillis: number;
}

/**
 * Reads the run on a connection of its own (not the pool's: the pool's client-side query timeout
 * would cut a stream that lasts minutes, and a long read must not hold a connection the writers
 * need). A batch that takes longer than the statement timeout, or a server that stops answering,
 * ends the read with the store's error.
 */
export async function readRun<T>(opts: ReadRunOptions, workflowId: string, runId: string | undefined, work: (run: RunReader) => Promise<T>, after?: Promise<unknown>): Promise<T | undefined> {
  const what = `read the journal of ${workflowId}`;
  const client = new pg.Client({ connectionString: opts.url, application_name: opts.applicationName, connectionTimeoutMillis: opts.connectionTimeoutMillis, statement_timeout: opts.statementTimeoutMillis, keepAlive: true });
  client.on('error', () => undefined);
  let stalled: Error | undefined;
  // What `work` throws is its own (a report that must wait, say): passed on as it is.
  let workFailed: { error: unknown } | undefined;
  const stall = (ms: number) => () => {
    stalled = new Error(`no answer for ${ms} ms`);
    dropConnection(client, stalled);
  };
  const watchdog = new Watchdog(opts.statementTimeoutMillis + 1000, stall(opts.statementTimeoutMillis + 1000));
  // Its failure is the caller's (its own error, not the store's read), and never unhandled meanwhile.
  let afterFailed: { error: unknown } | undefined;
  const awaited = after?.catch((error: unknown) => void (afterFailed = { error }));
  try {
    await watchdog.around(client.connect());
    // The snapshot is taken at the first statement after BEGIN: the write it must see is done by then.
    await watchdog.around(client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY'));
    await awaited;
    if (afterFailed) {
      workFailed = afterFailed;
      throw afterFailed.error;
    }
    const found = await watchdog.around(client.query<RunRead>(runId === undefined ? SQL.newestRun : SQL.run, runId === undefined ? [workflowId] : [workflowId, runId]));
    const run = found.rows[0];
    if (!run) return undefined;
    const key = [run.workflow_id, run.run_id];
    const counted = await watchdog.around(client.query<{ phase: SamplePhase; n: number; newest: string }>(SQL.counts, key));
    const events = await watchdog.around(client.query<EventRow>(SQL.events, key));
    const faults = await watchdog.around(client.query<Pick<FaultRow, 'planned'>>(SQL.faults, key));
    const expectations = await watchdog.around(client.query<ExpectationRow>(SQL.expectations, key));
    const breaches = await watchdog.around(client.query<BreachRow>(SQL.breaches, key));
    const counts = Object.fromEntries(PHASES.map((p) => [p, counted.rows.find((r) => r.phase === p)?.n ?? 0])) as Record<SamplePhase, number>;
    const newestSampleAt = counted.rows.map((r) => r.newest).reduce<string | null>((a, b) => (a === null || b > a ? b : a), null);
    const head = journalFromRows({ run, samples: [], newestSampleAt, events: events.rows, faults: faults.rows.map((f) => f.planned), expectations: expectations.rows, breaches: breaches.rows });
    // A phase the snapshot holds no sample of is not queried; the streams' statement timeout is set once.
    const timeout = { set: false };
    const samples = (phase: SamplePhase): AsyncIterable<ProbeSample> =>
      counts[phase] === 0 ? (async function* () {})() : streamSamples(client, [...key, phase], (e) => storeFailure(opts.url, what, stalled ?? e), stall(STREAM_STALL_MS), timeout);
    const result = await work({ head, counts, samples }).catch((error: unknown) => {
      workFailed = { error };
      throw error;
    });
    await watchdog.around(client.query('COMMIT'));
    return result;
  } catch (e) {
    if (workFailed) throw workFailed.error;
    throw storeFailure(opts.url, what, stalled ?? e);
  } finally {
    watchdog.stop();
    await client.end().catch(() => undefined);
  }
}

async function* streamSamples(client: pg.Client, params: string[], fail: (e: unknown) => Error, onStall: () => void, timeout: { set: boolean }): AsyncGenerator<ProbeSample> {
  const watchdog = new Watchdog(STREAM_STALL_MS, onStall);
  try {
    if (!timeout.set) await watchdog.around(client.query(`SET LOCAL statement_timeout = '${STREAM_STATEMENT_TIMEOUT}'`));
    timeout.set = true;
  } catch (e) {
    throw fail(e);
  }
  const stream = client.query(new QueryStream(SQL.samples, params, { batchSize: BATCH }));
  try {
    watchdog.start();
    const rows = (stream as AsyncIterable<SampleRow>)[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<SampleRow>;
      try {
        next = await rows.next();
      } catch (e) {
        throw fail(e);
      }
      if (next.done) return;
      watchdog.start();
      yield sampleFromRow(next.value);
    }
  } finally {
    watchdog.stop();
    stream.destroy();
  }
}

/** A server that stopped answering: its socket goes, and what waits on it fails. */
function dropConnection(client: pg.Client, why: Error): void {
  (client as unknown as { connection?: { stream?: { destroy(e?: Error): void } } }).connection?.stream?.destroy(why);
}

/**
 * Fires when what it watches makes no progress for `ms`. Restarted on every row of a stream,
 * so that only a silent server, not a long report, trips it.
 */
class Watchdog {
  private timer?: NodeJS.Timeout;
  constructor(
    private readonly ms: number,
    private readonly fire: () => void,
  ) {}

  start(): void {
    // refresh(), not a new timer: it is restarted for each of millions of rows.
    if (this.timer) this.timer.refresh();
    else this.timer = setTimeout(this.fire, this.ms);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  async around<T>(p: Promise<T>): Promise<T> {
    this.start();
    try {
      return await p;
    } finally {
      this.stop();
    }
  }
}
