import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions, type ScheduleOptionsAction } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { JANITOR_SCHEDULE_ID } from './sync';

/**
 * The janitor's schedule, which every worker keeps: created when missing, left alone when
 * present (a `gameday janitor --schedule --every` or a pause made by a person stays), checked
 * again every minute so that a deleted schedule comes back. Faults of runs that closed without
 * their own rollback are then reverted within one interval plus a janitor run (seconds).
 */

/** How often the worker-kept schedule runs the janitor. */
export const JANITOR_EVERY_MS = 10_000;
/** How often a worker checks that the schedule still exists. */
export const KEEP_CHECK_MS = 60_000;
/** Without memory (the first run, or after a day without one), the janitor looks back this far. */
export const JANITOR_LOOKBACK_MS = 24 * 60 * 60 * 1000;

/** What a worker keeps: the default schedule, or (tests) one of its own scoped to its task queue. */
export interface JanitorScheduleOptions {
  /** @default gameday-janitor */
  scheduleId?: string;
  /** @default JANITOR_EVERY_MS */
  everyMs?: number;
  /** Only experiments of this task queue (a test's own); every experiment when unset. */
  onlyTaskQueue?: string;
}

/** The schedule's spec, action and policies: the janitor workflow on `taskQueue`, overlaps skipped. */
export function janitorSchedule(taskQueue: string, opts: JanitorScheduleOptions & { lookbackMs?: number; workflowTaskTimeout?: string } = {}): ScheduleOptions & { scheduleId: string; spec: { intervals: { every: number }[] }; action: ScheduleOptionsAction } {
  const scheduleId = opts.scheduleId ?? JANITOR_SCHEDULE_ID;
  const action: ScheduleOptionsAction = {
    type: 'startWorkflow',
    workflowType: 'janitor',
    taskQueue,
    args: [{ lookbackMs: opts.lookbackMs ?? JANITOR_LOOKBACK_MS, scheduleId, ...(opts.onlyTaskQueue ? { taskQueue: opts.onlyTaskQueue } : {}) }],
    workflowId: `${scheduleId}-scheduled`,
    // A run no worker picks up (its task queue has none) must not block the schedule, whose
    // overlap policy skips while one runs.
    workflowExecutionTimeout: '5m',
    ...(opts.workflowTaskTimeout ? { workflowTaskTimeout: opts.workflowTaskTimeout as Duration } : {}),
  };
  return {
    scheduleId,
    spec: { intervals: [{ every: opts.everyMs ?? JANITOR_EVERY_MS }] },
    action,
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1m' },
  };
}

/**
 * Creates the schedule when it is missing. Idempotent and safe from many workers at once: a
 * schedule that exists, or that another worker created a moment ago, is left as it is.
 * @returns whether this call created it.
 */
export async function ensureJanitorSchedule(client: Client, wanted: ReturnType<typeof janitorSchedule>): Promise<'created' | 'present'> {
  try {
    await client.schedule.getHandle(wanted.scheduleId).describe();
    return 'present';
  } catch (e) {
    if (!(e instanceof ScheduleNotFoundError)) throw e;
  }
  try {
    await client.schedule.create(wanted);
    return 'created';
  } catch (e) {
    if (e instanceof ScheduleAlreadyRunning) return 'present';
    throw e;
  }
}

/**
 * Keeps the schedule from a worker: ensures it now (a failure is logged, never fatal: the worker
 * still reverts its own runs' faults), then every KEEP_CHECK_MS until stopped.
 */
export async function keepJanitorSchedule(client: Client, wanted: ReturnType<typeof janitorSchedule>, log: (msg: string) => void = () => undefined): Promise<{ stop(): void }> {
  const check = async (): Promise<void> => {
    try {
      if ((await ensureJanitorSchedule(client, wanted)) === 'created') log(`created schedule ${wanted.scheduleId}: the janitor runs every ${wanted.spec.intervals[0].every / 1000} s`);
    } catch (e) {
      log(`could not keep schedule ${wanted.scheduleId}: ${(e as Error).message}`);
    }
  };
  await check();
  const timer = setInterval(() => void check(), KEEP_CHECK_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
