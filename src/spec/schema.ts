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

/** A regular expression in JavaScript syntax; an invalid one is reported with the engine's reason. */
const regexSchema = name.superRefine((p, ctx) => {
  try {
    new RegExp(p);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}` });
  }
});

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds in a duration that matches DURATION ("1.5m" → 90000). */
function durationToMs(d: string): number {
  const [, value, unit] = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(d)!;
  return Number(value) * UNIT_MS[unit];
}

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

const loopbackNote = 'Targets on 127.0.0.1 or localhost are allowed; any other address must be in GAMEDAY_ALLOWED_TARGETS on the worker.';

/** A PostgreSQL server, for database faults (terminate backends, exhaust connections, lock a table). */
export const postgresTargetSchema = z
  .strictObject({
    kind: z.literal('postgres'),
    connectionString: z.string().regex(/^postgres(ql)?:\/\//, { error: 'expected a connection string such as postgres://postgres@127.0.0.1:5432/app' }),
  })
  .describe(loopbackNote);

/** A proxy of a Toxiproxy server, for network faults on the TCP dependency it fronts. */
export const toxiproxyTargetSchema = z
  .strictObject({
    kind: z.literal('toxiproxy'),
    /** Toxiproxy's HTTP API. */
    api: z.url({ protocol: /^https?$/, error: 'expected the Toxiproxy API URL such as http://127.0.0.1:8474' }),
    proxy: name,
  })
  .describe(loopbackNote);

/** Processes on the worker's host whose command line matches `pattern` (a regular expression, like `pgrep -f`). */
export const processTargetSchema = z
  .strictObject({
    kind: z.literal('process'),
    pattern: name.refine(
      (p) => {
        try {
          new RegExp(p);
          return true;
        } catch {
          return false;
        }
      },
      { error: 'not a valid regular expression' },
    ),
  })
  .describe('A process opts in with GAMEDAY_ENABLED=true in its environment, or by its pattern being in GAMEDAY_ALLOWED_TARGETS.');

/**
 * An HTTP dependency that takes faults through Gameday's fault endpoint: PUT <url>/fault
 * with { status?, delayMs?, percent?, tag } sets one, DELETE clears it (see the demo system's
 * scoring service, and README: the HTTP fault endpoint).
 */
export const httpTargetSchema = z
  .strictObject({
    kind: z.literal('http'),
    url: z.url({ protocol: /^https?$/, error: 'expected the dependency\'s base URL such as http://127.0.0.1:18082' }),
    /** The dependency's name in reports, e.g. `scoring` (default: the URL's host). */
    name: name.optional(),
    /** Where the fault endpoint is under `url` (default /fault). */
    faultPath: z.string().regex(/^\//, { error: 'expected a path starting with /' }).optional(),
  })
  .describe(loopbackNote);

export const targetSchema = z.discriminatedUnion('kind', [dockerTargetSchema, postgresTargetSchema, toxiproxyTargetSchema, processTargetSchema, httpTargetSchema]);

/** What a target resolves to; the first word of every fault kind names the target kind it needs. */
export type TargetKind = z.infer<typeof targetSchema>['kind'];
export const TARGET_KINDS: readonly TargetKind[] = ['docker', 'postgres', 'toxiproxy', 'process', 'http'];

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

/** A container's state as `docker inspect` reports it: running, paused, health, restarts, exit. */
export const dockerContainerProbeSchema = z.strictObject({
  kind: z.literal('docker-container'),
  /** A container name or id; read only, so no opt-in is needed. */
  container: name,
  ...probeTimeout,
});

/** Where a docker-logs probe starts counting. */
const sinceMessage = (input: unknown): string =>
  `${JSON.stringify(input)} is not a start for the count: write 'fault' (default: since the first fault was injected), 'baseline' (since the experiment began) or a duration such as "30s" (the last 30 s)`;
export const logsSinceSchema = z
  .string({ error: (iss) => sinceMessage(iss.input) })
  .regex(/^(fault|baseline|\d+(\.\d+)?(ms|s|m|h))$/, { error: (iss) => sinceMessage(iss.input) });

/** Lines of a container's log (stdout and stderr) matching `pattern`, counted over a window. */
export const dockerLogsProbeSchema = z.strictObject({
  kind: z.literal('docker-logs'),
  container: name,
  /** A regular expression, tested against each line without its timestamp. */
  pattern: regexSchema,
  since: logsSinceSchema.optional(),
  ...probeTimeout,
});

/** The most requests one http-latency sample sends, and the longest window it spreads them over. */
export const HTTP_LATENCY_MAX_REQUESTS = 200;
export const HTTP_LATENCY_MAX_WINDOW_MS = 60_000;

/** `requests` requests spread evenly over `window`; latency percentiles and errors of the lot. */
export const httpLatencyProbeSchema = z
  .strictObject({
    kind: z.literal('http-latency'),
    url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as http://127.0.0.1:8080/health' }),
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'DELETE']).optional(),
    /** How many requests (default 10, at most 200). */
    requests: z
      .int({ error: 'requests must be a whole number' })
      .min(1, { error: 'requests must be at least 1' })
      .max(HTTP_LATENCY_MAX_REQUESTS, { error: `requests must be at most ${HTTP_LATENCY_MAX_REQUESTS}: one sample stays small` })
      .optional(),
    /** The time the requests are spread over (default 1s, at most 1m); each request's own limit is `timeout`. */
    window: durationSchema.optional(),
    ...probeTimeout,
  })
  .superRefine((p, ctx) => {
    if (p.window !== undefined && DURATION.test(p.window) && durationToMs(p.window) > HTTP_LATENCY_MAX_WINDOW_MS) {
      ctx.addIssue({ code: 'custom', path: ['window'], message: `window ${p.window} is longer than 1m: a sample must end well within its activity's timeout` });
    }
  });

export const probeSchema = z.discriminatedUnion('kind', [
  httpProbeSchema,
  natsStreamProbeSchema,
  natsConsumerProbeSchema,
  natsPublishProbeSchema,
  postgresProbeSchema,
  dockerContainerProbeSchema,
  dockerLogsProbeSchema,
  httpLatencyProbeSchema,
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
  'docker-container': ['running', 'paused', 'status', 'health', 'restartCount', 'exitCode', 'oomKilled'],
  'docker-logs': ['matches', 'lines', 'lastMatch', 'countedSince'],
  'http-latency': ['p50Ms', 'p95Ms', 'p99Ms', 'maxMs', 'ok', 'errors', 'errorRate'],
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

const percent = z.number().gt(0, { error: 'must be more than 0' }).max(100, { error: 'must be at most 100' });
const signal = z.string().regex(/^(SIG)?[A-Z0-9]+$/, { error: 'expected a signal name such as SIGKILL or SIGTERM' });
const direction = z.enum(['downstream', 'upstream']);

/**
 * The fault kinds. The word before the first dash is the target kind the fault needs
 * (docker-…, postgres-…, toxiproxy-…, process-…, http-…); every fault has an idempotent revert.
 */
export const faultSchema = z.discriminatedUnion('kind', [
  // docker: a container's life
  z.strictObject({ kind: z.literal('docker-pause'), target }),
  z.strictObject({ kind: z.literal('docker-stop'), target, timeout: durationSchema.optional() }),
  z.strictObject({ kind: z.literal('docker-kill'), target, signal: signal.optional() }),
  z.strictObject({ kind: z.literal('docker-restart'), target, timeout: durationSchema.optional() }),
  // docker: a container's network
  /** Disconnects the container from a Docker network (a partition); revert connects it again. */
  z.strictObject({ kind: z.literal('docker-disconnect'), target, network: name }),
  /** Drops a share of packets with iptables in the container's network namespace. */
  z.strictObject({
    kind: z.literal('docker-packet-loss'),
    target,
    percent,
    /** Only packets to or from this TCP port (default: all). */
    port: z.int().min(1).max(65535).optional(),
  }),
  // docker: a container's resources
  z.strictObject({ kind: z.literal('docker-cpu-stress'), target, workers: z.int().min(1).max(64).optional() }),
  z.strictObject({ kind: z.literal('docker-memory-stress'), target, megabytes: z.int().min(1) }),
  // postgres
  /** pg_terminate_backend on the server's client backends (filtered by database, user, application_name). */
  z.strictObject({
    kind: z.literal('postgres-terminate-backends'),
    target,
    database: name.optional(),
    user: name.optional(),
    applicationName: name.optional(),
  }),
  /** Holds `connections` connections (default: every free slot) for the fault's duration. */
  z.strictObject({ kind: z.literal('postgres-exhaust-connections'), target, connections: z.int().min(1).optional() }),
  /** Holds a lock on a table for the fault's duration (default mode ACCESS EXCLUSIVE). */
  z.strictObject({
    kind: z.literal('postgres-lock-table'),
    target,
    table: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/, { error: 'expected a table name such as messages or public.messages' }),
    mode: z.enum(['ACCESS EXCLUSIVE', 'EXCLUSIVE', 'SHARE ROW EXCLUSIVE', 'SHARE', 'ROW EXCLUSIVE']).optional(),
  }),
  // toxiproxy: a TCP dependency
  z.strictObject({ kind: z.literal('toxiproxy-latency'), target, latency: durationSchema, jitter: durationSchema.optional(), direction: direction.optional(), percent: percent.optional() }),
  /** Data stops flowing; the connection is closed after `timeout` (or held open when 0). */
  z.strictObject({ kind: z.literal('toxiproxy-timeout'), target, timeout: durationSchema, direction: direction.optional(), percent: percent.optional() }),
  /** Connections are reset (TCP RST) after `timeout` (default at once). */
  z.strictObject({ kind: z.literal('toxiproxy-reset'), target, timeout: durationSchema.optional(), direction: direction.optional(), percent: percent.optional() }),
  z.strictObject({ kind: z.literal('toxiproxy-bandwidth'), target, kbPerSecond: z.int().min(1), direction: direction.optional(), percent: percent.optional() }),
  // process: on the worker's host
  /** SIGSTOP; revert SIGCONT. */
  z.strictObject({ kind: z.literal('process-pause'), target }),
  /** A signal (default SIGKILL); revert runs `restart` (a shell command) when no matching process runs. */
  z.strictObject({ kind: z.literal('process-kill'), target, signal: signal.optional(), restart: name.optional() }),
  // http: a dependency speaking Gameday's fault endpoint
  z.strictObject({ kind: z.literal('http-error'), target, status: z.int().min(400).max(599), percent: percent.optional() }),
  z.strictObject({ kind: z.literal('http-delay'), target, delay: durationSchema, percent: percent.optional() }),
]);

/** The target kind a fault needs: the word before its first dash. */
export function targetKindOf(faultKind: FaultSpec['kind']): TargetKind {
  return faultKind.slice(0, faultKind.indexOf('-')) as TargetKind;
}

export const methodStepSchema = z.strictObject({
  fault: faultSchema,
  /** How long the fault stays in place before it is reverted. */
  duration: durationSchema,
  /** The most containers (or processes) this fault may touch; more matches refuse the experiment. Default 10. */
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
    recovery: z
      .strictObject({
        within: durationSchema,
        interval: durationSchema.optional(),
        /** Wait this long after rollback before the first verification (e.g. a redelivery delay). */
        after: durationSchema.optional(),
      })
      .optional(),
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
export type TargetSpec = z.infer<typeof targetSchema>;
export type DockerTargetSpec = z.infer<typeof dockerTargetSchema>;
export type ProbeSpec = z.infer<typeof probeSchema>;
export type Tolerance = z.infer<typeof toleranceSchema>;
export type FaultSpec = z.infer<typeof faultSchema>;
export type SteadyStateCheck = z.infer<typeof steadyStateCheckSchema>;
export type ObserveCheck = z.infer<typeof observeCheckSchema>;
export type Guardrail = z.infer<typeof guardrailSchema>;
