import { CancellationScope, proxyActivities, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities, FirstRound } from '../activities';
import type { RevertRun } from '../activities/notify';
import { faultQueueOf } from '../src/task-queues';
import { AGENT_START_WAIT, faultQueueFor, hostOf, notTakenInTime } from './hosts';
import type { PlannedFault } from '../src/types';
import type { VerifySummary } from '../src/observe/sampling';
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
function revertActivity(f: PlannedFault, scheduleToStart?: typeof AGENT_START_WAIT): (f: PlannedFault, opts: { tell: boolean; run: RevertRun }) => Promise<string[]> {
  return proxyActivities<Activities>({
    taskQueue: faultQueueFor(f, faultQueue()),
    ...(scheduleToStart ? { scheduleToStartTimeout: scheduleToStart } : {}),
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
  const host = hostOf(f.target);
  const lines = await CancellationScope.nonCancellable(() => (host ? revertOnHost(state, f, host) : revertActivity(f)(f, { tell: true, run: revertRunOf(state) })));
  state.reverted(f, lines);
}

/**
 * A revert on another host, by whichever of its agents polls. One that no agent takes within
 * AGENT_START_WAIT (the agent died) is asked for again with no schedule-to-start limit, and the
 * run says meanwhile that it waits on that host: two activities in the history however long the
 * host stays away (a schedule-to-start timeout is not retried; the second has none).
 */
async function revertOnHost(state: RunState, f: PlannedFault, host: string): Promise<string[]> {
  const since = new Date().toISOString();
  const opts = { tell: true, run: revertRunOf(state) };
  try {
    return await revertActivity(f, AGENT_START_WAIT)(f, opts);
  } catch (err) {
    if (!notTakenInTime(err)) throw err;
  }
  state.waitingOnHost(f, host, since);
  return await revertActivity(f)(f, opts);
}

/**
 * The revert of a fault on this host in the workflow task its timer started: a local activity, no
 * round trip through the server and no workflow task of its own. One attempt: the worker that
 * injected the fault reverted it at its due time already, and this one mostly finds it done; should
 * it fail, the fault queue's revert takes over, retried without limit. Its timeout leaves room for
 * a due-time revert still in flight, which it waits for (up to 6 s: src/faults/reverter.ts).
 */
function revertHere(f: PlannedFault): (f: PlannedFault, opts: { tell: boolean; run: RevertRun }) => Promise<string[]> {
  return proxyLocalActivities<Activities>({ startToCloseTimeout: '15s', retry: { maximumAttempts: 1 }, summary: `revert: ${f.description}` }).revertFault;
}

/** revertHere's, with the first verification round after the revert (activities/index.ts): its round may take up to 3 s more. */
function revertThenVerifyHere(f: PlannedFault): (f: PlannedFault, opts: { tell: boolean; run: RevertRun }, verify: FirstRound) => Promise<{ lines: string[]; verified?: VerifySummary }> {
  return proxyLocalActivities<Activities>({ startToCloseTimeout: '20s', retry: { maximumAttempts: 1 }, summary: `revert: ${f.description}, then verify` }).revertThenVerify;
}

/**
 * Reverts a fault whose duration is up: here first when the run may (RunState.revertDueHere), else
 * as `revert`. With `thenVerify`, the first verification round is taken in the same local activity
 * right after (RunState.verifiedAtRevert).
 */
export async function revertWhenDue(state: RunState, f: PlannedFault, thenVerify?: FirstRound): Promise<void> {
  if (!state.revertDueHere || hostOf(f.target)) return revert(state, f);
  let lines: string[];
  try {
    const opts = { tell: false, run: revertRunOf(state) };
    if (!thenVerify) lines = await CancellationScope.nonCancellable(() => revertHere(f)(f, opts));
    else {
      const done = await CancellationScope.nonCancellable(() => revertThenVerifyHere(f)(f, opts, thenVerify));
      lines = done.lines;
      state.verifiedAtRevert = done.verified;
    }
  } catch {
    return revert(state, f);
  }
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
