import { ActivityFailure, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { FaultKey, JanitorMemory, Orphan, OrphanSearch } from '../src/janitor';
import { asSearch, faultKey, handledBefore, nextMemory } from './janitor-memory';
import { targetRefs } from '../src/faults/describe';
import { faultQueueOf } from '../src/task-queues';
import { AGENT_START_WAIT, faultQueueFor, hostOf } from './hosts';
import { acquireLocks, lockId, releaseLocks } from './lock';

const { findOrphanedFaults } = proxyActivities<Activities>({ startToCloseTimeout: '1m', retry: { maximumAttempts: 3 } });
const { describeLockHolder } = proxyActivities<Activities>({ startToCloseTimeout: '10s', retry: { maximumAttempts: 2 } });
// Reverts that cannot reach their target (the Docker engine, Toxiproxy, the database) fail
// retryably: a few attempts here, then the fault is pending and the next run tries again.
const REVERT_OPTIONS = {
  startToCloseTimeout: '1m',
  heartbeatTimeout: '3s',
  retry: { maximumAttempts: 5, initialInterval: '500ms' },
} as const;
/**
 * The janitor's reverts go to the fault task queue, like every other revert: they never wait
 * behind probes. Runs recorded before scheduled them on the janitor's own queue (patched). A fault
 * on another host goes to its host's agents (no janitor run recorded before hosts has one); one
 * that no agent takes fails here and stays pending for the next run.
 */
const revertFault = (f: Parameters<Activities['revertFault']>[0]): Promise<string[]> =>
  proxyActivities<Activities>(
    hostOf(f.target)
      ? { ...REVERT_OPTIONS, taskQueue: faultQueueFor(f, ''), scheduleToStartTimeout: AGENT_START_WAIT }
      : patched('janitor-fault-queue')
        ? { ...REVERT_OPTIONS, taskQueue: faultQueueOf(workflowInfo().taskQueue) }
        : REVERT_OPTIONS,
  ).revertFault(f);

/** What a janitor run is asked to do; every field is optional. */
export interface JanitorInput {
  /** How far back to look for closed experiments when there is no memory to start from. @default 24 h */
  lookbackMs?: number;
  /** Only experiments that ran on this task queue (tests scope their janitor to their own runs). */
  taskQueue?: string;
  /** The schedule whose previous run's result is this run's memory (the schedule's own runs pass it). */
  scheduleId?: string;
}

export interface JanitorResult {
  /** Closed experiments found with faults still recorded as active. */
  orphans: number;
  actions: { workflowId: string; fault: string; outcome: string }[];
  /** Faults left alone because an earlier run of the schedule handled them. */
  alreadyHandled?: number;
  /** What the next run of the schedule starts from; absent for runs recorded before memory. */
  memory?: JanitorMemory;
  /** The run whose memory this one started from. */
  previous?: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

function reason(err: unknown): string {
  const e = err instanceof ActivityFailure && err.cause ? err.cause : (err as Error);
  return e.message;
}

/**
 * Reverts what experiments that closed without their own rollback (terminated, timed out, reset,
 * ended by the server) left behind. A terminated workflow runs no code of its own, but its memo
 * records every fault it attempted and had not reverted. Each revert is idempotent; the janitor
 * first takes the target's lock (a container, a proxy, a database, a process), so it never
 * touches one that a running experiment (or another janitor) holds, and says which one does.
 * Run by the schedule every worker keeps, it remembers what the previous run handled.
 */
export async function janitor(opts: JanitorInput = {}): Promise<JanitorResult> {
  const self = workflowInfo().workflowId;
  const search = asSearch((await findOrphanedFaults({ lookbackMs: opts.lookbackMs ?? DAY_MS, taskQueue: opts.taskQueue, scheduleId: opts.scheduleId })) as OrphanSearch | Orphan[]);
  const wasHandled = search.listedAt ? handledBefore(search) : () => false;
  const actions: JanitorResult['actions'] = [];
  const handled: FaultKey[] = [];
  const pending: FaultKey[] = [];
  let alreadyHandled = 0;
  for (const orphan of search.orphans) {
    for (const fault of [...orphan.faults].reverse()) {
      const key = faultKey(orphan, fault);
      if (wasHandled(key)) {
        alreadyHandled++;
        continue;
      }
      if (orphan.continuedBy) {
        // Reset: the new run may hold the fault as its own, lock or not. It reverts it when it
        // ends; the janitor comes back to what is left after that.
        actions.push({ workflowId: orphan.workflowId, fault: fault.description, outcome: `skipped: the run was reset and its new run ${orphan.continuedBy} is running; the next run retries` });
        pending.push(key);
        continue;
      }
      const { held, busy } = await acquireLocks(targetRefs(fault.target), { holder: self, waitMs: 0 });
      if (busy) {
        const holder = await describeLockHolder({ lockId: lockId(busy) }).catch(() => 'another workflow');
        const what = fault.target.kind && fault.target.kind !== 'docker' ? '' : 'container ';
        actions.push({ workflowId: orphan.workflowId, fault: fault.description, outcome: `skipped: ${what}${busy.name} is held by ${holder}; the next run retries` });
        pending.push(key);
        continue;
      }
      try {
        const done = await revertFault(fault);
        actions.push({ workflowId: orphan.workflowId, fault: fault.description, outcome: done.join('; ') });
        handled.push(key);
      } catch (err) {
        actions.push({ workflowId: orphan.workflowId, fault: fault.description, outcome: `revert failed, the next run retries: ${reason(err)}` });
        pending.push(key);
      } finally {
        await releaseLocks(held);
      }
    }
  }
  if (!search.listedAt) return { orphans: search.orphans.length, actions };
  return {
    orphans: search.orphans.length,
    actions,
    alreadyHandled,
    memory: nextMemory(search, handled, pending),
    ...(search.previous ? { previous: search.previous.workflowId } : {}),
  };
}
