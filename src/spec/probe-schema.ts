import { z } from 'zod';
import { name, referable, regexSchema } from './common';
import { LIMITS, boundedDuration, boundedRecord, commandSchema, latencyWindow, probeTimeout as timeout } from './limits';
import { hostField } from './target-schema';

/** The probes of an experiment file, and the fields each measures. */

/**
 * Every probe's own timeout, and the host it runs on: with `host: NAME` that host's agent takes
 * the probe (its Docker engine, its network), as it does the faults of a target with that host.
 */
const probeTimeout = { timeout: timeout.optional(), host: hostField };

export const httpProbeSchema = z.strictObject({
  kind: z.literal('http'),
  url: referable(z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as http://127.0.0.1:8080/health' })),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'DELETE']).optional(),
  headers: boundedRecord(z.string(), 'headers').optional(),
  body: z.string().optional(),
  ...probeTimeout,
});

const natsUrl = referable(z.string().regex(/^(nats|tls):\/\/.+/, { error: 'expected a NATS URL such as nats://127.0.0.1:4222' }));

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
  connectionString: referable(z.string().regex(/^postgres(ql)?:\/\//, { error: 'expected a connection string such as postgres://user@127.0.0.1:5432/db' })),
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
const sinceDuration = boundedDuration('since', { max: LIMITS.faultMs });
export const logsSinceSchema = z
  .string({ error: (iss) => sinceMessage(iss.input) })
  .regex(/^(fault|baseline|\d+(\.\d+)?(ms|s|m|h))$/, { error: (iss) => sinceMessage(iss.input) })
  .superRefine((s, ctx) => {
    if (s === 'fault' || s === 'baseline') return;
    const r = sinceDuration.safeParse(s);
    if (!r.success && r.error.issues[0].code === 'custom') ctx.addIssue({ code: 'custom', message: r.error.issues[0].message });
  });

/** Lines of a container's log (stdout and stderr) matching `pattern`, counted over a window. */
export const dockerLogsProbeSchema = z.strictObject({
  kind: z.literal('docker-logs'),
  container: name,
  /** A regular expression, tested against each line without its timestamp. */
  pattern: regexSchema,
  since: logsSinceSchema.optional(),
  ...probeTimeout,
});

/** The most requests one http-latency sample sends (its window is at most 1m: limits.ts). */
export const HTTP_LATENCY_MAX_REQUESTS = 200;

/** `requests` requests spread evenly over `window`; latency percentiles and errors of the lot. */
export const httpLatencyProbeSchema = z
  .strictObject({
    kind: z.literal('http-latency'),
    url: referable(z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as http://127.0.0.1:8080/health' })),
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'DELETE']).optional(),
    /** How many requests (default 10, at most 200). */
    requests: z
      .int({ error: 'requests must be a whole number' })
      .min(1, { error: 'requests must be at least 1' })
      .max(HTTP_LATENCY_MAX_REQUESTS, { error: `requests must be at most ${HTTP_LATENCY_MAX_REQUESTS}: one sample stays small` })
      .optional(),
    /** The time the requests are spread over (default 1s, at most 1m); each request's own limit is `timeout`. */
    window: latencyWindow.optional(),
    ...probeTimeout,
  });

/**
 * A command's exit status and output: in a container (through the engine's exec) or, without
 * `container`, on the worker's host. Its command comes from a file in the catalog unless the
 * worker allows inline commands (src/commands/policy.ts).
 */
export const commandProbeSchema = z.strictObject({
  kind: z.literal('command'),
  command: commandSchema,
  /** A container name or id to run it in; default: the worker's host. */
  container: name.optional(),
  /** A regular expression tested against the output: the sample's `matched`. */
  match: regexSchema.optional(),
  ...probeTimeout,
});

/**
 * A WebSocket, listened to for `window` per sample. The connection is kept across the samples of a
 * run, as a dashboard keeps its own (`connection: fresh` opens one per sample); when it has dropped,
 * the next sample opens it again, with `resume` set to the last sequence number seen.
 */
export const websocketProbeSchema = z.strictObject({
  kind: z.literal('websocket'),
  url: referable(z.url({ protocol: /^wss?$/, error: 'expected a WebSocket URL such as ws://127.0.0.1:8080/events' })),
  /** How long each sample listens for messages (default 1s, at most 1m); `timeout` limits the connect. */
  window: latencyWindow.optional(),
  /** The field of a JSON message that numbers events (1, 2, 3 …): numbers skipped count as missed. */
  sequence: name.optional(),
  /** The query parameter a reconnect sends the last sequence number seen in, to be sent what it missed. */
  resume: name.optional(),
  connection: z.enum(['shared', 'fresh']).optional(),
  ...probeTimeout,
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
  commandProbeSchema,
  websocketProbeSchema,
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
  command: ['exitCode', 'output', 'matched'],
  websocket: ['connected', 'connectMs', 'messages', 'firstMessageMs', 'reconnects', 'drops', 'missed', 'duplicates', 'lastSeq'],
};
export const COMMON_FIELDS = ['latencyMs', 'error'];
