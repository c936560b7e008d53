import pg from 'pg';
import { maskPasswords, maskPasswordsIn } from '../mask';
import type { Journal } from '../types';
import { storeFailure } from './errors';
import { listRuns, previousRun } from './history';
import { finishRows, PHASE_FIELD, runSampleRows, eventRows, expectationRows, systemOfSpec } from './rows';
import { readRun } from './read-run';
import { pruneSamples } from './retention';
import type { ResultsStore, RunReader, SamplePhase } from './types';
import { maskUrl, POSTGRES_URL } from './url';

/** How the store's pool behaves; the defaults make a store that is down fail fast, not hang. */
export interface ResultsStoreOptions {
  /** Connections at most. @default 4 */
  max?: number;
  /** How long to wait for a connection (TCP and startup). @default 2000 */
  connectionTimeoutMillis?: number;
  /** The server cancels a statement after this long; the client gives up 1 s later. @default 5000 */
  statementTimeoutMillis?: number;
}

/** The `application_name` the store's connections carry (Gameday's own: faults leave them alone). */
export const RESULTS_APPLICATION_NAME = 'gameday-results';

/**
 * The results store on the PostgreSQL at `url` (migrated by `migrateResultsStore`). Opening
 * connects nothing: each call takes a connection from a small pool, and rejects with
 * `ResultsStoreUnreachable` within about `connectionTimeoutMillis` when the server cannot be
 * reached (the callers retry), and works again once it can. Errors name the URL, password masked.
 * @throws TypeError when `url` is not a postgres:// or postgresql:// URL.
 */
export function openResultsStore(url: string, opts: ResultsStoreOptions = {}): ResultsStore {
  if (!POSTGRES_URL.test(url)) throw new TypeError(`the results store URL must be postgres:// or postgresql://, not ${maskUrl(url)}`);
  const statementTimeout = opts.statementTimeoutMillis ?? 5000;
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 4,
    connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 2000,
    // Longer than a typical fault: a run that pauses a container for 10 s finds the connections its
    // baseline used still open for the verification's samples and the report (a reconnect is ~6 ms).
    // allowExitOnIdle keeps an idle pool from holding the process open meanwhile.
    idleTimeoutMillis: 60_000,
    allowExitOnIdle: true,
    application_name: RESULTS_APPLICATION_NAME,
    statement_timeout: statementTimeout,
    // A server that takes the connection but never answers (paused, its disk stuck) would hang
    // a query forever without a client-side limit too.
    query_timeout: statementTimeout + 1000,
    keepAlive: true,
  });
  // An idle connection that the server drops emits 'error' on the pool; unhandled, it would
  // crash the worker. The next call gets a fresh connection, or the unreachable error.
  pool.on('error', () => undefined);
  const readOpts = { url, applicationName: RESULTS_APPLICATION_NAME, connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 2000, statementTimeoutMillis: statementTimeout, pooled: run };

  async function run<T>(what: string, work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient | undefined;
    try {
      client = await pool.connect();
      const result = await work(client);
      client.release();
      return result;
    } catch (e) {
      // Not back into the pool: after a timeout its connection may still owe an answer.
      client?.release(true);
      throw storeFailure(url, what, e);
    }
  }

  const store: ResultsStore = {
    startRun: (run_) =>
      run(`start the run ${run_.workflowId}`, async (c) => {
        await c.query(SQL.startRun, [run_.workflowId, run_.runId, run_.experimentId, run_.title, run_.hypothesis, run_.source, run_.trigger ?? null, json(run_.spec ?? null), run_.startedAt, systemOfSpec(run_.spec)]);
      }),
    writeSamples: (key, samples) => store.writeSamplesOfRuns([{ run: key, samples }]),
    writeSamplesOfRuns: async (batch) => {
      const rows = runSampleRows(batch);
      if (rows.length === 0) return;
      const runs = new Set(rows.map((r) => r.workflow_id)).size;
      await run(`write ${rows.length} samples of ${runs === 1 ? rows[0].workflow_id : `${runs} runs`}`, (c) => c.query(SQL.writeSamplesOfRuns, [maskedJson(rows)]));
    },
    writeEvents: async (key, events) => {
      const rows = eventRows(events);
      if (rows.length === 0) return;
      await run(`write ${rows.length} events of ${key.workflowId}`, (c) => c.query(SQL.writeEvents, [key.workflowId, key.runId, json(rows)]));
    },
    finishRun: (journal) => {
      const rows = finishRows(journal);
      const r = rows.run;
      const params = [journal.workflowId, journal.runId, r.experiment_id, r.title, r.hypothesis, r.source, json(r.spec), r.started_at, r.finished_at, r.verdict, r.reason, r.rollback_status, json(r.details), r.target_system];
      // One statement, so one round trip and atomic without a transaction around it.
      return run(`finish the run ${journal.workflowId}`, async (c) => {
        await c.query(SQL.finishRun, [...params, json(rows.faults), json(rows.expectations), json(rows.breaches), json(rows.events)]);
      });
    },
    recordExpectations: (key, hypothesisRows) =>
      run(`record the expectations of ${key.workflowId}`, async (c) => {
        await c.query(SQL.recordExpectations, [key.workflowId, key.runId, json(expectationRows(hypothesisRows))]);
      }),
    listRuns: (filter) => run('list runs', (c) => listRuns(c, filter)),
    previousRun: (key) => run(`find the run before ${key.workflowId}`, (c) => previousRun(c, key)),
    readRun: (workflowId, runId, work, o) => readRun(readOpts, workflowId, runId, work, o?.after),
    readJournal: (workflowId, runId) => readRun(readOpts, workflowId, runId, collectJournal),
    pruneSamples: (before, o) => pruneSamples((what, work) => run(what, work), before, o),
    close: () => pool.end(),
  };
  return store;
}

/** The whole journal, every sample in memory: for short runs and tests; reports stream instead. */
async function collectJournal(r: RunReader): Promise<Journal> {
  const journal = r.head;
  for (const phase of Object.keys(PHASE_FIELD) as SamplePhase[]) for await (const s of r.samples(phase)) journal[PHASE_FIELD[phase]].push(s);
  return journal;
}

/**
 * A parameter for a json column: pg would send an array as a PostgreSQL array, not as JSON. A
 * password typed into a URL of the spec is masked: the store keeps what a report shows.
 */
function json(value: unknown): string {
  return JSON.stringify(maskPasswordsIn(value));
}

/**
 * The same as `json` for many rows, masked as text in one pass rather than value by value (the
 * samples path, where copying every row cost more than the statement): both patterns stop at a
 * quote, so a match never leaves a JSON string; an escape such as \n inside one may mask a
 * little more than `maskPasswordsIn` would, never less.
 */
function maskedJson(value: unknown): string {
  return maskPasswords(JSON.stringify(value));
}

/**
 * The run's (`$1`, `$2`) hypothesis-vs-reality rows replaced by those of the JSON array
 * `param`, as sub-statements of a WITH (see finishRun for why not a DELETE and an INSERT).
 */
function replaceExpectations(param: string): string {
  return `
    x AS (SELECT * FROM json_to_recordset(${param}::json) AS r(idx integer, expectation text, checked_when text, expected text, observed text, ok boolean)),
    expectations_gone AS (
      DELETE FROM expectations t WHERE t.workflow_id = $1 AND t.run_id = $2 AND NOT EXISTS (SELECT 1 FROM x WHERE x.idx = t.idx)),
    expectations_put AS (
      INSERT INTO expectations (workflow_id, run_id, idx, expectation, checked_when, expected, observed, ok)
      SELECT $1, $2, idx, expectation, checked_when, expected, observed, ok FROM x
      ON CONFLICT (workflow_id, run_id, idx) DO UPDATE SET
        expectation = EXCLUDED.expectation, checked_when = EXCLUDED.checked_when, expected = EXCLUDED.expected, observed = EXCLUDED.observed, ok = EXCLUDED.ok)`;
}

const SQL = {
  startRun: `
    INSERT INTO runs (workflow_id, run_id, experiment_id, title, hypothesis, source, trigger, spec, started_at, target_system)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10)
    ON CONFLICT (workflow_id, run_id) DO UPDATE SET
      target_system = COALESCE(EXCLUDED.target_system, runs.target_system),
      experiment_id = EXCLUDED.experiment_id, title = EXCLUDED.title, hypothesis = EXCLUDED.hypothesis,
      source = EXCLUDED.source, started_at = EXCLUDED.started_at,
      trigger = COALESCE(EXCLUDED.trigger, runs.trigger), spec = COALESCE(EXCLUDED.spec, runs.spec)`,
  // The run's row and its child rows in one statement. Faults, expectations and breaches are
  // replaced whole, so that finishing twice (a retry) leaves exactly the journal's rows: the rows
  // it does not name are deleted, the others upserted. Not a DELETE of all and an INSERT: the
  // sub-statements of one statement see the same snapshot, so the INSERT would still find the
  // rows the DELETE removes and fail on their keys.
  finishRun: `
    WITH run AS (
      INSERT INTO runs (workflow_id, run_id, experiment_id, title, hypothesis, source, spec, started_at, finished_at, verdict, reason, rollback_status, details, target_system)
      VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12, $13::json, $14)
      ON CONFLICT (workflow_id, run_id) DO UPDATE SET
        target_system = COALESCE(EXCLUDED.target_system, runs.target_system),
        experiment_id = EXCLUDED.experiment_id, title = EXCLUDED.title, hypothesis = EXCLUDED.hypothesis,
        source = EXCLUDED.source, spec = COALESCE(EXCLUDED.spec, runs.spec), started_at = EXCLUDED.started_at,
        finished_at = EXCLUDED.finished_at, verdict = EXCLUDED.verdict, reason = EXCLUDED.reason,
        rollback_status = EXCLUDED.rollback_status, details = EXCLUDED.details),
    f AS (
      SELECT * FROM json_to_recordset($15::json) AS r(fault_id text, idx integer, step integer, kind text, description text, target text, status text, tag text,
        injected_at timestamptz, due_at timestamptz, reverted_at timestamptz, revert_attempts integer, last_error text, planned json)),
    faults_gone AS (
      DELETE FROM faults t WHERE t.workflow_id = $1 AND t.run_id = $2 AND NOT EXISTS (SELECT 1 FROM f WHERE f.fault_id = t.fault_id)),
    faults_put AS (
      INSERT INTO faults (workflow_id, run_id, fault_id, idx, step, kind, description, target, status, tag, injected_at, due_at, reverted_at, revert_attempts, last_error, planned)
      SELECT $1, $2, fault_id, idx, step, kind, description, target, status, tag, injected_at, due_at, reverted_at, revert_attempts, last_error, planned FROM f
      ON CONFLICT (workflow_id, run_id, fault_id) DO UPDATE SET
        idx = EXCLUDED.idx, step = EXCLUDED.step, kind = EXCLUDED.kind, description = EXCLUDED.description, target = EXCLUDED.target,
        status = EXCLUDED.status, tag = EXCLUDED.tag, injected_at = EXCLUDED.injected_at, due_at = EXCLUDED.due_at,
        reverted_at = EXCLUDED.reverted_at, revert_attempts = EXCLUDED.revert_attempts, last_error = EXCLUDED.last_error, planned = EXCLUDED.planned),
    ${replaceExpectations('$16')},
    b AS (SELECT * FROM json_to_recordset($17::json) AS r(guardrail text, at timestamptz, condition text, observed text)),
    breaches_gone AS (
      DELETE FROM breaches t WHERE t.workflow_id = $1 AND t.run_id = $2 AND NOT EXISTS (SELECT 1 FROM b WHERE b.guardrail = t.guardrail AND b.at = t.at)),
    breaches_put AS (
      INSERT INTO breaches (workflow_id, run_id, guardrail, at, condition, observed)
      SELECT $1, $2, guardrail, at, condition, observed FROM b
      ON CONFLICT (workflow_id, run_id, guardrail, at) DO UPDATE SET condition = EXCLUDED.condition, observed = EXCLUDED.observed)
    INSERT INTO events (workflow_id, run_id, source, seq, at, stage, message)
    SELECT $1, $2, r.source, r.seq, r.at, r.stage, r.message
    FROM json_to_recordset($18::json) AS r(source text, seq integer, at timestamptz, stage text, message text)
    ON CONFLICT (workflow_id, run_id, source, seq) DO UPDATE SET at = EXCLUDED.at, stage = EXCLUDED.stage, message = EXCLUDED.message`,
  recordExpectations: `WITH ${replaceExpectations('$3')} SELECT 1`,
  // One statement per batch: the rows travel as one JSON array, unpacked by the server.
  writeSamplesOfRuns: `
    INSERT INTO samples (workflow_id, run_id, phase, check_name, seq, at, stage, ok, error, measurement, expectations)
    SELECT r.workflow_id, r.run_id, r.phase, r.check_name, r.seq, r.at, r.stage, r.ok, r.error, r.measurement, r.expectations
    FROM json_to_recordset($1::json) AS r(workflow_id text, run_id text, phase text, check_name text, seq integer, at timestamptz, stage text, ok boolean, error text, measurement json, expectations json)
    ON CONFLICT (workflow_id, run_id, phase, check_name, seq) DO UPDATE SET
      at = EXCLUDED.at, stage = EXCLUDED.stage, ok = EXCLUDED.ok, error = EXCLUDED.error,
      measurement = EXCLUDED.measurement, expectations = EXCLUDED.expectations`,
  writeEvents: `
    INSERT INTO events (workflow_id, run_id, source, seq, at, stage, message)
    SELECT $1, $2, r.source, r.seq, r.at, r.stage, r.message
    FROM json_to_recordset($3::json) AS r(source text, seq integer, at timestamptz, stage text, message text)
    ON CONFLICT (workflow_id, run_id, source, seq) DO UPDATE SET at = EXCLUDED.at, stage = EXCLUDED.stage, message = EXCLUDED.message`,
} as const;
