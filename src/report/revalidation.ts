/**
 * The method's last step: re-run after the fix and compare. A run's expectations beside those of
 * the previous closed run of the same experiment, one row each: fixed, regressed, unchanged, new
 * or removed, with both observed values. Pure but for `revalidationFor`, which asks the store.
 */
import type { ResultsStore } from '../store/types';
import type { HypothesisRow, Journal, Revalidation, RevalidationRow, RevalidationStatus } from '../types';

export type { Revalidation, RevalidationRow, RevalidationStatus };

/**
 * The rows of `current` beside those of `previous`, matched on (when, expectation); an
 * expectation listed twice is matched in order. In `current`'s order, then those only `previous` had.
 */
export function compareExpectations(previous: HypothesisRow[], current: HypothesisRow[]): RevalidationRow[] {
  const key = (r: HypothesisRow): string => `${r.when}\u0000${r.expectation}`;
  const before = new Map<string, HypothesisRow[]>();
  for (const r of previous) before.set(key(r), [...(before.get(key(r)) ?? []), r]);
  const rows: RevalidationRow[] = current.map((now) => {
    const then = before.get(key(now))?.shift();
    const seen = { observed: now.observed, ok: now.ok };
    if (!then) return { expectation: now.expectation, when: now.when, status: 'new', expected: now.expected, current: seen };
    const status: RevalidationStatus = then.ok === now.ok ? 'unchanged' : now.ok ? 'fixed' : 'regressed';
    return { expectation: now.expectation, when: now.when, status, expected: now.expected, previous: { observed: then.observed, ok: then.ok }, current: seen };
  });
  for (const left of before.values()) for (const then of left) rows.push({ expectation: then.expectation, when: then.when, status: 'removed', expected: then.expected, previous: { observed: then.observed, ok: then.ok } });
  return rows;
}

/** The run compared with the previous closed run of its experiment in the store (none: no rows). */
export async function revalidationFor(store: Pick<ResultsStore, 'previousRun'>, j: Pick<Journal, 'workflowId' | 'runId' | 'experimentId' | 'startedAt' | 'hypothesisVsReality'>): Promise<Revalidation> {
  const prev = await store.previousRun({ workflowId: j.workflowId, runId: j.runId, experimentId: j.experimentId, startedAt: j.startedAt });
  if (!prev) return { rows: [] };
  const { workflowId, runId, startedAt, verdict } = prev.run;
  return { previous: { workflowId, runId, startedAt, verdict }, rows: compareExpectations(prev.expectations, j.hypothesisVsReality) };
}

function seen(s: { observed: string; ok: boolean } | undefined): string {
  return s ? `${s.ok ? 'met' : 'not met'}: ${s.observed}` : '—';
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The report's "Re-validation" section, Markdown. */
export function revalidationMarkdown(j: Pick<Journal, 'experimentId' | 'revalidation'>): string {
  const r = j.revalidation;
  const body = !r
    ? '_Not compared: this report was rendered without the results store\'s history._'
    : !r.previous
      ? `No earlier closed run of \`${j.experimentId}\` in the results store: this is the first, nothing to compare with.`
      : [
          `Compared with the previous run of \`${j.experimentId}\`: workflow \`${r.previous.workflowId}\` (run \`${r.previous.runId}\`), started ${r.previous.startedAt}, verdict ${r.previous.verdict ?? 'unknown'}.`,
          '',
          `${count(r.rows, 'fixed')} fixed, ${count(r.rows, 'regressed')} regressed, ${count(r.rows, 'unchanged')} unchanged, ${count(r.rows, 'new')} new, ${count(r.rows, 'removed')} removed.`,
          '',
          '| Expectation | When | Expected | Change | Previous run | This run |',
          '| --- | --- | --- | --- | --- | --- |',
          ...r.rows.map((x) => `| ${[x.expectation, x.when, x.expected, x.status, seen(x.previous), seen(x.current)].map(cell).join(' | ')} |`),
        ].join('\n');
  return `## Re-validation\n\n${body}`;
}

function count(rows: RevalidationRow[], status: RevalidationStatus): number {
  return rows.filter((r) => r.status === status).length;
}
