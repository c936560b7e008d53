import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { acquireLocks, releaseLocks } from './lock';

const { findOrphanedFaults } = proxyActivities<Activities>({ startToCloseTimeout: '1m', retry: { maximumAttempts: 3 } });
const { revertFault } = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  heartbeatTimeout: '3s',
  retry: { maximumAttempts: 5, initialInterval: '500ms' },
});

export interface JanitorResult {
  /** Closed experiments found with faults still recorded as active. */
  orphans: number;
  actions: { workflowId: string; fault: string; outcome: string }[];
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Reverts what experiments that closed without their own rollback (terminated, timed out) left
 * behind. A terminated workflow runs no code of its own, but its memo records every fault it
 * attempted and had not reverted. Each revert is idempotent; the janitor first takes the
 * target's lock (a container, a proxy, a database, a process), so it never touches one that a
 * running experiment holds.
 */
export async function janitor(opts: { lookbackMs?: number } = {}): Promise<JanitorResult> {
  const orphans = await findOrphanedFaults({ lookbackMs: opts.lookbackMs ?? DAY_MS });
  const actions: JanitorResult['actions'] = [];
  for (const orphan of orphans) {
    for (const fault of [...orphan.faults].reverse()) {
      const { held, busy } = await acquireLocks(fault.target.containers, { holder: workflowInfo().workflowId, waitMs: 0 });
      if (busy) {
        actions.push({ workflowId: orphan.workflowId, fault: fault.description, outcome: `skipped: ${fault.target.kind && fault.target.kind !== 'docker' ? '' : 'container '}${busy.name} is held by a running experiment` });
        continue;
      }
      try {
        const done = await revertFault(fault);
        actions.push({ workflowId: orphan.workflowId, fault: fault.description, outcome: done.join('; ') });
      } catch (err) {
        actions.push({ workflowId: orphan.workflowId, fault: fault.description, outcome: `revert failed, the next run retries: ${(err as Error).message}` });
      } finally {
        await releaseLocks(held);
      }
    }
  }
  return { orphans: orphans.length, actions };
}
