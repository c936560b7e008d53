import { z } from 'zod';
import { scheduleSchema } from './schedule';

/**
 * The experiment file, as zod schemas. Unknown keys are rejected everywhere (`strictObject`),
 * so a misspelt field is an error, not a silently ignored setting.
 */

const DURATION = /^\d+(\.\d+)?(ms|s|m|h)$/;

/** A duration written as a number and a unit: "500ms", "30s", "1.5m", "1h". */
export const durationSchema = z
  .string({ error: 'expected a duration such as "30s", "500ms" or "5m"' })
  .regex(DURATION, { error: (iss) => `"${String(iss.input)}" is not a duration: write a number and a unit (ms, s, m, h), e.g. "30s"` });

const name = z.string().min(1, { error: 'must not be empty' });

// ---------------------------------------------------------------- targets

export const dockerTargetSchema = z
  .strictObject({
    kind: z.literal('docker'),
    /** A container name or id. */
    container: name.optional(),
    /** A label selector: every running container carrying all these labels. */
    labels: z.record(z.string(), z.string()).optional(),
    /** Blast radius of a label selector: all matches (default), or a random `count` or `percent` of them. */
    pick: z
      .union(
        [
          z.strictObject({ count: z.int().min(1, { error: 'count must be at least 1' }) }),
          z.strictObject({ percent: z.number().gt(0, { error: 'percent must be more than 0' }).max(100, { error: 'percent must be at most 100' }) }),
        ],
        {
          error: 'expected { count: n } or { percent: p } (0 < p <= 100)',
        },
      )
      .optional(),
  })
  .superRefine((t, ctx) => {
    const given = Number(t.container !== undefined) + Number(t.labels !== undefined);
    if (given !== 1) ctx.addIssue({ code: 'custom', message: 'give exactly one of container or labels', path: [] });
    if (t.labels && Object.keys(t.labels).length === 0) ctx.addIssue({ code: 'custom', message: 'a label selector needs at least one label', path: ['labels'] });
    if (t.pick && t.labels === undefined) ctx.addIssue({ code: 'custom', message: 'pick applies to a label selector only', path: ['pick'] });
  });

export const targetSchema = dockerTargetSchema;

// ---------------------------------------------------------------- probes

const probeTimeout = { timeout: durationSchema.optional() };

export const httpProbeSchema = z.strictObject({
  kind: z.literal('http'),
  url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as http://127.0.0.1:8080/health' }),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'DELETE']).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.string().optional(),
  ...probeTimeout,
});

const natsUrl = z.string().regex(/^(nats|tls):\/\/.+/, { error: 'expected a NATS URL such as nats://127.0.0.1:4222' });

export const natsStreamProbeSchema = z.strictObject({
  kind: z.literal('nats-stream'),
  url: natsUrl,
  stream: name,
  ...probeTimeout,
});

export const natsConsumerProbeSchema = z.strictObject({
  kind: z.literal('nats-consumer'),
  url: natsUrl,
  stream: name,
  consumer: name,
  ...probeTimeout,
});

export const natsPublishProbeSchema = z.strictObject({
  kind: z.literal('nats-publish'),
  url: natsUrl,
  subject: name,
  payload: z.string().optional(),
  /** `shared` (default): one connection kept open across samples, as a real publisher does; `fresh`: a new one each time. */
  connection: z.enum(['shared', 'fresh']).optional(),
  ...probeTimeout,
});

export const postgresProbeSchema = z.strictObject({
  kind: z.literal('postgres'),
  connectionString: z.string().regex(/^postgres(ql)?:\/\//, { error: 'expected a connection string such as postgres://user@127.0.0.1:5432/db' }),
  query: name,
  ...probeTimeout,
});

export const probeSchema = z.discriminatedUnion('kind', [
  httpProbeSchema,
  natsStreamProbeSchema,
  natsConsumerProbeSchema,
  natsPublishProbeSchema,
  postgresProbeSchema,
]);

/**
 * The fields each probe kind measures; an expectation names one of them. Every probe also
 * measures `latencyMs` and `error` (empty when the probe succeeded).
 */
export const PROBE_FIELDS: Record<z.infer<typeof probeSchema>['kind'], readonly string[]> = {
  http: ['status', 'body'],
  'nats-stream': ['messages', 'bytes', 'consumers'],
  'nats-consumer': ['pending', 'ackPending', 'redelivered'],
  'nats-publish': ['seq', 'duplicate'],
  postgres: ['value'],
};
const COMMON_FIELDS = ['latencyMs', 'error'];

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

const expectSchema = z.record(z.string(), toleranceSchema);

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

// ---------------------------------------------------------------- faults

const target = name.describe('the name of an entry in targets');

export const faultSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('docker-pause'), target }),
  z.strictObject({ kind: z.literal('docker-stop'), target, timeout: durationSchema.optional() }),
  z.strictObject({
    kind: z.literal('docker-kill'),
    target,
    signal: z.string().regex(/^(SIG)?[A-Z0-9]+$/, { error: 'expected a signal name such as SIGKILL or SIGTERM' }).optional(),
  }),
  z.strictObject({ kind: z.literal('docker-restart'), target, timeout: durationSchema.optional() }),
]);

export const methodStepSchema = z.strictObject({
  fault: faultSchema,
  /** How long the fault stays in place before it is reverted. */
  duration: durationSchema,
  /** The most containers this fault may touch; more matches refuse the experiment. Default 10. */
  maxTargets: z.int().min(1).optional(),
});

/** A stop condition: probed throughout the fault at its own interval; a breach aborts at once. */
export const guardrailSchema = z
  .strictObject({
    name,
    probe: probeSchema,
    /** Abort when any of these holds (e.g. `latencyMs: { atLeast: 5000 }`). */
    abortWhen: expectSchema.refine((e) => Object.keys(e).length > 0, { error: 'a guardrail needs at least one condition' }),
    interval: durationSchema.optional(),
  })
  .superRefine((g, ctx) => checkExpectFields({ probe: g.probe, expect: g.abortWhen }, ctx, 'abortWhen'));

// ---------------------------------------------------------------- experiment

export const experimentSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { error: 'expected lower-case letters, digits and dashes, e.g. chaos-001-nats-broker-pause' }),
    title: name,
    description: z.string().optional(),
    hypothesis: z.string({ error: 'an experiment states its hypothesis before it runs' }).trim().min(1, { error: 'an experiment states its hypothesis before it runs' }),
    blastRadius: z.string().optional(),
    remediation: z.string().optional(),
    targets: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/), targetSchema),
    steadyState: z.array(steadyStateCheckSchema).min(1, { error: 'define the steady state with at least one check' }),
    method: z.array(methodStepSchema).min(1, { error: 'the method needs at least one fault' }),
    observe: z
      .strictObject({
        interval: durationSchema.optional(),
        probes: z.array(observeCheckSchema).optional(),
      })
      .optional(),
    recovery: z.strictObject({ within: durationSchema, interval: durationSchema.optional() }).optional(),
    guardrails: z.array(guardrailSchema).optional(),
    /**
     * Two experiments never inject into the same container at once. When another holds one of
     * our targets: `refuse` (default) ends this one with verdict not-run; `wait` waits for it,
     * at most `waitAtMost` (default 10m).
     */
    lock: z.strictObject({ whenBusy: z.enum(['refuse', 'wait']), waitAtMost: durationSchema.optional() }).optional(),
    /** When `gameday schedule sync` makes a Temporal Schedule run it (see src/spec/schedule.ts). */
    schedule: scheduleSchema.optional(),
  })
  .superRefine((e, ctx) => {
    const names = Object.keys(e.targets);
    e.method.forEach((step, i) => {
      if (step.fault.target !== '' && !names.includes(step.fault.target)) {
        ctx.addIssue({
          code: 'custom',
          path: ['method', i, 'fault', 'target'],
          message: `no target named '${step.fault.target}' (targets: ${names.join(', ') || 'none'})`,
        });
      }
    });
  });

export type Experiment = z.infer<typeof experimentSchema>;
export type TargetSpec = z.infer<typeof targetSchema>;
export type ProbeSpec = z.infer<typeof probeSchema>;
export type Tolerance = z.infer<typeof toleranceSchema>;
export type FaultSpec = z.infer<typeof faultSchema>;
export type SteadyStateCheck = z.infer<typeof steadyStateCheckSchema>;
export type ObserveCheck = z.infer<typeof observeCheckSchema>;
export type Guardrail = z.infer<typeof guardrailSchema>;
