/** `gameday compare`: two runs side by side, with the later one's re-validation section; loaded only by that command. */
import type { Config } from '../config';
import type { RunComparison } from '../report/compare';
import { revalidationMarkdown } from '../report/revalidation';
import type { Journal, RevalidationRow } from '../types';
import { columns } from './history';

/** Reads both runs from the configured results store (see compareRuns), and closes it. */
export async function comparisonFromStore(config: Config, before: string, after?: string): Promise<RunComparison> {
  const [{ openResultsStore }, { compareRuns }] = await Promise.all([import('../store/postgres'), import('../report/compare')]);
  const store = openResultsStore(config.resultsUrl);
  try {
    return await compareRuns(store, before, after);
  } finally {
    await store.close();
  }
}

/** Observed values are cut to this many characters in the table; the re-validation section below has them whole. */
const OBSERVED_WIDTH = 60;

function seen(s: RevalidationRow['previous']): string {
  if (!s) return '-';
  const observed = s.observed.length > OBSERVED_WIDTH ? `${s.observed.slice(0, OBSERVED_WIDTH - 1)}…` : s.observed;
  return `${s.ok ? 'met' : 'NOT MET'}: ${observed}`;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/**
 * The comparison as lines: the two runs' verdicts in two columns, one row per expectation with
 * its value in each run and how it changed, then the later run's Re-validation section as its
 * report has it (against the run before it in the store, which need not be the earlier one here).
 */
export function formatComparison(c: RunComparison): string[] {
  const run = (label: string, get: (j: Journal) => string) => [label, get(c.before), get(c.after)];
  const head = columns([
    ['', 'BEFORE', 'AFTER'],
    run('workflow', (j) => j.workflowId),
    run('started (UTC)', (j) => j.startedAt.replace('T', ' ').slice(0, 19)),
    run('verdict', (j) => j.verdict),
    run('rollback', (j) => j.rollback.status),
  ]);
  const count = (status: RevalidationRow['status']) => c.rows.filter((r) => r.status === status).length;
  return [
    `${c.after.experimentId}: ${c.before.verdict} before, ${c.after.verdict} after (${count('fixed')} fixed, ${count('regressed')} regressed, ${count('unchanged')} unchanged, ${count('new')} new, ${count('removed')} removed)`,
    '',
    ...head,
    `reason before: ${oneLine(c.before.reason)}`,
    `reason after:  ${oneLine(c.after.reason)}`,
    '',
    ...columns([['EXPECTATION', 'WHEN', 'EXPECTED', 'CHANGE', 'BEFORE', 'AFTER'], ...c.rows.map((r) => [r.expectation, r.when, r.expected, r.status, seen(r.previous), seen(r.current)].map(oneLine))]),
    '',
    `The report of ${c.after.workflowId}, its Re-validation section:`,
    '',
    ...revalidationMarkdown(c.after).split('\n'),
  ];
}
