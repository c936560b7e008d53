import { CancellationScope, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RevertRun } from '../activities/notify';
import { faultQueueOf } from '../src/task-queues';
import type { PlannedFault } from '../src/types';
import type { RunState } from './run-state';

/** The task queue of faults (injects and reverts) beside this run's own: every worker polls it with slots of its own. */
export function faultQueue(): string {
  return faultQueueOf(workflowInfo().taskQueue);
}

/**
 * One revert, retried by Temporal until it succeeds (no maximumAttempts: no limit), backoff doubling to
 * 30 s. Retries add no history events; the activity signals the workflow at a few attempts
 * (3, 6, 12 …) so that the status shows a rollback failing without a history that grows with it.
 * Reverts run on the fault task queue: they never wait behind probes for a worker's slot.
 */
function revertActivity(f: PlannedFault): (f: PlannedFault, opts: { tell: boolean; run: RevertRun }) => Promise<string[]> {
  return proxyActivities<Activities>({
    taskQueue: faultQueue(),
    startToCloseTimeout: '1m',
    heartbeatTimeout: '3s',
    retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '30s' },
    summary: `revert: ${f.description}`,
  }).revertFault;
}

/** What the revert activity needs to tell the webhooks of a rollback that keeps failing (activity input only: replay-safe). */
function revertRunOf(state: RunState): RevertRun {
  const spec = state.plan?.spec;
  return { experimentId: spec?.id ?? '', title: spec?.title ?? '', trigger: state.trigger, ...(spec?.notify ? { notify: spec.notify } : {}) };
}

/** Reverts one fault, however long that takes; the run's state records it. */
export async function revert(state: RunState, f: PlannedFault): Promise<void> {
  const lines = await CancellationScope.nonCancellable(() => revertActivity(f)(f, { tell: true, run: revertRunOf(state) }));
  state.reverted(f, lines);
}

/** Reverts every fault still in place, newest first, whatever cancelled the run. */
export async function rollBack(state: RunState): Promise<void> {
  await CancellationScope.nonCancellable(async () => {
    const toRevert = state.active().reverse();
    if (toRevert.length === 0) return;
    state.enter('rollback');
    for (const f of toRevert) await revert(state, f);
  });
}
