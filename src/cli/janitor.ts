import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Config } from '../config';
import { JANITOR_SCHEDULE_ID } from '../schedules/sync';

export { JANITOR_SCHEDULE_ID };

/**
 * Creates (or updates) the Temporal Schedule that runs the janitor workflow every `everyMs`,
 * skipping a run while the previous one is still going.
 */
export async function scheduleJanitor(client: Client, config: Config, everyMs: number, lookbackMs: number): Promise<string> {
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'janitor',
    taskQueue: config.taskQueue,
    args: [{ lookbackMs }],
    workflowId: 'gameday-janitor-scheduled',
  };
  const spec = { intervals: [{ every: everyMs }] };
  const handle = client.schedule.getHandle(JANITOR_SCHEDULE_ID);
  try {
    await handle.update((previous) => ({ ...previous, spec, action }));
    return `updated schedule ${JANITOR_SCHEDULE_ID}: the janitor runs every ${everyMs / 1000} s`;
  } catch (e) {
    if (!(e instanceof ScheduleNotFoundError)) throw e;
  }
  await client.schedule.create({ scheduleId: JANITOR_SCHEDULE_ID, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP } });
  return `created schedule ${JANITOR_SCHEDULE_ID}: the janitor runs every ${everyMs / 1000} s`;
}
