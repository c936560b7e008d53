import { z } from 'zod';
import ms from 'ms';
import { boundedList } from './limits';

/**
 * The optional `schedule` block of an experiment or scenario file: when `gameday schedule sync`
 * makes a Temporal Schedule start it. Kept apart from schema.ts, which it extends.
 */

const DURATION = /^\d+(\.\d+)?(ms|s|m|h|d)$/;
const durationText = z
  .string({ error: 'expected a duration such as "30s", "10m" or "1h"' })
  .regex(DURATION, { error: (iss) => `"${String(iss.input)}" is not a duration: write a number and a unit (ms, s, m, h, d), e.g. "10m"` });

/** The catch-up window's bounds: Temporal refuses less than 10 s; more than a day would replay a night's misses at noon. */
export const CATCHUP_MIN_MS = 10_000;
export const CATCHUP_MAX_MS = 24 * 3_600_000;
/** A schedule runs at least once a year; its jitter delays a run by at most a day. */
export const EVERY_MAX_MS = 366 * 24 * 3_600_000;
export const JITTER_MAX_MS = 24 * 3_600_000;
/** How long after a missed time (server down) a run is still taken. */
export const DEFAULT_CATCHUP_WINDOW = '10m';

const DAY_NAMES = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'] as const;
const MONTH_NAMES = ['JANUARY', 'FEBRUARY', 'MARCH', 'APRIL', 'MAY', 'JUNE', 'JULY', 'AUGUST', 'SEPTEMBER', 'OCTOBER', 'NOVEMBER', 'DECEMBER'] as const;

/** A day of the week by name ("fri", "Friday", "FRIDAY") or number (0 = Sunday); undefined when it is neither. */
export function dayOfWeek(value: string | number): (typeof DAY_NAMES)[number] | undefined {
  if (typeof value === 'number') return DAY_NAMES[value];
  const v = value.toUpperCase();
  return v.length >= 3 ? DAY_NAMES.find((d) => d.startsWith(v)) : undefined;
}

/** A month by name ("jan", "January") or number (1 = January); undefined when it is neither. */
export function monthName(value: string | number): (typeof MONTH_NAMES)[number] | undefined {
  if (typeof value === 'number') return MONTH_NAMES[value - 1];
  const v = value.toUpperCase();
  return v.length >= 3 ? MONTH_NAMES.find((m) => m.startsWith(v)) : undefined;
}

/** One calendar field: `*`, a value, `{ start, end?, step? }`, or a list of values and ranges. */
function calendarField(what: string, valid: (v: string | number) => boolean) {
  const unit = z.union([z.number(), z.string()]).refine(valid, { error: (iss) => `${JSON.stringify(iss.input)} is not a valid ${what}` });
  const range = z.strictObject({ start: unit, end: unit.optional(), step: z.int().min(1, { error: 'step must be at least 1' }).optional() });
  const item = z.union([unit, range], { error: `expected a ${what}, or { start, end, step }` });
  return z.union([z.literal('*'), item, z.array(item).min(1, { error: 'give at least one value' })], { error: `expected "*", a ${what}, { start, end, step } or a list of them` }).optional();
}

const intIn = (lo: number, hi: number) => (v: string | number) => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

/** A calendar entry, Temporal's structured form of a cron line: every field that is given must match. */
export const calendarSchema = z.strictObject({
  second: calendarField('second (0-59)', intIn(0, 59)),
  minute: calendarField('minute (0-59)', intIn(0, 59)),
  hour: calendarField('hour (0-23)', intIn(0, 23)),
  dayOfMonth: calendarField('day of the month (1-31)', intIn(1, 31)),
  month: calendarField('month (1-12 or a name such as jan)', (v) => monthName(v) !== undefined),
  year: calendarField('year such as 2030', intIn(1970, 9999)),
  dayOfWeek: calendarField('day of the week (0-6, 0 = Sunday, or a name such as mon)', (v) => dayOfWeek(v) !== undefined),
  comment: z.string().optional(),
});

/** True when the zone is an IANA time zone this Node knows (the server uses the same database). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const timezoneSchema = z.string().refine(isTimeZone, { error: (iss) => `unknown time zone ${JSON.stringify(iss.input)}: use an IANA name such as Europe/Berlin or UTC` });

const CRON_FIELDS = /^(@(yearly|annually|monthly|weekly|daily|hourly)|@every\s+\S+|(\S+\s+){4,6}\S+)$/;
const cronLine = z.string().trim().regex(CRON_FIELDS, { error: (iss) => `"${String(iss.input)}" is not a cron expression: write five fields such as "0 2 * * *" (02:00 every day), or @daily` });

/**
 * `schedule:` — when the file runs on its own. At least one of `cron`, `calendar`, `every`.
 * Defaults are safe: overlap `skip` (a run still going means the next is skipped), a catch-up
 * window of 10 m (a server down all night does not fire the night's runs at once), and
 * `pauseOnFailure` (a run that fails pauses the schedule until a person looks).
 */
export const scheduleSchema = z
  .strictObject({
    cron: z.union([cronLine, boundedList(cronLine, 'cron expressions', { min: 1, minError: 'give at least one cron expression' })]).optional(),
    calendar: boundedList(calendarSchema, 'calendar entries', { min: 1, minError: 'give at least one calendar entry' }).optional(),
    /** A fixed interval ("6h"; "3s" in tests). */
    every: durationText.optional(),
    timezone: timezoneSchema.optional(),
    /** Each run starts up to this much later, at random, so that schedules do not all fire at once. */
    jitter: durationText.optional(),
    catchupWindow: durationText.optional(),
    /** What to do when a run is due while the previous one still runs. */
    overlap: z.enum(['skip', 'buffer-one', 'allow-all']).optional(),
    pauseOnFailure: z.boolean().optional(),
    /** Created paused (or paused by the next sync). */
    paused: z.boolean().optional(),
    /** Why this schedule exists, shown in `gameday schedule list` and the Web UI. */
    note: z.string().optional(),
  })
  .superRefine((s, ctx) => {
    if (s.cron === undefined && s.calendar === undefined && s.every === undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'a schedule needs at least one of cron, calendar or every' });
    }
    if (s.every !== undefined && DURATION.test(s.every) && ms(s.every as ms.StringValue) < 1000) {
      ctx.addIssue({ code: 'custom', path: ['every'], message: `every ${s.every} is less than a second` });
    }
    if (s.every !== undefined && DURATION.test(s.every) && ms(s.every as ms.StringValue) > EVERY_MAX_MS) ctx.addIssue({ code: 'custom', path: ['every'], message: 'every must be at most 366d' });
    if (s.jitter !== undefined && DURATION.test(s.jitter) && ms(s.jitter as ms.StringValue) > JITTER_MAX_MS) ctx.addIssue({ code: 'custom', path: ['jitter'], message: 'jitter must be at most 24h' });
    if (s.catchupWindow !== undefined && DURATION.test(s.catchupWindow)) {
      const w = ms(s.catchupWindow as ms.StringValue);
      if (w < CATCHUP_MIN_MS || w > CATCHUP_MAX_MS) ctx.addIssue({ code: 'custom', path: ['catchupWindow'], message: `catchupWindow ${s.catchupWindow} is out of bounds: between 10s and 24h` });
    }
    const crons = s.cron === undefined ? [] : Array.isArray(s.cron) ? s.cron : [s.cron];
    crons.forEach((c, i) => {
      if (/^(CRON_)?TZ=/.test(c)) ctx.addIssue({ code: 'custom', path: Array.isArray(s.cron) ? ['cron', i] : ['cron'], message: 'give the time zone in timezone, not in the cron expression' });
    });
  });

export type ScheduleBlock = z.infer<typeof scheduleSchema>;
export type CalendarEntry = z.infer<typeof calendarSchema>;
