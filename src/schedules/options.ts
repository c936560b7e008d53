import { createHash } from 'node:crypto';
import { ScheduleOverlapPolicy, type CalendarSpec, type ScheduleOptions, type ScheduleSpec } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { Config } from '../config';
import { searchAttributes } from '../search-attributes';
import { dayOfWeek, DEFAULT_CATCHUP_WINDOW, monthName, type CalendarEntry, type ScheduleBlock } from '../spec/schedule';
import type { Scenario } from '../spec/scenario';
import type { Experiment } from '../spec/schema';
import type { ExperimentInput, ScenarioInput } from '../types';

/** The schedule memo that marks a schedule as Gameday's: sync and the schedule commands touch no other. */
export const OWNER_MEMO = 'gamedayOwner';
export const OWNER = 'gameday';
/** Schedule memo: the catalog folder the schedule was synced from; sync deletes only its own folder's. */
export const CATALOG_MEMO = 'gamedayCatalog';
/** Memo of the scheduled runs (the action): the file and a hash of what was synced, to tell a changed file. */
export const FILE_MEMO = 'gamedayFile';
export const HASH_MEMO = 'gamedaySpecHash';

/** The id of the schedule that runs an experiment or scenario: `gameday-<its id>`. */
export function scheduleIdFor(specId: string): string {
  return `gameday-${specId}`;
}

/** One file's wish: a schedule for an experiment or a scenario. */
export interface ScheduledSpec {
  kind: 'experiment' | 'scenario';
  spec: (Experiment | Scenario) & { schedule: ScheduleBlock };
  file: string;
}

const OVERLAP: Record<NonNullable<ScheduleBlock['overlap']>, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
};

type Field = CalendarEntry['second'];
type Unit = string | number;

/** A calendar field with names spelt as Temporal wants them (MONDAY, JANUARY). */
function convertField(field: Field, name: (v: Unit) => Unit): unknown {
  if (field === undefined || field === '*') return field;
  const one = (v: Unit | { start: Unit; end?: Unit; step?: number }): unknown =>
    typeof v === 'object' ? { start: name(v.start), ...(v.end !== undefined ? { end: name(v.end) } : {}), ...(v.step !== undefined ? { step: v.step } : {}) } : name(v);
  return Array.isArray(field) ? field.map(one) : one(field);
}

function calendarFor(c: CalendarEntry): CalendarSpec {
  const same = (v: Unit): Unit => v;
  return {
    second: convertField(c.second, same),
    minute: convertField(c.minute, same),
    hour: convertField(c.hour, same),
    dayOfMonth: convertField(c.dayOfMonth, same),
    month: convertField(c.month, (v) => monthName(v)!),
    year: convertField(c.year, same),
    dayOfWeek: convertField(c.dayOfWeek, (v) => dayOfWeek(v)!),
    comment: c.comment,
  } as CalendarSpec;
}

/** The Temporal ScheduleSpec of a schedule block. */
export function scheduleSpecFor(s: ScheduleBlock): ScheduleSpec {
  return {
    ...(s.cron !== undefined ? { cronExpressions: Array.isArray(s.cron) ? s.cron : [s.cron] } : {}),
    ...(s.calendar ? { calendars: s.calendar.map(calendarFor) } : {}),
    ...(s.every ? { intervals: [{ every: s.every as Duration }] } : {}),
    ...(s.jitter ? { jitter: s.jitter as Duration } : {}),
    ...(s.timezone ? { timezone: s.timezone } : {}),
  };
}

/** When a schedule block fires, in words: "cron 0 2 * * * (Europe/Berlin), skip overlaps". */
export function describeSchedule(s: ScheduleBlock): string {
  const when: string[] = [];
  if (s.cron !== undefined) when.push(`cron ${(Array.isArray(s.cron) ? s.cron : [s.cron]).join(' | ')}`);
  if (s.every) when.push(`every ${s.every}`);
  for (const c of s.calendar ?? []) {
    when.push(`calendar ${Object.entries(c).filter(([k]) => k !== 'comment').map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}`);
  }
  return `${when.join('; ')} (${s.timezone ?? 'UTC'})${s.jitter ? `, jitter ${s.jitter}` : ''}, overlap ${s.overlap ?? 'skip'}`;
}

/** A short, stable hash of what a schedule is made of: a changed file (or task queue) changes it. */
export function specHash(wish: ScheduledSpec, config: Pick<Config, 'taskQueue' | 'workflowTaskTimeout'>): string {
  const text = JSON.stringify({ kind: wish.kind, spec: wish.spec, file: wish.file, taskQueue: config.taskQueue, timeout: config.workflowTaskTimeout });
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/**
 * The whole schedule for a file: it starts the `experiment` or `scenario` workflow on the worker's
 * task queue with the spec as it was synced and `trigger: 'schedule'` (so the run checks the
 * freeze windows). Defaults: overlap skip, catch-up window 10 m, pause on failure.
 */
export function scheduleOptionsFor(wish: ScheduledSpec, config: Config, catalog: string): ScheduleOptions {
  const s = wish.spec.schedule;
  const scheduleId = scheduleIdFor(wish.spec.id);
  const input: ExperimentInput | ScenarioInput = { spec: wish.spec, source: wish.file, trigger: 'schedule', scheduleId };
  return {
    scheduleId,
    spec: scheduleSpecFor(s),
    action: {
      type: 'startWorkflow',
      workflowType: wish.kind,
      taskQueue: config.taskQueue,
      // Temporal appends the scheduled time to this id, one workflow id per run.
      workflowId: `${wish.spec.id}-scheduled`,
      args: [input],
      workflowTaskTimeout: config.workflowTaskTimeout as Duration,
      typedSearchAttributes: [{ key: searchAttributes.experimentId, value: wish.spec.id }],
      memo: { [FILE_MEMO]: wish.file, [HASH_MEMO]: specHash(wish, config) },
      staticSummary: `scheduled ${wish.kind} ${wish.spec.id}`,
    },
    policies: {
      overlap: OVERLAP[s.overlap ?? 'skip'],
      catchupWindow: (s.catchupWindow ?? DEFAULT_CATCHUP_WINDOW) as Duration,
      pauseOnFailure: s.pauseOnFailure ?? true,
    },
    memo: { [OWNER_MEMO]: OWNER, [CATALOG_MEMO]: catalog },
    state: { paused: s.paused ?? false, note: s.note ?? `synced by gameday from ${wish.file}` },
  };
}
