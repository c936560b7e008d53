import type { Client } from '@temporalio/client';
import { Runtime } from '@temporalio/worker';
import type { Config } from '../config';
import { janitorSchedule, keepJanitorSchedule, type JanitorScheduleOptions } from '../schedules/janitor';

/** A worker's janitor setting: keep the default schedule, one of its own, or none. */
export type JanitorScheduleSetting = boolean | JanitorScheduleOptions;

/**
 * The worker's one call for the janitor: keeps the schedule that runs it (on the worker's task
 * queue) unless the setting, or GAMEDAY_JANITOR=off, says not to.
 */
export async function keepJanitorFrom(client: Client, setup: { config: Config; taskQueue?: string; janitorSchedule?: JanitorScheduleSetting }): Promise<{ stop(): void }> {
  const setting = setup.janitorSchedule ?? setup.config.janitorSchedule;
  if (setting === false) return { stop: () => undefined };
  const opts = setting === true ? {} : setting;
  const wanted = janitorSchedule(setup.taskQueue ?? setup.config.taskQueue, { ...opts, workflowTaskTimeout: setup.config.workflowTaskTimeout });
  return keepJanitorSchedule(client, wanted, (msg) => Runtime.instance().logger.warn(msg));
}
