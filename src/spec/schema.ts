import { z } from 'zod';
import { name } from './common';
import { LIMITS, boundedInt, boundedList, boundedRecord, checkRunLength, faultDuration, lockWait, probeInterval, recoveryAfter, recoveryInterval, recoveryWithin } from './limits';
import { faultSchema, targetKindOf } from './fault-schema';
import { COMMON_FIELDS, PROBE_FIELDS, probeSchema } from './probe-schema';
import { notifySchema } from '../notify/rules';
import { scheduleSchema } from './schedule';
import { type dockerTargetSchema, targetSchema } from './target-schema';

/**
 * The experiment file, as zod schemas: the file itself, its checks and tolerances here; its
 * targets, probes and faults in files of their own, re-exported. Unknown keys are rejected
 * everywhere (`strictObject`), so a misspelt field is an error, not a silently ignored setting.
 */

export * from './common';
export * from './fault-schema';
export * from './probe-schema';
export * from './target-schema';

// ---------------------------------------------------------------- tolerances

const scalar = z.union([z.number(), z.string(), z.boolean()]);

/** What a measured value must be: any combination of these, all of which must hold. */
export const toleranceSchema = z
  .strictObject({
    equals: scalar.optional(),
    atMost: z.number().optional(),
    atLeast: z.number().optional(),
    between: z.tuple([z.number(), z.number()]).optional(),
    regex: z.string().optional(),
  })
  .superRefine((t, ctx) => {
    if (Object.keys(t).length === 0) ctx.addIssue({ code: 'custom', message: 'give at least one of equals, atMost, atLeast, between, regex', path: [] });
    if (t.between && t.between[0] > t.between[1]) ctx.addIssue({ code: 'custom', message: `between: ${t.between[0]} is greater than ${t.between[1]}`, path: ['between'] });
    if (t.atLeast !== undefined && t.atMost !== undefined && t.atLeast > t.atMost) ctx.addIssue({ code: 'custom', message: `atLeast ${t.atLeast} is greater than atMost ${t.atMost}`, path: [] });
    if (t.regex !== undefined) {
      try {
        new RegExp(t.regex);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`, path: ['regex'] });
      }
    }
  });

// ---------------------------------------------------------------- checks

const expectSchema = boundedRecord(toleranceSchema, 'expectations');

function checkExpectFields(check: { probe: z.infer<typeof probeSchema>; expect?: Record<string, unknown> }, ctx: z.RefinementCtx, key = 'expect'): void {
  const allowed = [...PROBE_FIELDS[check.probe.kind], ...COMMON_FIELDS];
  for (const field of Object.keys(check.expect ?? {})) {
    if (!allowed.includes(field)) {
      ctx.addIssue({ code: 'custom', path: [key, field], message: `${/^[aeiou]|^http/.test(check.probe.kind) ? 'an' : 'a'} ${check.probe.kind} probe does not measure '${field}' (it measures: ${allowed.join(', ')})` });
    }
  }
}

/** A steady-state check: a probe and what its measurement must be when the system is healthy. */
export const steadyStateCheckSchema = z
  .strictObject({
    name,
    probe: probeSchema,
    expect: expectSchema.refine((e) => Object.keys(e).length > 0, { error: 'a steady-state check needs at least one expectation' }),
  })
  .superRefine(checkExpectFields);

/** A probe sampled throughout the fault; with `expect`, an expectation of the hypothesis. */
export const observeCheckSchema = z
  .strictObject({
    name,
    probe: probeSchema,
    expect: expectSchema.optional(),
    /** `all`: every sample must meet the expectation; `any`: at least one must. */
    samples: z.enum(['all', 'any']).optional(),
  })
  .superRefine(checkExpectFields);

export const methodStepSchema = z.strictObject({
  fault: faultSchema,
  /** How long the fault stays in place before it is reverted. */
  duration: faultDuration,
  /** The most containers (or processes) this fault may touch; more matches refuse the experiment. Default 10. */
  maxTargets: boundedInt('maxTargets', 1, LIMITS.listItems).optional(),
});

/** A stop condition: probed throughout the fault at its own interval; a breach aborts at once. */
export const guardrailSchema = z
  .strictObject({
    name,
    probe: probeSchema,
    /** Abort when any of these holds (e.g. `latencyMs: { atLeast: 5000 }`). */
    abortWhen: expectSchema.refine((e) => Object.keys(e).length > 0, { error: 'a guardrail needs at least one condition' }),
    interval: probeInterval.optional(),
  })
  .superRefine((g, ctx) => checkExpectFields({ probe: g.probe, expect: g.abortWhen }, ctx, 'abortWhen'));

// ---------------------------------------------------------------- experiment

const experimentId = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { error: 'expected lower-case letters, digits and dashes, e.g. chaos-001-nats-broker-pause' });

/** An experiment to run next: a sentence, or one with the id of the experiment that does it. */
export const nextExperimentSchema = z.union([name, z.strictObject({ description: name, experiment: experimentId.optional() })], {
  error: 'expected a sentence, or { description, experiment } with an experiment id',
});

export const experimentSchema = z
  .strictObject({
    id: experimentId,
    title: name,
    description: z.string().optional(),
    hypothesis: z.string({ error: 'an experiment states its hypothesis before it runs' }).trim().min(1, { error: 'an experiment states its hypothesis before it runs' }),
    blastRadius: z.string().optional(),
    /**
     * The target system the experiment tests, for its resilience score (`gameday history`);
     * default: derived from the targets (src/spec/system.ts).
     */
    system: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: 'expected a name of letters, digits, dots, dashes and underscores, e.g. demo-target' }).optional(),
    remediation: z.string().optional(),
    /** What the team learned from earlier runs, for the report (the method's last section). */
    lessonsLearned: boundedList(name, 'lessons').optional(),
    /** What to try next: a sentence, or `{ description, experiment }` naming an experiment id. */
    nextExperiments: boundedList(nextExperimentSchema, 'next experiments').optional(),
    targets: boundedRecord(targetSchema, 'targets', z.string().regex(/^[A-Za-z0-9_-]+$/)),
    steadyState: boundedList(steadyStateCheckSchema, 'checks', { min: 1, minError: 'define the steady state with at least one check' }),
    method: boundedList(methodStepSchema, 'faults', { min: 1, minError: 'the method needs at least one fault' }),
    observe: z
      .strictObject({
        interval: probeInterval.optional(),
        probes: boundedList(observeCheckSchema, 'probes').optional(),
      })
      .optional(),
    recovery: z
      .strictObject({
        within: recoveryWithin,
        interval: recoveryInterval.optional(),
        /** Wait this long after rollback before the first verification (e.g. a redelivery delay). */
        after: recoveryAfter.optional(),
      })
      .optional(),
    guardrails: boundedList(guardrailSchema, 'guardrails').optional(),
    /**
     * Two experiments never inject into the same container at once. When another holds one of
     * our targets: `refuse` (default) ends this one with verdict not-run; `wait` waits for it,
     * at most `waitAtMost` (default 10m).
     */
    lock: z.strictObject({ whenBusy: z.enum(['refuse', 'wait']), waitAtMost: lockWait.optional() }).optional(),
    /** When `gameday schedule sync` makes a Temporal Schedule run it (see src/spec/schedule.ts). */
    schedule: scheduleSchema.optional(),
    /** Webhooks told of this experiment's verdicts and failing rollbacks (see src/notify/rules.ts). */
    notify: boundedList(notifySchema, 'webhooks').optional(),
  })
  .superRefine((e, ctx) => {
    checkRunLength(e, ctx);
    const names = Object.keys(e.targets);
    e.method.forEach((step, i) => {
      const t = e.targets[step.fault.target] as TargetSpec | undefined;
      if (step.fault.target !== '' && !t) {
        ctx.addIssue({
          code: 'custom',
          path: ['method', i, 'fault', 'target'],
          message: `no target named '${step.fault.target}' (targets: ${names.join(', ') || 'none'})`,
        });
      } else if (t && t.kind !== targetKindOf(step.fault.kind)) {
        ctx.addIssue({
          code: 'custom',
          path: ['method', i, 'fault', 'target'],
          message: `a ${step.fault.kind} fault needs a ${targetKindOf(step.fault.kind)} target; '${step.fault.target}' is a ${t.kind} target`,
        });
      }
    });
  });

export type Experiment = z.infer<typeof experimentSchema>;
export type NextExperiment = z.infer<typeof nextExperimentSchema>;
export type TargetSpec = z.infer<typeof targetSchema>;
export type DockerTargetSpec = z.infer<typeof dockerTargetSchema>;
export type ProbeSpec = z.infer<typeof probeSchema>;
export type Tolerance = z.infer<typeof toleranceSchema>;
export type FaultSpec = z.infer<typeof faultSchema>;
export type SteadyStateCheck = z.infer<typeof steadyStateCheckSchema>;
export type ObserveCheck = z.infer<typeof observeCheckSchema>;
export type Guardrail = z.infer<typeof guardrailSchema>;
