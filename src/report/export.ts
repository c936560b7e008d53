import type { ResultsStore } from '../store/types';
import { revalidationFor } from './revalidation';
import { writeReport } from './write';

/**
 * Renders a run's report from the results store alone, whichever worker wrote it:
 * `<reportsDir>/<workflowId>/journal.json` (every sample, in `observations` and `guardrails` as
 * ever) and report.md, overwriting an earlier export. The newest run of the workflow id when
 * `runId` is not given. Returns the folder.
 * @throws Error when the store has no such run (naming it), or the store's own errors.
 */
export async function exportReport(store: ResultsStore, reportsDir: string, workflowId: string, runId?: string): Promise<string> {
  const journal = await store.readJournal(workflowId, runId);
  if (!journal) throw new Error(`the results store has no run ${workflowId}${runId ? ` (run ${runId})` : ''} to export`);
  return writeReport(reportsDir, { ...journal, revalidation: await revalidationFor(store, journal) });
}
