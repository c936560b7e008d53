import { ParentClosePolicy, startChild } from '@temporalio/workflow';

/**
 * Starts a target's lock as a child it abandons, then ends: a lock whose holder has closed and
 * which the server does not end (test/integration/safety.test.ts), as a lock whose parent close
 * policy has not acted yet looks to the next run.
 */
export async function leaveLock(args: { lockWorkflowId: string; taskQueue: string; container: string }): Promise<void> {
  await startChild('targetLock', {
    workflowId: args.lockWorkflowId,
    taskQueue: args.taskQueue,
    args: [{ workflowId: 'leave-lock', container: args.container }],
    parentClosePolicy: ParentClosePolicy.ABANDON,
  });
}
