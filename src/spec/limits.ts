import { z } from 'zod';
import { DURATION, durationSchema, durationToMs } from './common';

/**
 * The bounds every experiment, scenario and freeze-window file is held to, in one place (README:
 * "Bounds"). They protect the Temporal server and the worker: a run is terminated at 51,200
 * history events or 50 MB of history, a payload over 2 MB is refused, and a timer of 10^11 hours
 * or a probe every 0 ms is never what anyone meant.
 */

const S = 1000;
const M = 60 * S;
const H = 60 * M;

export const LIMITS = {
  /** A file is read whole and sent as one workflow input: far below Temporal's 2 MB payload limit. */
  fileBytes: 1024 * 1024,
  /** Any single string (a body, a query, a hypothesis). */
  stringChars: 64 * 1024,
  /** Nesting of objects and lists; the deepest real experiment (a scenario with inline specs) is 10. */
  depth: 32,
  /** Any list or object in a file, before the schema looks at it: a flood of problems is one line. */
  anyListItems: 1000,
  /** The lists of the schema: checks, faults, guardrails, targets, stages, cron lines, windows. */
  listItems: 100,
  /** YAML aliases expanded (the yaml library's guard against "billion laughs"). */
  yamlAliases: 100,
  /** One fault; and all the faults of an experiment added up. */
  faultMs: 24 * H,
} as const;

/** A duration in the largest unit that writes it whole: 86400000 → "24h", 10 → "10ms". */
export function formatMs(ms: number): string {
  for (const [unit, size] of [['h', H], ['m', M], ['s', S]] as const) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** The bounds of one duration field, inclusive; `why` ends the message. */
export interface DurationBounds {
  min?: number;
  max: number;
}

/**
 * A duration field with bounds: "`what` must be at most 24h" / "at least 10ms". The bound is a
 * refinement of durationSchema, so the JSON Schema keeps the plain duration pattern.
 */
export function boundedDuration(what: string, { min = 0, max }: DurationBounds) {
  return durationSchema.superRefine((d, ctx) => {
    if (!DURATION.test(d)) return;
    const ms = durationToMs(d);
    if (ms > max) ctx.addIssue({ code: 'custom', message: `${what} must be at most ${formatMs(max)}` });
    else if (ms < min) ctx.addIssue({ code: 'custom', message: `${what} must be at least ${formatMs(min)}` });
  });
}

/** Milliseconds of a duration that may be absent or malformed (the schema reports those itself). */
export function msOr(d: string | undefined, fallback: number): number {
  return d !== undefined && DURATION.test(d) ? durationToMs(d) : fallback;
}

/** The fields' bounds, named once for the schemas and the README's table. */
export const faultDuration = boundedDuration('duration', { min: 100, max: LIMITS.faultMs });
/** Probes more often than this measure the probe, not the system. */
const MIN_INTERVAL_MS = 10;
export const probeInterval = boundedDuration('interval', { min: MIN_INTERVAL_MS, max: H });
/** Verifying longer than this is waiting, not recovering. */
const RECOVERY_MAX_MS = H;
export const recoveryWithin = boundedDuration('within', { max: RECOVERY_MAX_MS });
export const recoveryInterval = boundedDuration('interval', { min: MIN_INTERVAL_MS, max: 10 * M });
export const recoveryAfter = boundedDuration('after', { max: RECOVERY_MAX_MS });
export const lockWait = boundedDuration('waitAtMost', { max: LIMITS.faultMs });
export const probeTimeout = boundedDuration('timeout', { min: 10, max: M });
export const latencyWindow = boundedDuration('window', { min: 10, max: M });
/** Docker's grace before SIGKILL: the inject activity waits for it. */
export const stopTimeout = boundedDuration('timeout', { max: 5 * M });
/** Toxiproxy and HTTP-dependency delays: longer than the fault would outlive it. */
export const faultDelay = (what: string) => boundedDuration(what, { max: 10 * M });
export const toxicTimeout = boundedDuration('timeout', { max: H });
export const stageDelay = boundedDuration('delay', { max: LIMITS.faultMs });

/** A whole number between `min` and `max`, saying so in the message. */
export function boundedInt(what: string, min: number, max: number, why = '') {
  return z
    .int({ error: `${what} must be a whole number` })
    .min(min, { error: `${what} must be at least ${min}` })
    .max(max, { error: `${what} must be at most ${max}${why}` });
}

/** A list of at most LIMITS.listItems `noun`s; `min` entries at least, with its own message. */
export function boundedList<T extends z.ZodType>(item: T, noun: string, opts: { min?: number; minError?: string; typeError?: string } = {}) {
  const list = z.array(item, opts.typeError ? { error: opts.typeError } : undefined).max(LIMITS.listItems, { error: (iss) => `at most ${LIMITS.listItems} ${noun}, not ${(iss.input as unknown[]).length}` });
  return opts.min !== undefined ? list.min(opts.min, { error: opts.minError }) : list;
}

/** A map of at most LIMITS.listItems entries. */
export function boundedRecord<V extends z.ZodType>(value: V, noun: string, key: z.ZodType<string> = z.string()) {
  return z.record(key, value).superRefine((r, ctx) => {
    const n = Object.keys(r).length;
    if (n > LIMITS.listItems) ctx.addIssue({ code: 'custom', message: `at most ${LIMITS.listItems} ${noun}, not ${n}` });
  });
}

/** The defaults of the optional timing fields (the loader's plan fills them in). */
export const DEFAULTS = { observeInterval: '1s', guardrailInterval: '1s', recoveryWithin: '30s', recoveryInterval: '1s', lockWait: '10m' } as const;

/** The timing fields of an experiment that decide how long it runs and how many rounds it probes. */
interface Timing {
  method: { duration: string }[];
  observe?: { interval?: string; probes?: unknown[] };
  guardrails?: { interval?: string }[];
  recovery?: { within: string; interval?: string };
}

/**
 * The experiment as a whole: its faults add up to at most LIMITS.faultMs. How often it samples is
 * bounded per interval only: samples never travel through the workflow's history (they stream to
 * the results store from inside long activities), so a day sampled every 10 ms is as short a
 * history as a minute.
 */
export function checkRunLength(e: Timing, ctx: z.RefinementCtx): void {
  const faultsMs = e.method.reduce((sum, step) => sum + msOr(step.duration, 0), 0);
  // A field out of its own bounds has its own problem already: one line, not two.
  if (e.method.some((step) => msOr(step.duration, 0) > LIMITS.faultMs)) return;
  if (faultsMs > LIMITS.faultMs) {
    ctx.addIssue({ code: 'custom', path: ['method'], message: `the faults add up to ${formatMs(faultsMs)}; an experiment's faults last at most ${formatMs(LIMITS.faultMs)} in all` });
    return;
  }
}

/** The longest command (as a string) and the most words of one given as a list. */
export const COMMAND_LIMITS = { chars: 4096, words: 64 } as const;

const commandMessage = 'expected a command: a string run with sh -c, or a list of words run as they are, such as ["rm", "-f", "/tmp/marker"]';

/**
 * A command: a string, run with `sh -c`, or a list of words run as they are (no shell). Commands
 * come from files in the catalog only, unless the worker allows inline ones (src/commands/policy.ts).
 */
export const commandSchema = z.union(
  [
    z.string().trim().min(1, { error: 'the command is empty' }).max(COMMAND_LIMITS.chars, { error: `a command is at most ${COMMAND_LIMITS.chars} characters` }),
    z
      .array(z.string({ error: 'each word of a command is a string' }).min(1, { error: 'a word of a command is empty' }), { error: commandMessage })
      .min(1, { error: 'the command is empty' })
      .max(COMMAND_LIMITS.words, { error: `a command is at most ${COMMAND_LIMITS.words} words` }),
  ],
  { error: (iss) => (iss.input === undefined ? 'required' : commandMessage) },
);

/** How long a command may run before it is killed. */
export const commandTimeout = boundedDuration('timeout', { min: 10, max: 5 * M });
