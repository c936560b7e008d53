/**
 * The store's history queries (`gameday history`, scores, re-validation), on one connection of
 * the PostgreSQL store's pool. Every query is bounded: a LIMIT, and an index on its order.
 */
import type pg from 'pg';
import type { HypothesisRow } from '../types';
import type { RunFilter, RunKey, RunSummary } from './types';

/** What `listRuns` returns at most, whatever the filter asks. */
export const MAX_LISTED_RUNS = 10_000;

interface SummaryRow {
  workflow_id: string;
  run_id: string;
  experiment_id: string;
  title: string;
  target_system: string | null;
  trigger: string | null;
  started_at: string;
  finished_at: string | null;
  verdict: RunSummary['verdict'];
  rollback_status: RunSummary['rollback'];
  met: number;
  total: number;
}

const ISO = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

// The counts leave out the baseline: a run whose baseline failed is not-run, so a scored run's
// baseline rows are all met and would only dilute the share.
const SUMMARY = `
  SELECT r.workflow_id, r.run_id, r.experiment_id, r.title, r.target_system, r.trigger,
    ${ISO('r.started_at')} AS started_at, ${ISO('r.finished_at')} AS finished_at, r.verdict, r.rollback_status,
    COALESCE(e.met, 0)::int AS met, COALESCE(e.total, 0)::int AS total
  FROM picked r
  LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE x.ok) AS met, count(*) AS total FROM expectations x
    WHERE x.workflow_id = r.workflow_id AND x.run_id = r.run_id AND x.checked_when <> 'baseline'
  ) e ON true
  ORDER BY r.started_at DESC, r.workflow_id`;

/** The filtered runs, newest first (each experiment's newest `perExperiment` when set). */
export async function listRuns(c: pg.PoolClient, f: RunFilter): Promise<RunSummary[]> {
  const limit = Math.max(0, Math.min(f.limit, MAX_LISTED_RUNS));
  const params: unknown[] = [];
  const where: string[] = [];
  const param = (v: unknown): string => `$${params.push(v)}`;
  if (f.experimentId !== undefined) where.push(`experiment_id = ${param(f.experimentId)}`);
  if (f.system !== undefined) where.push(`target_system = ${param(f.system)}`);
  if (f.since !== undefined) where.push(`started_at >= ${param(f.since)}`);
  if (f.verdict !== undefined) where.push(`verdict = ${param(f.verdict)}`);
  if (f.trigger !== undefined) where.push(`trigger = ${param(f.trigger)}`);
  if (f.verdictsOrRollbackIncomplete) where.push(`(verdict = ANY(${param(f.verdictsOrRollbackIncomplete)}) OR rollback_status = 'incomplete')`);
  const filtered = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`;
  const picked =
    f.perExperiment === undefined
      ? `${filtered} ORDER BY started_at DESC LIMIT ${param(limit)}`
      : `SELECT * FROM (SELECT f.*, row_number() OVER (PARTITION BY experiment_id ORDER BY started_at DESC) AS nth FROM (${filtered}) f) ranked
         WHERE nth <= ${param(f.perExperiment)} ORDER BY started_at DESC LIMIT ${param(limit)}`;
  const { rows } = await c.query<SummaryRow>(`WITH picked AS (${picked}) ${SUMMARY}`, params);
  return rows.map(summaryOf);
}

/** The closed run of the experiment that started last before `run` (not `run` itself), with its rows. */
export async function previousRun(c: pg.PoolClient, run: RunKey & { experimentId: string; startedAt: string }): Promise<{ run: RunSummary; expectations: HypothesisRow[] } | undefined> {
  const picked = `
    SELECT * FROM runs WHERE experiment_id = $1 AND started_at < $2 AND verdict IS NOT NULL AND NOT (workflow_id = $3 AND run_id = $4)
    ORDER BY started_at DESC LIMIT 1`;
  // The run and its rows in one statement: one round trip on the report's way.
  const rows = `SELECT json_agg(json_build_object('expectation', x.expectation, 'when', x.checked_when, 'expected', x.expected, 'observed', x.observed, 'ok', x.ok) ORDER BY x.idx)
    FROM expectations x WHERE x.workflow_id = s.workflow_id AND x.run_id = s.run_id`;
  const found = await c.query<SummaryRow & { expectations: HypothesisRow[] | null }>(`WITH picked AS (${picked}) SELECT s.*, (${rows}) AS expectations FROM (${SUMMARY}) s`, [run.experimentId, run.startedAt, run.workflowId, run.runId]);
  const prev = found.rows[0];
  if (!prev) return undefined;
  return { run: summaryOf(prev), expectations: prev.expectations ?? [] };
}

function summaryOf(r: SummaryRow): RunSummary {
  return {
    workflowId: r.workflow_id,
    runId: r.run_id,
    experimentId: r.experiment_id,
    title: r.title,
    system: r.target_system,
    trigger: r.trigger,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    verdict: r.verdict,
    rollback: r.rollback_status,
    expectations: { met: r.met, total: r.total },
  };
}
