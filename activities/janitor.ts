import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { describeLockHolder as describeHolder, findOrphanedFaults as findOrphans, freeLockOfClosedHolder, type OrphanQuery, type OrphanSearch } from '../src/janitor';

/**
 * The janitor's activities, merged into createActivities: the search for closed experiments
 * with faults left in place (with the memory of the schedule's previous run), and who holds a
 * busy lock.
 */
export function createJanitorActivities(deps: { client?: Client }) {
  const client = (): Client => {
    if (!deps.client) throw ApplicationFailure.nonRetryable('the janitor needs a Temporal client in the activity dependencies', 'InvalidConfig');
    return deps.client;
  };
  return {
    /**
     * Closed experiments with faults still recorded as active. `self` defaults to the calling
     * janitor run, so that it never reads its own memory.
     */
    async findOrphanedFaults(q: OrphanQuery): Promise<OrphanSearch> {
      return findOrphans(client(), { ...q, self: q.self ?? Context.current().info.workflowExecution?.workflowId });
    },

    /** Who holds a lock, in words: "experiment <id>", "janitor <id>". */
    async describeLockHolder(args: { lockId: string }): Promise<string> {
      return describeHolder(client(), args.lockId);
    },

    /** Ends a lock whose holder has closed (src/janitor.ts): true when the lock is free now. */
    async freeLeftOverLock(args: { lockId: string }): Promise<boolean> {
      return freeLockOfClosedHolder(client(), args.lockId);
    },
  };
}
