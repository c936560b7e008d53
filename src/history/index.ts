/**
 * History across runs: what `gameday history` prints and the dashboard shows. The runs of the
 * results store with their duration and a link into the Temporal Web UI, and the resilience
 * scores (./score.ts) of the experiments and target systems among them.
 */
import ms from 'ms';
import type { Config } from '../config';
import type { ResultsStore, RunFilter, RunKey, RunSummary } from '../store/types';
import { MAX_LISTED_RUNS } from '../store/history';
import { DEFAULT_SCORE_RUNS, experimentScores, runScore, SCORED_VERDICTS, systemScores, type ExperimentScore, type SystemScore } from './score';

export { DEFAULT_SCORE_RUNS, experimentScore, experimentScores, runScore, SCORED_VERDICTS, systemScores, type ExperimentScore, type Score, type SystemScore } from './score';

/** Runs listed by default. */
export const DEFAULT_HISTORY_LIMIT = 50;

/** A run as history shows it. */
export interface HistoryRun extends RunSummary {
  /** From start to outcome; null while it has none. */
  durationMs: number | null;
  /** Its page in the Temporal Web UI. */
  url: string;
  /** Its resilience score, 0–100; null when it is not scored. */
  score: number | null;
}

/** What `gameday history` asks for. */
export interface HistoryQuery {
  experimentId?: string;
  /** Only runs with this verdict (the scores are not filtered by it). */
  verdict?: RunFilter['verdict'];
  /** Only runs started this way (the scores are not filtered by it). */
  trigger?: string;
  /** Only runs started since this many ms ago (scores too). */
  sinceMs?: number;
  /** Runs listed at most. @default DEFAULT_HISTORY_LIMIT */
  limit?: number;
  /** Scored runs per experiment in a score (N). @default DEFAULT_SCORE_RUNS */
  scoreRuns?: number;
}

/** The answer: runs newest first, and the scores of their experiments and target systems. */
export interface History {
  runs: HistoryRun[];
  experiments: ExperimentScore[];
  systems: SystemScore[];
}

/** The run's page in the Temporal Web UI. */
export function runUrl(config: Pick<Config, 'temporalUiUrl' | 'namespace'>, run: RunKey): string {
  return `${config.temporalUiUrl}/namespaces/${encodeURIComponent(config.namespace)}/workflows/${encodeURIComponent(run.workflowId)}/${encodeURIComponent(run.runId)}`;
}

/**
 * `--since`'s value (`90m`, `24h`, `7d`) in ms.
 * @throws Error naming the option and the value when it is not a duration.
 */
export function parseSince(value: string): number {
  const n: unknown = /^\d+(\.\d+)?\s*[a-z]+$/i.test(value.trim()) ? ms(value.trim() as ms.StringValue) : undefined;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) throw new Error(`--since: expected a duration such as 90m, 24h or 7d, not '${value}'`);
  return n;
}

/**
 * The history: the runs the query picks, and the scores. With an experiment id, the experiment's
 * score and that of its target system (over all of the system's experiments).
 */
export async function readHistory(store: Pick<ResultsStore, 'listRuns'>, config: Pick<Config, 'temporalUiUrl' | 'namespace'>, q: HistoryQuery = {}, now = Date.now()): Promise<History> {
  const since = q.sinceMs === undefined ? undefined : new Date(now - q.sinceMs).toISOString();
  const n = q.scoreRuns ?? DEFAULT_SCORE_RUNS;
  const listed = await store.listRuns({ experimentId: q.experimentId, verdict: q.verdict, trigger: q.trigger, since, limit: q.limit ?? DEFAULT_HISTORY_LIMIT });
  // The previous window too, for the trend; unscored runs are not fetched.
  const scoring = { since, limit: MAX_LISTED_RUNS, perExperiment: 2 * n, verdictsOrRollbackIncomplete: SCORED_VERDICTS };
  const system = q.experimentId === undefined ? undefined : listed.find((r) => r.system)?.system;
  const scored = await store.listRuns(q.experimentId === undefined ? scoring : system ? { ...scoring, system } : { ...scoring, experimentId: q.experimentId });
  const all = experimentScores(scored, n);
  return {
    runs: listed.map((r) => ({ ...r, durationMs: r.finishedAt ? Date.parse(r.finishedAt) - Date.parse(r.startedAt) : null, url: runUrl(config, r), score: runScore(r) ?? null })),
    experiments: q.experimentId === undefined ? all : all.filter((e) => e.experimentId === q.experimentId),
    systems: systemScores(all),
  };
}
