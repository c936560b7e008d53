import type { Writable } from 'node:stream';
import type { ResultsStore } from '../store/types';
import { maskUrl } from '../store/url';
import type { Journal } from '../types';
import { digestOf, hypothesisRowsFrom } from './digest';
import { revalidationFor } from './revalidation';
import { ChunkedWriter, htmlOf, markdownOf, passOverRun, writeReportFrom, type FinishJournal } from './stream';

/** What `gameday report` prints: the Markdown report, the HTML report, or the journal as JSON. */
export type ReportFormat = 'md' | 'html' | 'json';

/**
 * The journal as the report shows it: its hypothesis-vs-reality rows judged again from every
 * sample the store holds (the workflow judged from what it had seen), when the plan is known and
 * the samples were not pruned.
 */
export function judgedJournal(stored: Journal): Journal {
  return stored.plan && !stored.store?.samplesPrunedAt ? { ...stored, hypothesisVsReality: hypothesisRowsFrom(stored.plan, digestOf(stored)) } : stored;
}

/**
 * Completes a stored run's journal as its report shows it, from the digest of one pass over its
 * samples: hypothesis rows judged again (as `judgedJournal`; a run whose samples were pruned keeps
 * its recorded rows), compared with the previous run.
 */
export function asReported(store: ResultsStore): FinishJournal {
  return async (head, digest) => {
    // Pruned samples judge nothing: the rows recorded at the end of the run stand.
    const judged = head.plan && !head.store?.samplesPrunedAt ? { ...head, hypothesisVsReality: hypothesisRowsFrom(head.plan, digest) } : head;
    return { ...judged, revalidation: await revalidationFor(store, judged) };
  };
}

/**
 * A run from the results store as its report shows it (judged again, compared with the previous
 * run), every sample in memory, or undefined when the store has no such run.
 * @throws the store's own errors (ResultsStoreUnreachable) when it cannot be read.
 */
export async function findStoredRun(store: ResultsStore, workflowId: string, runId?: string): Promise<Journal | undefined> {
  const journal = await store.readJournal(workflowId, runId);
  if (!journal) return undefined;
  const judged = judgedJournal(journal);
  return { ...judged, revalidation: await revalidationFor(store, judged) };
}

/** The error for a run the store does not hold: it names the run and the store, password masked. */
export function unknownRun(storeUrl: string, workflowId: string, runId?: string): Error {
  return new Error(`the results store at ${maskUrl(storeUrl)} has no run of workflow ${workflowId}${runId ? ` with run id ${runId}` : ''}`);
}

/**
 * Renders a stored run in one format in one pass over its samples, in memory bounded whatever
 * the run's length: the journal as JSON streamed to the stream sample by sample, the Markdown and
 * HTML reports from the pass's digest and thinned samples (what the worker writes, byte for byte).
 * `open` is called once the run is known, and is handed the whole output; the caller ends it.
 * The newest run of the workflow id when `runId` is not given.
 * @throws Error naming the run and the store (`unknownRun`) when the store has no such run; the
 *   store's own errors (ResultsStoreUnreachable), or the stream's, when it cannot be read or written.
 */
export async function streamStoredReport(
  store: ResultsStore,
  storeUrl: string,
  run: { workflowId: string; runId?: string; format: ReportFormat },
  open: () => Promise<Writable>,
): Promise<void> {
  const found = await store.readRun(run.workflowId, run.runId, async (r) => {
    const out = new ChunkedWriter(await open());
    const pass = await passOverRun(r, asReported(store), run.format === 'json' ? out : undefined);
    if (run.format !== 'json') await out.write(run.format === 'md' ? markdownOf(pass) : htmlOf(pass));
    await out.flush();
    return true;
  });
  if (!found) throw unknownRun(storeUrl, run.workflowId, run.runId);
}

/**
 * Renders a run's report from the results store alone, whichever worker wrote it, its hypothesis
 * rows as recorded (the worker records those of its report):
 * `<reportsDir>/<workflowId>/journal.json` (every sample, in `observations` and `guardrails` as
 * ever, streamed: memory does not grow with the run's length), report.md and report.html,
 * overwriting an earlier export. The newest run of the workflow id when `runId` is not given.
 * Returns the folder.
 * @throws Error when the store has no such run (naming it), or the store's own errors.
 */
export async function exportReport(store: ResultsStore, reportsDir: string, workflowId: string, runId?: string): Promise<string> {
  const dir = await store.readRun(workflowId, runId, (run) => writeReportFrom(reportsDir, run, async (j) => ({ ...j, revalidation: await revalidationFor(store, j) })));
  if (!dir) throw new Error(`the results store has no run ${workflowId}${runId ? ` (run ${runId})` : ''} to export`);
  return dir;
}
