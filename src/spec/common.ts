import { z } from 'zod';

/** The building blocks every part of an experiment file shares. */

export const DURATION = /^\d+(\.\d+)?(ms|s|m|h)$/;

/** A duration written as a number and a unit: "500ms", "30s", "1.5m", "1h". */
export const durationSchema = z
  .string({ error: 'expected a duration such as "30s", "500ms" or "5m"' })
  .regex(DURATION, { error: (iss) => `"${String(iss.input)}" is not a duration: write a number and a unit (ms, s, m, h), e.g. "30s"` });

export const name = z.string().min(1, { error: 'must not be empty' });

/** A regular expression in JavaScript syntax; an invalid one is reported with the engine's reason. */
export const regexSchema = name.superRefine((p, ctx) => {
  try {
    new RegExp(p);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}` });
  }
});

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds in a duration that matches DURATION ("1.5m" → 90000). */
export function durationToMs(d: string): number {
  const [, value, unit] = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(d)!;
  return Number(value) * UNIT_MS[unit];
}
