/**
 * Reverts at their due time from the worker that injected them, without waiting for a workflow
 * task. The workflow's own timer and revert stay the durable guarantee (they survive the death of
 * this process); this is the fast path. Under load, workflow tasks queue behind each other for
 * seconds (a hundred runs starting at once on two cores), and a revert that needs one is as late
 * as that queue is long; a timer in the process that injected the fault is not.
 */

import type { PlannedFault } from '../types';

/** One fault to revert when it is due. */
export interface DueRevert {
  /** The run and the fault: `<workflowId>/<runId>/<faultId>`. */
  key: string;
  dueAtMs: number;
  /** The fault itself, for a reverter in another process (reverter.ts), which cannot call `revert`. */
  fault?: PlannedFault;
  /**
   * Asked at the due time: false when the run closed or already reverted the fault (it may have
   * been injected again since by another run, which this revert must not touch).
   */
  stillInPlace: () => Promise<boolean>;
  /** Reverts; resolves with what it did, in lines (as a fault family's revert says it). */
  revert: () => Promise<string[]>;
  /** Told what happened, for the worker's log. */
  onDone?: (outcome: DueOutcome) => void;
}

/** What a due-time revert did; `failed` when it tried and the revert threw (the workflow's takes over). */
export type DueOutcome = { key: string; reverted: true; at: Date; lines: string[] } | { key: string; reverted: false; why: string; failed?: boolean };

interface Entry {
  timer?: NodeJS.Timeout;
  /** The revert in flight or done, with its outcome. */
  done?: Promise<DueOutcome>;
}

/** How long the workflow's revert waits for a due-time revert in flight. */
const DISARM_WAIT_MS = 5_000;
/** How long a fired entry is kept for the workflow's own revert to ask about it. */
const KEEP_FIRED_MS = 10 * 60_000;

/** What the activities need of due-time reverts, in this process (DueReverts) or in another (reverter.ts). */
export interface DueRevertTimers {
  /** Arms (or re-arms, for an inject that was retried) the revert of one fault at its due time. */
  arm(d: DueRevert): void;
  /**
   * The workflow's own revert of the fault has started: the due-time revert is not needed any
   * more. Resolves with what it did if it already fired (after it finished, so that the two never
   * revert at once), undefined if it had not.
   */
  disarm(key: string): Promise<DueOutcome | undefined>;
  /** Faults armed and not yet fired. */
  readonly pending: number;
  /** Stops every timer (the worker is closing). */
  close(): void;
}

/**
 * The worker's due-time reverts, keyed by run and fault, with their timers in this process.
 * Bounded by the faults in place on this worker: an entry goes when the workflow's revert asks
 * about it, or ten minutes after it fired.
 */
export class DueReverts implements DueRevertTimers {
  private readonly entries = new Map<string, Entry>();

  arm(d: DueRevert): void {
    this.cancel(d.key);
    const entry: Entry = {};
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      entry.done = fire(d);
      void entry.done.then((outcome) => {
        d.onDone?.(outcome);
        setTimeout(() => this.entries.get(d.key) === entry && this.entries.delete(d.key), KEEP_FIRED_MS).unref();
      });
    }, Math.max(0, d.dueAtMs - Date.now()));
    // A worker shutting down does not wait for faults due later: their workflows revert them.
    entry.timer.unref();
    this.entries.set(d.key, entry);
  }

  async disarm(key: string): Promise<DueOutcome | undefined> {
    const entry = this.entries.get(key);
    this.cancel(key);
    if (!entry?.done) return undefined;
    // A due-time revert that hangs (an engine that stopped answering) must not hold up this one.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), DISARM_WAIT_MS)));
    try {
      return await Promise.race([entry.done, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  get pending(): number {
    return [...this.entries.values()].filter((e) => e.timer).length;
  }

  close(): void {
    for (const key of [...this.entries.keys()]) this.cancel(key);
  }

  private cancel(key: string): void {
    const entry = this.entries.get(key);
    if (entry?.timer) clearTimeout(entry.timer);
    this.entries.delete(key);
  }
}

async function fire(d: DueRevert): Promise<DueOutcome> {
  try {
    if (!(await d.stillInPlace())) return { key: d.key, reverted: false, why: 'the run closed or reverted it already' };
    const lines = await d.revert();
    return { key: d.key, reverted: true, at: new Date(), lines };
  } catch (e) {
    // The workflow's revert, retried without limit, takes over.
    return { key: d.key, reverted: false, why: (e as Error).message, failed: true };
  }
}

/** The key of a fault of a run. */
export function dueKey(run: { workflowId: string; runId: string }, faultId: string): string {
  return `${run.workflowId}/${run.runId}/${faultId}`;
}
