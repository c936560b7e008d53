/**
 * The resilience score (README, "History and resilience score"). Pure: `gameday history` and the
 * dashboard compute it from the store's run summaries.
 *
 * - A run's score is the share of its expectations checked during the fault and after recovery
 *   that were met, 0–100 (each expectation weighs the same; baseline rows are left out: a run
 *   whose baseline failed is not-run). An aborted run, or one whose rollback is incomplete,
 *   scores 0. Runs that tested nothing (not-run, skipped, error, still going) are not scored.
 * - An experiment's score is the mean of its last N scored runs' scores; its trend is that minus
 *   the mean of the N scored runs before them.
 * - A target system's score is the mean of its experiments' scores, each experiment weighing the
 *   same (a nightly one does not drown a weekly one); its trend is the mean of their trends.
 */
import type { RunSummary } from '../store/types';
import type { Verdict } from '../types';

/** Verdicts whose runs are scored; a run whose rollback is incomplete is scored (0) whatever its verdict. */
export const SCORED_VERDICTS: Verdict[] = ['passed', 'failed', 'aborted'];

/** Scored runs per experiment by default. */
export const DEFAULT_SCORE_RUNS = 10;

type Scorable = Pick<RunSummary, 'verdict' | 'rollback' | 'expectations'>;

/** The run's score, 0–100, or undefined when it is not scored. */
export function runScore(run: Scorable): number | undefined {
  if (run.rollback === 'incomplete') return 0;
  if (!run.verdict || !SCORED_VERDICTS.includes(run.verdict)) return undefined;
  if (run.verdict === 'aborted') return 0;
  const { met, total } = run.expectations;
  // A run that passed with nothing checked after baseline held everything it asked.
  return total === 0 ? (run.verdict === 'passed' ? 100 : 0) : (100 * met) / total;
}

/** A score over a window of runs, with its trend and series. */
export interface Score {
  /** 0–100, rounded to one decimal; undefined when no run in the window is scored. */
  score?: number;
  /** The score minus the previous window's; undefined when there is no previous window. */
  trend?: number;
  /** Scored runs in the window. */
  runs: number;
  /** Each scored run of the window, oldest first: its start and score (for a chart). */
  series: { workflowId: string; startedAt: string; score: number }[];
}

/** An experiment's score. */
export interface ExperimentScore extends Score {
  experimentId: string;
  /** Its newest run's target system. */
  system: string | null;
}

/** A target system's score, over its experiments. */
export interface SystemScore extends Omit<Score, 'series'> {
  system: string;
  experiments: string[];
}

const round = (n: number): number => Math.round(n * 10) / 10;
const mean = (xs: number[]): number | undefined => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);

/** The score of one experiment's runs (any order, any verdicts) over its last `n` scored runs. */
export function experimentScore(runs: RunSummary[], n = DEFAULT_SCORE_RUNS): Score {
  const scored = runs
    .map((r) => ({ r, score: runScore(r) }))
    .filter((x): x is { r: RunSummary; score: number } => x.score !== undefined)
    .sort((a, b) => (a.r.startedAt < b.r.startedAt ? 1 : a.r.startedAt > b.r.startedAt ? -1 : 0));
  const window = scored.slice(0, n);
  const before = scored.slice(n, 2 * n);
  const now = mean(window.map((x) => x.score));
  const then = mean(before.map((x) => x.score));
  return {
    ...(now === undefined ? {} : { score: round(now) }),
    ...(now !== undefined && then !== undefined ? { trend: round(now - then) } : {}),
    runs: window.length,
    series: window.reverse().map((x) => ({ workflowId: x.r.workflowId, startedAt: x.r.startedAt, score: round(x.score) })),
  };
}

/** Every experiment's score, from runs of any experiments, by experiment id. */
export function experimentScores(runs: RunSummary[], n = DEFAULT_SCORE_RUNS): ExperimentScore[] {
  const byExperiment = new Map<string, RunSummary[]>();
  for (const r of runs) byExperiment.set(r.experimentId, [...(byExperiment.get(r.experimentId) ?? []), r]);
  return [...byExperiment.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([experimentId, rs]) => {
      const newest = rs.reduce((a, b) => (b.startedAt > a.startedAt ? b : a));
      return { experimentId, system: newest.system, ...experimentScore(rs, n) };
    });
}

/** Each target system's score from its experiments' scores (those with no system are left out). */
export function systemScores(experiments: ExperimentScore[]): SystemScore[] {
  const bySystem = new Map<string, ExperimentScore[]>();
  for (const e of experiments) if (e.system) bySystem.set(e.system, [...(bySystem.get(e.system) ?? []), e]);
  return [...bySystem.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([system, es]) => {
      const score = mean(es.flatMap((e) => (e.score === undefined ? [] : [e.score])));
      const trend = mean(es.flatMap((e) => (e.trend === undefined ? [] : [e.trend])));
      return {
        system,
        experiments: es.map((e) => e.experimentId),
        ...(score === undefined ? {} : { score: round(score) }),
        ...(trend === undefined ? {} : { trend: round(trend) }),
        runs: es.reduce((k, e) => k + e.runs, 0),
      };
    });
}
