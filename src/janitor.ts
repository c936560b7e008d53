import type { Client } from '@temporalio/client';
import { FAULTS_MEMO } from './search-attributes';
import type { PlannedFault } from './types';

/** A closed experiment that still records faults as not reverted. */
export interface Orphan {
  workflowId: string;
  runId: string;
  status: string;
  faults: PlannedFault[];
}


/**
 * Finds experiments that closed (terminated, timed out, failed) in the last `lookbackMs` with
 * faults still recorded as active: the workflow keeps the `GamedayActiveFaults` search attribute
 * and its `gamedayFaults` memo current before each inject and after each revert, and a run that
 * was terminated had no chance to clear them.
 */
export async function findOrphanedFaults(client: Client, lookbackMs: number, now = new Date()): Promise<Orphan[]> {
  const since = new Date(now.getTime() - lookbackMs).toISOString();
  const query = `WorkflowType = 'experiment' AND ExecutionStatus != 'Running' AND GamedayActiveFaults IS NOT NULL AND CloseTime > '${since}'`;
  const orphans: Orphan[] = [];
  for await (const wf of client.workflow.list({ query })) {
    const desc = await client.workflow.getHandle(wf.workflowId, wf.runId).describe();
    const recorded = (desc.memo?.[FAULTS_MEMO] ?? []) as PlannedFault[];
    const faults = recorded.filter((f) => f.status !== 'reverted');
    if (faults.length > 0) orphans.push({ workflowId: wf.workflowId, runId: wf.runId, status: desc.status.name, faults });
  }
  return orphans;
}
