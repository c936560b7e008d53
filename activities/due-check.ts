import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { FAULTS_MEMO } from '../src/search-attributes';
import type { PlannedFault } from '../src/types';

/** How long the due-time revert waits for the server's answer before reverting anyway. */
const DESCRIBE_DEADLINE_MS = 2_000;

/**
 * Whether a fault is still the run's to revert at its due time: the run is open and its memo does
 * not say reverted. A run that closed freed its locks, so another run may hold the target now;
 * its faults are the janitor's. A server that does not answer in time: the fault's time is up and
 * it is reverted (a fault outliving its run is the failure Gameday exists to prevent; the rare
 * cost is ending early a fault another run injected again after this one closed).
 */
export async function stillInPlace(client: Client, run: { workflowId: string; runId: string }, faultId: string): Promise<boolean> {
  try {
    const d = await client.withDeadline(Date.now() + DESCRIBE_DEADLINE_MS, () => client.workflow.getHandle(run.workflowId, run.runId).describe());
    if (d.status.name !== 'RUNNING') return false;
    const faults = (d.memo?.[FAULTS_MEMO] ?? []) as PlannedFault[];
    return faults.find((x) => x.id === faultId)?.status !== 'reverted';
  } catch (e) {
    return !(e instanceof WorkflowNotFoundError);
  }
}

/**
 * Whether a run is still open, for the metrics' reconciliation (src/metrics/gameday.ts): false
 * only when the server says it closed or does not know it; no answer in time keeps it counted.
 */
export async function stillRunning(client: Client, run: { workflowId: string; runId: string }): Promise<boolean> {
  try {
    const d = await client.withDeadline(Date.now() + DESCRIBE_DEADLINE_MS, () => client.workflow.getHandle(run.workflowId, run.runId).describe());
    return d.status.name === 'RUNNING';
  } catch (e) {
    return !(e instanceof WorkflowNotFoundError);
  }
}
