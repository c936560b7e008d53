import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import type { Config } from '../config';
import { janitorSchedule } from '../schedules/janitor';
import { JANITOR_SCHEDULE_ID } from '../schedules/sync';

export { JANITOR_SCHEDULE_ID };

/**
 * Creates (or updates) the Temporal Schedule that runs the janitor workflow every `everyMs`,
 * skipping a run while the previous one is still going. The same schedule every worker keeps
 * (which leaves an existing one alone): this is how to give it another interval.
 */
export async function scheduleJanitor(client: Client, config: Config, everyMs: number, lookbackMs: number): Promise<string> {
  const wanted = janitorSchedule(config.taskQueue, { everyMs, lookbackMs, workflowTaskTimeout: config.workflowTaskTimeout });
  const handle = client.schedule.getHandle(wanted.scheduleId);
  try {
    await handle.update((previous) => ({ ...previous, spec: wanted.spec, action: wanted.action, policies: { ...previous.policies, ...wanted.policies } }));
    return `updated schedule ${JANITOR_SCHEDULE_ID}: the janitor runs every ${everyMs / 1000} s`;
  } catch (e) {
    if (!(e instanceof ScheduleNotFoundError)) throw e;
  }
  await client.schedule.create(wanted);
  return `created schedule ${JANITOR_SCHEDULE_ID}: the janitor runs every ${everyMs / 1000} s`;
}
