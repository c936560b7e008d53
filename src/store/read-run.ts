/**
 * Reading one run of the results store to stream it. The run's rows, its sample counts and the
 * samples of every phase small enough (at most a batch) come in one statement; a phase bigger
 * than that is read through a server-side cursor (pg-query-stream), so that a report of millions
 * of samples holds one batch at a time. Everything is read in one snapshot.
 */
import pg from 'pg';
import QueryStream from 'pg-query-stream';
import type { Journal, PlannedFault, ProbeSample } from '../types';
import { storeFailure } from './errors';
import { type BreachRow, type EventRow, type ExpectationRow, journalFromRows, type RunRead, sampleFromRow, type SampleRow } from './rows';
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

const SAMPLE_ORDER = 'ORDER BY samples.at, samples.seq, samples.check_name';
/** How the head statement names the run's key: `$1`, `$2` when given, else the picked row's, as scalars. */
interface HeadKey {
  workflowId: string;
  runId: string;
  limit: string;
}
const OF_RUN = (t: string, k: HeadKey) => `${t}.workflow_id = ${k.workflowId} AND ${t}.run_id = ${k.runId}`;
const INLINE_PHASE = (k: HeadKey) => (phase: SamplePhase) => `
  CASE WHEN (SELECT n FROM c WHERE phase = '${phase}') <= ${k.limit} THEN (
    SELECT json_agg(json_build_object('phase', phase, 'check_name', check_name, 'seq', seq, 'at', ${ISO('at')}, 'stage', stage, 'ok', ok, 'error', error,
      'measurement', measurement, 'expectations', expectations) ${SAMPLE_ORDER})
    FROM samples WHERE ${OF_RUN('samples', k)} AND phase = '${phase}') END AS inline_${phase}`;
/**
 * The run's head in one statement (one snapshot, one round trip): its row, how many samples each
 * phase holds and the newest one's time, its events, faults, hypothesis rows and breaches, and the
 * samples of each phase of at most `k.limit` (a CASE runs its subquery only when its count is that small).
 * The key is compared as values, not joined with r: the planner then scans an index of this run's rows.
 */
const HEAD = (pick: string, k: HeadKey) => `
  WITH r AS (${pick}),
  c AS (SELECT phase, count(*)::int AS n, max(at) AS newest FROM samples WHERE ${OF_RUN('samples', k)} GROUP BY phase)
  SELECT ${RUN_COLUMNS},
    (SELECT json_agg(json_build_object('phase', phase, 'n', n, 'newest', ${ISO('newest')})) FROM c) AS counts,
    -- Every source merged by time; within one instant the workflow's own first, then each source's order.
    (SELECT json_agg(json_build_object('source', source, 'seq', seq, 'at', ${ISO('at')}, 'stage', stage, 'message', message)
      ORDER BY events.at, events.source <> 'workflow', events.source, events.seq) FROM events WHERE ${OF_RUN('events', k)}) AS events,
    (SELECT json_agg(planned ORDER BY idx) FROM faults WHERE ${OF_RUN('faults', k)}) AS faults,
    (SELECT json_agg(json_build_object('idx', idx, 'expectation', expectation, 'checked_when', checked_when, 'expected', expected, 'observed', observed, 'ok', ok)
      ORDER BY idx) FROM expectations WHERE ${OF_RUN('expectations', k)}) AS expectations,
    (SELECT json_agg(json_build_object('guardrail', guardrail, 'at', ${ISO('at')}, 'condition', condition, 'observed', observed)
      ORDER BY breaches.at, breaches.guardrail) FROM breaches WHERE ${OF_RUN('breaches', k)}) AS breaches,
    ${PHASES.map(INLINE_PHASE(k)).join(',')}
  FROM r`;

const SQL = {
  run: HEAD('SELECT * FROM runs WHERE workflow_id = $1 AND run_id = $2', { workflowId: '$1', runId: '$2', limit: '$3' }),
  newestRun: HEAD('SELECT * FROM runs WHERE workflow_id = $1 ORDER BY started_at DESC, recorded_at DESC LIMIT 1', {
    workflowId: '(SELECT workflow_id FROM r)',
    runId: '(SELECT run_id FROM r)',
    limit: '$2',
  }),
  // The index samples_report_order serves this order: no sort of the whole run first.
  samples: `
    SELECT phase, check_name, seq, ${ISO('at')} AS at, stage, ok, error, measurement, expectations
    FROM samples WHERE workflow_id = $1 AND run_id = $2 AND phase = $3
    ${SAMPLE_ORDER}`,
} as const;

/** The head statement's row. */
type HeadRow = RunRead & {
  counts: { phase: SamplePhase; n: number; newest: string }[] | null;
  events: EventRow[] | null;
  faults: PlannedFault[] | null;
  expectations: ExpectationRow[] | null;
  breaches: BreachRow[] | null;
} & Record<`inline_${SamplePhase}`, SampleRow[] | null>;

/** A run's head as read, with the samples of the phases that came with it. */
interface Head {
  head: Journal;
  counts: Record<SamplePhase, number>;
  inline: Partial<Record<SamplePhase, SampleRow[]>>;
}

async function readHead(query: (sql: string, params: unknown[]) => Promise<pg.QueryResult<HeadRow>>, workflowId: string, runId: string | undefined): Promise<Head | undefined> {
  const { rows } = await query(runId === undefined ? SQL.newestRun : SQL.run, runId === undefined ? [workflowId, BATCH] : [workflowId, runId, BATCH]);
  const row = rows[0];
  if (!row) return undefined;
  const { counts: counted, events, faults, expectations, breaches, inline_baseline, inline_observe, inline_guardrail, inline_verify, ...run } = row;
  const byPhase = counted ?? [];
  const counts = Object.fromEntries(PHASES.map((p) => [p, byPhase.find((r) => r.phase === p)?.n ?? 0])) as Record<SamplePhase, number>;
  const newestSampleAt = byPhase.map((r) => r.newest).reduce<string | null>((a, b) => (a === null || b > a ? b : a), null);
  const head = journalFromRows({ run, samples: [], newestSampleAt, events: events ?? [], faults: faults ?? [], expectations: expectations ?? [], breaches: breaches ?? [] });
  const found = { baseline: inline_baseline, observe: inline_observe, guardrail: inline_guardrail, verify: inline_verify };
  const inline = Object.fromEntries(PHASES.flatMap((p) => (counts[p] === 0 ? [[p, []]] : found[p] ? [[p, found[p]]] : []))) as Head['inline'];
  return { head, counts, inline };
}

async function* inlineSamples(rows: SampleRow[]): AsyncGenerator<ProbeSample> {
  for (const r of rows) yield sampleFromRow(r);
}

/** How the reading connection is opened (the store's own settings). */
export interface ReadRunOptions {
  url: string;
  applicationName: string;
  connectionTimeoutMillis: number;
  /** Each statement, and each batch of a cursor, is cancelled by the server after this long. */
  statementTimeoutMillis: number;
  /** Runs one short query on a connection of the store's pool (its errors the store's, naming `what`). */
  pooled<T>(what: string, work: (c: pg.PoolClient) => Promise<T>): Promise<T>;
}

/**
 * Reads the run. A run whose every phase came with its head (at most a batch each: a short run)
 * is read in that one statement, on a connection of the pool, released before `work` starts.
 * Otherwise it is read again, head and all, on a connection of its own (not the pool's: the pool's
 * client-side query timeout would cut a stream that lasts minutes, and a long read must not hold a
 * connection the writers need), in one REPEATABLE READ transaction held until `work` settles. A
 * batch that takes longer than the statement timeout, or a server that stops answering, ends the
 * read with the store's error. `after`: settled before anything is read, its failure passed on.
 */
export async function readRun<T>(opts: ReadRunOptions, workflowId: string, runId: string | undefined, work: (run: RunReader) => Promise<T>, after?: Promise<unknown>): Promise<T | undefined> {
  await after;
  const first = await opts.pooled(`read the journal of ${workflowId}`, (c) => readHead((sql, params) => c.query<HeadRow>(sql, params), workflowId, runId));
  if (!first) return undefined;
  const { head, counts, inline } = first;
  if (PHASES.every((p) => inline[p])) return work({ head, counts, samples: (phase) => inlineSamples(inline[phase] ?? []) });
  return readOnOwnConnection(opts, workflowId, runId, work);
}

async function readOnOwnConnection<T>(opts: ReadRunOptions, workflowId: string, runId: string | undefined, work: (run: RunReader) => Promise<T>): Promise<T | undefined> {
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
  try {
    await watchdog.around(client.connect());
    await watchdog.around(client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY'));
    const read = await readHead((sql, params) => watchdog.around(client.query<HeadRow>(sql, params)), workflowId, runId);
    if (!read) return undefined;
    const { head, counts, inline } = read;
    const key = [head.workflowId, head.runId];
    // The streams' statement timeout is set once, by the first phase too big to have come with the head.
    const timeout = { set: false };
    const samples = (phase: SamplePhase): AsyncIterable<ProbeSample> => {
      const rows = inline[phase];
      return rows ? inlineSamples(rows) : streamSamples(client, [...key, phase], (e) => storeFailure(opts.url, what, stalled ?? e), stall(STREAM_STALL_MS), timeout);
    };
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
