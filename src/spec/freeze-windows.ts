import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { FailureType, GamedayError, formatProblem } from '../errors';
import { boundedList } from './limits';
import { parseDocument, problemsFromZod } from './loader';
import { dayOfWeek, isTimeZone } from './schedule';

/**
 * Freeze windows: times during which no scheduled run injects anything (a release, the end of
 * the year, Friday evenings). Read from one file, by default experiments/freeze-windows.yaml:
 *
 *     timezone: Europe/Berlin            # the default for every window (UTC when absent)
 *     windows:
 *       - reason: year-end freeze
 *         from: 2026-12-20                 # a date (the whole day) or a local time 2026-12-20T18:00
 *         to: 2027-01-04                   # inclusive; a time with Z or an offset is an instant
 *       - reason: no chaos before the weekend
 *         days: [fri, sat]
 *         from: "16:00"                    # optional: the whole day when absent
 *         to: "23:59"                      # inclusive to the minute; before `from` spans midnight
 */

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;

const zone = z.string().refine(isTimeZone, { error: (iss) => `unknown time zone ${JSON.stringify(iss.input)}: use an IANA name such as Europe/Berlin or UTC` });

const windowSchema = z
  .strictObject({
    reason: z.string({ error: 'a freeze window states its reason' }).trim().min(1, { error: 'a freeze window states its reason' }),
    days: z.array(z.string().refine((d) => dayOfWeek(d) !== undefined, { error: (iss) => `${JSON.stringify(iss.input)} is not a day of the week: write mon, tue … sun` })).min(1, { error: 'give at least one day' }).optional(),
    from: z.string({ error: 'expected a date (2026-12-20), a time (2026-12-20T18:00) or, with days, a clock time ("16:00")' }).optional(),
    to: z.string({ error: 'expected a date (2026-12-20), a time (2026-12-20T18:00) or, with days, a clock time ("23:59")' }).optional(),
    timezone: zone.optional(),
  })
  .superRefine((w, ctx) => {
    if (w.days) {
      for (const key of ['from', 'to'] as const) {
        if (w[key] !== undefined && !CLOCK.test(w[key])) ctx.addIssue({ code: 'custom', path: [key], message: `"${w[key]}" is not a clock time: with days, write "16:00"` });
      }
      return;
    }
    for (const key of ['from', 'to'] as const) {
      const v = w[key];
      if (v === undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'required: a dated window has from and to (or give days for a weekly one)' });
      else if (!DATE.test(v) && !LOCAL_TIME.test(v) && !INSTANT.test(v)) ctx.addIssue({ code: 'custom', path: [key], message: `"${v}" is not a date or time: write 2026-12-20 or 2026-12-20T18:00` });
    }
  });

export const freezeFileSchema = z.strictObject({
  timezone: zone.optional(),
  windows: boundedList(windowSchema, 'windows', { typeError: 'expected a list of windows' }),
});

export type FreezeFile = z.infer<typeof freezeFileSchema>;
export type FreezeWindow = z.infer<typeof windowSchema>;

/** The window a time falls in, in words, or undefined when it falls in none. */
export interface ActiveFreeze {
  reason: string;
  /** The window in words: "2026-12-20 – 2027-01-04 (Europe/Berlin)" or "fri, sat 16:00–23:59 (UTC)". */
  window: string;
}

/**
 * Reads and validates the freeze-window file. A missing file means no windows, unless
 * `required` (the file was named explicitly): then it is an error, so that a misspelt path never
 * silently lets chaos run.
 * @throws GamedayError InvalidFreezeWindows naming the file, the field and the problem.
 */
export async function loadFreezeWindows(file: string, required = false): Promise<FreezeFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !required) return { windows: [] };
    throw new GamedayError(FailureType.InvalidFreezeWindows, `${file}: cannot read the freeze-window file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseDocument(text, file) ?? { windows: [] };
  } catch (e) {
    throw new GamedayError(FailureType.InvalidFreezeWindows, (e as Error).message);
  }
  const parsed = freezeFileSchema.safeParse(doc);
  if (!parsed.success) throw new GamedayError(FailureType.InvalidFreezeWindows, problemsFromZod(file, parsed.error).map(formatProblem).join('\n'));
  return parsed.data;
}

/** The wall clock in a zone: "2026-12-20T18:05:09", and the day of the week (0 = Sunday). */
function wallClock(at: Date, timeZone: string): { local: string; day: number } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', weekday: 'short' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return { local: `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`, day: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts.weekday) };
}

function inDated(w: FreezeWindow, at: Date, tz: string): boolean {
  const { local } = wallClock(at, tz);
  const bound = (v: string, end: boolean): string => (DATE.test(v) ? `${v}T${end ? '23:59:59' : '00:00:00'}` : v.length === 16 ? `${v}:${end ? '59' : '00'}` : v);
  const after = INSTANT.test(w.from!) ? at.getTime() >= Date.parse(w.from!) : local >= bound(w.from!, false);
  const before = INSTANT.test(w.to!) ? at.getTime() <= Date.parse(w.to!) : local <= bound(w.to!, true);
  return after && before;
}

function inWeekly(w: FreezeWindow, at: Date, tz: string): boolean {
  const { local, day } = wallClock(at, tz);
  const hhmm = local.slice(11, 16);
  const days = w.days!.map((d) => ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'].indexOf(dayOfWeek(d)!));
  const from = w.from ?? '00:00';
  const to = w.to ?? '24:00';
  if (from <= to) return days.includes(day) && hhmm >= from && hhmm <= to;
  // Spans midnight: the evening of a listed day, or the early morning after it.
  return (days.includes(day) && hhmm >= from) || (days.includes((day + 6) % 7) && hhmm <= to);
}

/** The first window that `at` falls in, or undefined. Pure: the time is passed in. */
export function activeFreeze(file: FreezeFile, at: Date): ActiveFreeze | undefined {
  for (const w of file.windows) {
    const tz = w.timezone ?? file.timezone ?? 'UTC';
    const inside = w.days ? inWeekly(w, at, tz) : inDated(w, at, tz);
    if (!inside) continue;
    const span = w.days ? `${w.days.join(', ')} ${w.from ?? '00:00'}–${w.to ?? '24:00'}` : `${w.from} – ${w.to}`;
    return { reason: w.reason, window: `${span} (${tz})` };
  }
  return undefined;
}
