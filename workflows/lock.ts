import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { CancellationScope, condition, defineSignal, ParentClosePolicy, setHandler, sleep, startChild, type ChildWorkflowHandle } from '@temporalio/workflow';
import type { ContainerRef } from '../src/types';

/** Ends the lock early; otherwise it ends with its holder (parent close policy TERMINATE). */
export const releaseSignal = defineSignal('release');

/**
 * A lock on one container, held by the workflow that started it as a child. Temporal lets one
 * workflow id run at a time in a namespace, so two experiments, on any workers, cannot hold the
 * same lock; and a child is terminated when its parent closes, so a terminated experiment frees
 * its locks with it.
 */
export async function targetLock(holder: { workflowId: string; container: string }): Promise<string> {
  let released = false;
  setHandler(releaseSignal, () => void (released = true));
  await condition(() => released);
  return `released by ${holder.workflowId}`;
}

/** The lock's workflow id for a container: one per container, whatever its name. */
export function lockId(container: ContainerRef): string {
  return `gameday-lock-${container.id.slice(0, 12)}`;
}

export interface LockOptions {
  holder: string;
  /** Wait for a busy container (polling every 2 s) at most this long; 0 refuses at once. */
  waitMs: number;
  onWait?: (container: ContainerRef) => void;
  /**
   * Asked of a lock found taken, before it counts as busy: ends it when its holder has closed
   * (true: free now). A run that ends with its report in a local activity leaves its locks to the
   * parent close policy, which acts a moment after its close.
   */
  freeLeftOver?: (lockWorkflowId: string) => Promise<boolean>;
}

/**
 * Locks every container, in id order (two waiters never deadlock). Returns the held locks, or
 * the container that stayed busy; locks taken before a busy one are released again.
 */
export async function acquireLocks(containers: ContainerRef[], opts: LockOptions): Promise<{ held: ChildWorkflowHandle<typeof targetLock>[]; busy?: ContainerRef }> {
  const held: ChildWorkflowHandle<typeof targetLock>[] = [];
  const unique = [...new Map(containers.map((c) => [c.id, c])).values()].sort((a, b) => a.id.localeCompare(b.id));
  const deadline = Date.now() + opts.waitMs;
  for (const c of unique) {
    let freed = false;
    let told = false;
    for (;;) {
      try {
        // Started outside the caller's cancellation scope: cancelling the experiment must not
        // cancel its locks before its rollback has run.
        const lock = await CancellationScope.nonCancellable(() =>
          startChild(targetLock, {
            workflowId: lockId(c),
            args: [{ workflowId: opts.holder, container: c.name }],
            parentClosePolicy: ParentClosePolicy.TERMINATE,
          }),
        );
        held.push(lock);
        break;
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        // Once a container: a lock that is there again right after is another holder's.
        if (opts.freeLeftOver && !freed) {
          freed = true;
          if (await opts.freeLeftOver(lockId(c)).catch(() => false)) continue;
        }
        if (Date.now() + 2000 > deadline) {
          await releaseLocks(held);
          return { held: [], busy: c };
        }
        if (!told) opts.onWait?.(c);
        told = true;
        await sleep(2000);
      }
    }
  }
  return { held };
}

/** Releases locks and waits for them to end; a lock that already ended is released already. */
export async function releaseLocks(held: ChildWorkflowHandle<typeof targetLock>[]): Promise<void> {
  for (const lock of held) {
    try {
      await lock.signal(releaseSignal);
      await lock.result();
    } catch {
      // Ended already (terminated by hand, say): nothing is held.
    }
  }
}
