/**
 * The method's "fix, then re-run and compare", for two runs the user names: `gameday compare`.
 * Both runs from the results store as their reports show them, their expectations side by side
 * (src/report/revalidation.ts matches them), and the second run's own re-validation against the
 * run before it, as its report has it.
 */
import type { ResultsStore } from '../store/types';
import type { Journal, RevalidationRow } from '../types';
import { findStoredRun } from './export';
import { compareExpectations } from './revalidation';

/** Two runs side by side: `before` and `after` as the user named them, and their expectations. */
export interface RunComparison {
  before: Journal;
  after: Journal;
  /** `after`'s expectations beside `before`'s: fixed, regressed, unchanged, new or removed. */
  rows: RevalidationRow[];
}

/**
 * A run named by its workflow id, or by an experiment id: that experiment's newest closed run
 * (`skip` newer ones passed over).
 */
async function findRun(store: ResultsStore, name: string, skip = 0): Promise<Journal | undefined> {
  const byWorkflow = skip === 0 ? await findStoredRun(store, name) : undefined;
  if (byWorkflow) return byWorkflow;
  const runs = (await store.listRuns({ experimentId: name, limit: 20 })).filter((r) => r.verdict !== null);
  const run = runs[skip];
  return run ? findStoredRun(store, run.workflowId, run.runId) : undefined;
}

/**
 * Compares two stored runs: `before` and `after` are workflow ids, or experiment ids standing for
 * the experiment's newest closed run. With `after` absent, `before` is an experiment id: its newest
 * closed run is compared with the one before it.
 * @throws Error naming what the store does not hold, or the two runs when they are of different
 *   experiments (their expectations would not match up).
 */
export async function compareRuns(store: ResultsStore, before: string, after?: string): Promise<RunComparison> {
  const [a, b] = after === undefined ? await Promise.all([findRun(store, before, 1), findRun(store, before, 0)]) : await Promise.all([findRun(store, before), findRun(store, after)]);
  const missing = (name: string) => new Error(`the results store has no run of workflow ${name} and no closed run of an experiment ${name} (a scenario's runs are its stages': name a stage's experiment id)`);
  if (after === undefined && !b) throw missing(before);
  if (after === undefined && !a) throw new Error(`the results store has only one closed run of ${before}: nothing to compare it with`);
  if (!a) throw missing(before);
  if (!b) throw missing(after ?? before);
  if (a.experimentId !== b.experimentId) throw new Error(`${a.workflowId} is a run of ${a.experimentId} and ${b.workflowId} one of ${b.experimentId}: compare two runs of one experiment`);
  return { before: a, after: b, rows: compareExpectations(a.hypothesisVsReality, b.hypothesisVsReality) };
}
