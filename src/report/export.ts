import { duringRows, steadyStateRows } from '../judge';
import type { ResultsStore } from '../store/types';
import { revalidationFor } from './revalidation';
import { maskUrl } from '../store/url';
import type { Journal } from '../types';
import { renderHtml } from './html';
import { renderMarkdown } from './markdown';
import type { ReportOptions } from './sections';
import { writeReportFrom } from './stream';

/** What `gameday report` prints: the Markdown report, the HTML report, or the journal as JSON. */
export type ReportFormat = 'md' | 'html' | 'json';

/**
 * The journal as the report shows it: its hypothesis-vs-reality rows judged again from every
 * sample the store holds (the workflow judged from what it had seen), when the plan is known.
 */
export function judgedJournal(stored: Journal): Journal {
  if (!stored.plan) return stored;
  const { plan } = stored;
  return {
    ...stored,
    hypothesisVsReality: [
      ...steadyStateRows(plan, stored.baseline, 'baseline'),
      ...duringRows(plan, stored.observations),
      ...(stored.verification.length ? steadyStateRows(plan, stored.verification, 'after recovery') : []),
    ],
  };
}

/**
 * Reads a run from the results store, the newest of the workflow id when `runId` is not given.
 * @throws Error naming the workflow id (and run) and the store's URL, password masked, when the
 *   store has no such run; the store's own errors (ResultsStoreUnreachable) when it cannot be read.
 */
export async function readStoredRun(store: ResultsStore, storeUrl: string, workflowId: string, runId?: string): Promise<Journal> {
  const journal = await findStoredRun(store, workflowId, runId);
  if (!journal) throw new Error(`the results store at ${maskUrl(storeUrl)} has no run of workflow ${workflowId}${runId ? ` with run id ${runId}` : ''}`);
  return journal;
}

/**
 * A run from the results store as its report shows it (judged again, compared with the previous
 * run), or undefined when the store has no such run.
 * @throws the store's own errors (ResultsStoreUnreachable) when it cannot be read.
 */
export async function findStoredRun(store: ResultsStore, workflowId: string, runId?: string): Promise<Journal | undefined> {
  const journal = await store.readJournal(workflowId, runId);
  if (!journal) return undefined;
  const judged = judgedJournal(journal);
  return { ...judged, revalidation: await revalidationFor(store, judged) };
}

/** A stored run rendered in one format. */
export function renderReport(journal: Journal, format: ReportFormat, opts: ReportOptions = {}): string {
  switch (format) {
    case 'md':
      return renderMarkdown(journal, opts);
    case 'html':
      return renderHtml(journal, opts);
    case 'json':
      return JSON.stringify(journal, null, 2) + '\n';
  }
}

/**
 * Renders a run's report from the results store alone, whichever worker wrote it:
 * `<reportsDir>/<workflowId>/journal.json` (every sample, in `observations` and `guardrails` as
 * ever, streamed: memory does not grow with the run's length) and report.md, overwriting an
 * earlier export. The newest run of the workflow id when `runId` is not given. Returns the folder.
 * @throws Error when the store has no such run (naming it), or the store's own errors.
 */
export async function exportReport(store: ResultsStore, reportsDir: string, workflowId: string, runId?: string): Promise<string> {
  const dir = await store.readRun(workflowId, runId, (run) => writeReportFrom(reportsDir, run, async (j) => ({ ...j, revalidation: await revalidationFor(store, j) })));
  if (!dir) throw new Error(`the results store has no run ${workflowId}${runId ? ` (run ${runId})` : ''} to export`);
  return dir;
}
