/**
 * The dashboard's query strings, checked: a bad value is an error naming the parameter, its value
 * and what it takes (shown as a 400 page).
 */
import { parseSince, type HistoryQuery } from '../history';
import type { Verdict } from '../types';

/** What `/` and `/api/runs` filter on, as given in the query string. */
export interface RunsFilter {
  experimentId?: string;
  verdict?: Verdict;
  trigger?: string;
  /** As typed: `24h`, `7d`. */
  since?: string;
}

/** A query-string parameter with a value the dashboard cannot use. */
export class BadQuery extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadQuery';
  }
}

const VERDICTS: Verdict[] = ['passed', 'failed', 'aborted', 'not-run', 'error', 'skipped'];
const TRIGGERS = ['cli', 'schedule', 'web-ui', 'manual'];

/** Runs a page lists at most. */
export const RUNS_SHOWN = 200;

type Query = Record<string, string | string[] | undefined>;

function one(q: Query, name: string): string | undefined {
  const v = q[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s.trim() === '' ? undefined : s.trim();
}

function sinceMs(since: string | undefined): number | undefined {
  if (since === undefined) return undefined;
  try {
    return parseSince(since);
  } catch {
    throw new BadQuery(`since: expected a duration such as 90m, 24h or 7d, not '${since}'`);
  }
}

/** The runs filter of a query string. @throws BadQuery naming the parameter. */
export function runsFilter(q: Query): RunsFilter {
  const verdict = one(q, 'verdict');
  if (verdict !== undefined && !VERDICTS.includes(verdict as Verdict)) throw new BadQuery(`verdict: expected one of ${VERDICTS.join(', ')}, not '${verdict}'`);
  const trigger = one(q, 'trigger');
  if (trigger !== undefined && !TRIGGERS.includes(trigger)) throw new BadQuery(`trigger: expected one of ${TRIGGERS.join(', ')}, not '${trigger}'`);
  const since = one(q, 'since');
  sinceMs(since);
  return { experimentId: one(q, 'experiment'), verdict: verdict as Verdict | undefined, trigger, since };
}

/** The history query of a runs filter. */
export function historyQuery(f: RunsFilter): HistoryQuery {
  return { experimentId: f.experimentId, verdict: f.verdict, trigger: f.trigger, sinceMs: sinceMs(f.since), limit: RUNS_SHOWN };
}

/** `/experiments?runs=N&since=…`: N scored runs per score, and how far back. @throws BadQuery */
export function scoresQuery(q: Query): { scoreRuns?: number; sinceMs?: number } {
  const runs = one(q, 'runs');
  if (runs !== undefined && !/^[1-9]\d{0,3}$/.test(runs)) throw new BadQuery(`runs: expected a whole number from 1 to 9999, not '${runs}'`);
  return { scoreRuns: runs === undefined ? undefined : Number(runs), sinceMs: sinceMs(one(q, 'since')) };
}
