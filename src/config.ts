import path from 'node:path';
import { z } from 'zod';
import { FailureType, GamedayError } from './errors';
import { DEFAULT_RETENTION, parseRetention, type Retention } from './store/retention';
import { DEFAULT_NOTIFY_ON, DEFAULT_NOTIFY_TRIGGERS, isWebhookUrl, NOTIFY_EVENTS, NOTIFY_FORMATS, NOTIFY_TRIGGERS, type NotifyRule } from './notify/rules';
import { POSTGRES_URL } from './store/url';
import { DEFAULT_NAMESPACE, LOCAL_TEMPORAL_ADDRESS, resolveTemporalProfile, type TemporalCredentials } from './temporal-profile';

/** The project's root folder (where experiments/ and reports/ live by default). */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** The local stack's PostgreSQL (scripts/provision.sh), database `gameday`. */
export const DEFAULT_RESULTS_URL = 'postgres://postgres@127.0.0.1:55432/gameday';

const configSchema = z.object({
  // TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_PROFILE, TEMPORAL_TLS_*, TEMPORAL_API_KEY: resolveTemporalProfile.
  GAMEDAY_TASK_QUEUE: z.string().min(1).default('gameday'),
  TEMPORAL_CLI_PATH: z.string().optional(),
  DOCKER_HOST: z.string().optional(),
  GAMEDAY_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
  GAMEDAY_TEMPORAL_UI_URL: z.url({ protocol: /^https?$/, error: 'expected the Temporal Web UI\'s base URL such as http://127.0.0.1:8233' }).optional(),
  GAMEDAY_TEMPORAL_HTTP_URL: z.string().refine((v) => v === 'off' || /^https?:\/\/[^\s/]+(\/\S*)?$/.test(v), { error: 'expected the Temporal HTTP API\'s base URL such as http://127.0.0.1:7243, or off' }).optional(),
  GAMEDAY_EXPERIMENTS_DIR: z.string().default(path.join(PROJECT_ROOT, 'experiments')),
  GAMEDAY_REPORTS_DIR: z.string().default(path.join(PROJECT_ROOT, 'reports')),
  GAMEDAY_LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('WARN'),
  GAMEDAY_ALLOWED_TARGETS: z.string().default(''),
  GAMEDAY_ALLOW_INLINE_COMMANDS: z.enum(['true', 'false'], { error: 'expected true or false' }).default('false'),
  GAMEDAY_WORKFLOW_TASK_TIMEOUT: z.string().regex(/^\d+(ms|s)$/, { error: 'expected a duration such as "2s"' }).default('2s'),
  GAMEDAY_FREEZE_FILE: z.string().min(1).optional(),
  GAMEDAY_RESULTS_URL: z.string().regex(POSTGRES_URL, { error: 'expected a PostgreSQL URL such as postgres://user@host:5432/gameday' }).default(DEFAULT_RESULTS_URL),
  GAMEDAY_RESULTS_RETENTION: z
    .string()
    .default(DEFAULT_RETENTION)
    .transform((v, ctx) => {
      try {
        return parseRetention(v);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    }),
  GAMEDAY_JANITOR: z.enum(['on', 'off'], { error: 'expected on or off' }).default('on'),
  GAMEDAY_REVERTER: z.enum(['process', 'worker'], { error: 'expected process or worker' }).default('process'),
  GAMEDAY_DEMO_BUILD: z.enum(['weak', 'resilient'], { error: 'expected weak or resilient' }).default('weak'),
  GAMEDAY_EVENTS_NATS_URL: z.string().regex(/^(nats|tls):\/\/.+/, { error: 'expected a NATS URL such as nats://127.0.0.1:4222' }).optional(),
  GAMEDAY_UI_URL: z.string().regex(/^https?:\/\/[^\s]+$/, { error: 'expected the Temporal Web UI\'s address, e.g. http://127.0.0.1:8233' }).optional(),
  // Never printed: a Slack hook's URL is its secret (messages name the variable only).
  GAMEDAY_NOTIFY_URL: z.string().refine((u) => isWebhookUrl(u) && !u.startsWith('$'), { error: 'expected an http(s) URL' }).optional(),
  GAMEDAY_NOTIFY_FORMAT: z.enum(NOTIFY_FORMATS, { error: 'expected slack or json' }).default('json'),
  GAMEDAY_NOTIFY_ON: commaList(NOTIFY_EVENTS).optional(),
  GAMEDAY_NOTIFY_TRIGGERS: commaList(NOTIFY_TRIGGERS).optional(),
  GAMEDAY_METRICS_ADDRESS: z
    .string()
    .refine(isBindAddress, { error: 'expected an IP address and a port to serve /metrics on, such as 127.0.0.1:9464 or 0.0.0.0:9464 ([::1]:9464 for IPv6; not a host name)' })
    .optional(),
});

/** An IPv4 or bracketed IPv6 address and a port from 1 to 65535: what the SDK's exporter binds. */
function isBindAddress(v: string): boolean {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/.exec(v);
  if (!m) return false;
  const port = Number(m[2]);
  const octetsOk = m[1].startsWith('[') || m[1].split('.').every((o) => Number(o) <= 255);
  return octetsOk && port >= 1 && port <= 65535;
}

/** A comma-separated list of words from `allowed`; every unknown one is named. */
function commaList<T extends string>(allowed: readonly T[]) {
  return z
    .string()
    .transform((s) => s.split(',').map((w) => w.trim()).filter(Boolean))
    .superRefine((words, ctx) => {
      const unknown = words.filter((w) => !allowed.includes(w as T));
      if (unknown.length) ctx.addIssue({ code: 'custom', message: `${unknown.map((w) => `'${w}'`).join(', ')} not one of ${allowed.join(', ')}` });
      else if (words.length === 0) ctx.addIssue({ code: 'custom', message: `name at least one of ${allowed.join(', ')}, or leave it unset for the default` });
    })
    .transform((words) => words as T[]);
}

/** Gameday's configuration, read from the environment once. */
export interface Config {
  /** TEMPORAL_ADDRESS, else the temporal.toml profile's address, else the local stack's 127.0.0.1:7233. */
  temporalAddress: string;
  /** TEMPORAL_NAMESPACE, else the profile's namespace, else `default`. */
  namespace: string;
  /**
   * The rest of Temporal's connection settings (TLS, API key, gRPC headers) from the same
   * profile and variables; every connection takes them through temporalConnectionOptions.
   * Holds secrets but prints only a summary.
   */
  temporalCredentials: TemporalCredentials;
  taskQueue: string;
  temporalCliPath?: string;
  dockerHost?: string;
  uiPort: number;
  /**
   * Where the Temporal Web UI is, for links to runs (history, reports): GAMEDAY_TEMPORAL_UI_URL,
   * default the local dev server's, http://127.0.0.1:<GAMEDAY_UI_PORT>. No trailing slash.
   */
  temporalUiUrl: string;
  /**
   * Temporal's HTTP API (the frontend's `/api/v1`), which `gameday run` starts and waits on
   * instead of gRPC: it needs neither the gRPC client nor protobuf, a third of the CLI's start.
   * GAMEDAY_TEMPORAL_HTTP_URL, `off` for none; by default the local stack's (its gRPC port + 10,
   * as scripts/provision.sh starts it) when the address is on this machine and plain (no TLS,
   * API key or gRPC headers). Unset: gRPC, as every other command; the CLI also falls back to
   * gRPC when nothing answers there.
   */
  temporalHttpUrl?: string;
  experimentsDir: string;
  reportsDir: string;
  /** The worker's log level; WARN keeps the CLI's progress readable. */
  logLevel: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Container names that may be targeted without the gameday.enabled=true label. */
  allowedTargets: string[];
  /**
   * GAMEDAY_ALLOW_INLINE_COMMANDS=true: commands (command probes, docker-exec, process-kill's
   * restart) run from specs given inline too, not only from files of the catalog (src/commands/policy.ts).
   */
  allowInlineCommands: boolean;
  /**
   * The workflow task timeout of experiments started by Gameday. A worker that dies holding a
   * workflow task delays the run by this much (Temporal's default is 10 s); a replay longer than
   * it (a history of tens of thousands of events) would not fit.
   */
  workflowTaskTimeout: string;
  /** The freeze-window file scheduled runs check (default <experimentsDir>/freeze-windows.yaml). */
  freezeFile: string;
  /** True when GAMEDAY_FREEZE_FILE names the file: then a missing file is an error, not "no windows". */
  freezeFileRequired: boolean;
  /** Where events (rollback failing, experiment finished) are published; none when unset. */
  eventsNatsUrl?: string;
  /**
   * The results store every worker writes runs to and reports are rendered from: a PostgreSQL
   * URL (a password in it is never logged). Default: the local stack's server, database `gameday`.
   */
  resultsUrl: string;
  /**
   * How long the results store keeps the samples of finished runs (GAMEDAY_RESULTS_RETENTION,
   * default 30d), in ms, or `off`; every worker prunes older ones in the background. Run rows
   * (verdict, expectations, rollback record) are kept.
   */
  resultsRetention: Retention;
  /**
   * Whether a worker keeps the janitor's schedule (GAMEDAY_JANITOR=on, the default), so that the
   * faults of a terminated or timed-out run are reverted within seconds with nothing typed.
   */
  janitorSchedule: boolean;
  /**
   * Where a worker keeps its due-time reverts (GAMEDAY_REVERTER): `process`, the default, in a
   * reverter process of their own at a higher priority (src/faults/reverter.ts); `worker`, in the
   * worker's own event loop, behind its probes.
   */
  reverter: 'process' | 'worker';
  /**
   * Which build of the demo target system `gameday dev` and `gameday demo` start when no --build
   * is given (GAMEDAY_DEMO_BUILD): `weak`, the default, the one the reference experiments find
   * wanting; `resilient`, with the remediations their reports recommend.
   */
  demoBuild: 'weak' | 'resilient';
  /** The Temporal Web UI that links in notifications point to (GAMEDAY_UI_URL, default http://127.0.0.1:<uiPort>). */
  uiUrl: string;
  /**
   * The webhook every experiment run on this worker notifies (GAMEDAY_NOTIFY_URL, _FORMAT, _ON,
   * _TRIGGERS); none when unset. Its URL is read only by the activity that sends.
   */
  notify?: NotifyRule;
  /**
   * Where a worker or agent serves Prometheus metrics at /metrics (GAMEDAY_METRICS_ADDRESS,
   * ip:port): the SDK's `temporal_*` and Gameday's `gameday_*`. None when unset.
   */
  metricsAddress?: string;
}

/** The HTTP API to use for `run` (Config.temporalHttpUrl): the one set, else the local stack's when the connection is local and plain. */
function temporalHttpUrl(set: string | undefined, address: string, credentials: TemporalCredentials): string | undefined {
  if (set) return set === 'off' ? undefined : set.replace(/\/+$/, '');
  const m = /^(127\.0\.0\.1|localhost):(\d+)$/.exec(address);
  if (!m || !credentials.plain) return undefined;
  const port = Number(m[2]) + 10;
  return port <= 65535 ? `http://${m[1]}:${port}` : undefined;
}

/**
 * Parses the environment with defaults for the local stack.
 * @throws GamedayError InvalidConfig listing every problem at once.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Parsed once: without the parser zod would compile for it first (see the loader's JITLESS).
  const parsed = configSchema.safeParse(env, { jitless: true });
  const temporal = resolveTemporalProfile(env);
  if (!parsed.success || temporal.problems.length) {
    const lines = [...temporal.problems, ...(parsed.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [])];
    throw new GamedayError(FailureType.InvalidConfig, `invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  return {
    temporalAddress: temporal.address ?? LOCAL_TEMPORAL_ADDRESS,
    namespace: temporal.namespace ?? DEFAULT_NAMESPACE,
    temporalCredentials: temporal.credentials,
    taskQueue: e.GAMEDAY_TASK_QUEUE,
    temporalCliPath: e.TEMPORAL_CLI_PATH,
    dockerHost: e.DOCKER_HOST,
    uiPort: e.GAMEDAY_UI_PORT,
    temporalHttpUrl: temporalHttpUrl(e.GAMEDAY_TEMPORAL_HTTP_URL, temporal.address ?? LOCAL_TEMPORAL_ADDRESS, temporal.credentials),
    temporalUiUrl: (e.GAMEDAY_TEMPORAL_UI_URL ?? `http://127.0.0.1:${e.GAMEDAY_UI_PORT}`).replace(/\/+$/, ''),
    experimentsDir: path.resolve(e.GAMEDAY_EXPERIMENTS_DIR),
    reportsDir: path.resolve(e.GAMEDAY_REPORTS_DIR),
    logLevel: e.GAMEDAY_LOG_LEVEL,
    allowedTargets: e.GAMEDAY_ALLOWED_TARGETS.split(',').map((t) => t.trim()).filter(Boolean),
    allowInlineCommands: e.GAMEDAY_ALLOW_INLINE_COMMANDS === 'true',
    eventsNatsUrl: e.GAMEDAY_EVENTS_NATS_URL,
    resultsUrl: e.GAMEDAY_RESULTS_URL,
    resultsRetention: e.GAMEDAY_RESULTS_RETENTION,
    freezeFile: path.resolve(e.GAMEDAY_FREEZE_FILE ?? path.join(e.GAMEDAY_EXPERIMENTS_DIR, 'freeze-windows.yaml')),
    freezeFileRequired: e.GAMEDAY_FREEZE_FILE !== undefined,
    workflowTaskTimeout: e.GAMEDAY_WORKFLOW_TASK_TIMEOUT,
    janitorSchedule: e.GAMEDAY_JANITOR === 'on',
    reverter: e.GAMEDAY_REVERTER,
    demoBuild: e.GAMEDAY_DEMO_BUILD,
    uiUrl: e.GAMEDAY_UI_URL ?? `http://127.0.0.1:${e.GAMEDAY_UI_PORT}`,
    metricsAddress: e.GAMEDAY_METRICS_ADDRESS,
    notify: e.GAMEDAY_NOTIFY_URL
      ? { url: e.GAMEDAY_NOTIFY_URL, format: e.GAMEDAY_NOTIFY_FORMAT, on: e.GAMEDAY_NOTIFY_ON ?? DEFAULT_NOTIFY_ON, triggers: e.GAMEDAY_NOTIFY_TRIGGERS ?? DEFAULT_NOTIFY_TRIGGERS }
      : undefined,
  };
}
