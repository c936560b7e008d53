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

const REFERENCE = /\$\{env:[A-Z_][A-Z0-9_]*\}/g;

/**
 * A string of some format (a URL, a connection string) that may hold secret references
 * (`${env:NAME}`, src/secrets.ts). A value that is one whole reference is taken as written: the
 * worker checks its value when it uses it. References inside a value are checked with a stand-in
 * ("0" fits a password, a user, a host, a port and a path alike), so the rest of it still is.
 */
export function referable(format: z.ZodType<string>) {
  return z.string().superRefine((s, ctx) => {
    if (/^\$\{env:[A-Z_][A-Z0-9_]*\}$/.test(s)) return;
    const standIn = s.replace(REFERENCE, '0');
    // A malformed reference is reported as such by the loader (malformedReferences), not as a bad URL.
    if (standIn.includes('${env:')) return;
    const checked = format.safeParse(standIn);
    if (!checked.success) for (const issue of checked.error.issues) ctx.addIssue({ code: 'custom', message: issue.message });
  });
}
