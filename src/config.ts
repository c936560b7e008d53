import path from 'node:path';
import { z } from 'zod';
import { FailureType, GamedayError } from './errors';
import { POSTGRES_URL } from './store/url';

/** The project's root folder (where experiments/ and reports/ live by default). */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** The local stack's PostgreSQL (scripts/provision.sh), database `gameday`. */
export const DEFAULT_RESULTS_URL = 'postgres://postgres@127.0.0.1:55432/gameday';

const configSchema = z.object({
  TEMPORAL_ADDRESS: z.string().regex(/^[^:\s]+:\d+$/, { error: 'expected host:port, e.g. 127.0.0.1:7233' }).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  GAMEDAY_TASK_QUEUE: z.string().min(1).default('gameday'),
  TEMPORAL_CLI_PATH: z.string().optional(),
  DOCKER_HOST: z.string().optional(),
  GAMEDAY_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
  GAMEDAY_TEMPORAL_UI_URL: z.url({ protocol: /^https?$/, error: 'expected the Temporal Web UI\'s base URL such as http://127.0.0.1:8233' }).optional(),
  GAMEDAY_EXPERIMENTS_DIR: z.string().default(path.join(PROJECT_ROOT, 'experiments')),
  GAMEDAY_REPORTS_DIR: z.string().default(path.join(PROJECT_ROOT, 'reports')),
  GAMEDAY_LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('WARN'),
  GAMEDAY_ALLOWED_TARGETS: z.string().default(''),
  GAMEDAY_WORKFLOW_TASK_TIMEOUT: z.string().regex(/^\d+(ms|s)$/, { error: 'expected a duration such as "2s"' }).default('2s'),
  GAMEDAY_FREEZE_FILE: z.string().min(1).optional(),
  GAMEDAY_RESULTS_URL: z.string().regex(POSTGRES_URL, { error: 'expected a PostgreSQL URL such as postgres://user@host:5432/gameday' }).default(DEFAULT_RESULTS_URL),
  GAMEDAY_JANITOR: z.enum(['on', 'off'], { error: 'expected on or off' }).default('on'),
  GAMEDAY_EVENTS_NATS_URL: z.string().regex(/^(nats|tls):\/\/.+/, { error: 'expected a NATS URL such as nats://127.0.0.1:4222' }).optional(),
});

/** Gameday's configuration, read from the environment once. */
export interface Config {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  temporalCliPath?: string;
  dockerHost?: string;
  uiPort: number;
  /**
   * Where the Temporal Web UI is, for links to runs (history, reports): GAMEDAY_TEMPORAL_UI_URL,
   * default the local dev server's, http://127.0.0.1:<GAMEDAY_UI_PORT>. No trailing slash.
   */
  temporalUiUrl: string;
  experimentsDir: string;
  reportsDir: string;
  /** The worker's log level; WARN keeps the CLI's progress readable. */
  logLevel: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Container names that may be targeted without the gameday.enabled=true label. */
  allowedTargets: string[];
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
   * Whether a worker keeps the janitor's schedule (GAMEDAY_JANITOR=on, the default), so that the
   * faults of a terminated or timed-out run are reverted within seconds with nothing typed.
   */
  janitorSchedule: boolean;
}

/**
 * Parses the environment with defaults for the local stack.
 * @throws GamedayError InvalidConfig listing every problem at once.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new GamedayError(FailureType.InvalidConfig, `invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  return {
    temporalAddress: e.TEMPORAL_ADDRESS,
    namespace: e.TEMPORAL_NAMESPACE,
    taskQueue: e.GAMEDAY_TASK_QUEUE,
    temporalCliPath: e.TEMPORAL_CLI_PATH,
    dockerHost: e.DOCKER_HOST,
    uiPort: e.GAMEDAY_UI_PORT,
    temporalUiUrl: (e.GAMEDAY_TEMPORAL_UI_URL ?? `http://127.0.0.1:${e.GAMEDAY_UI_PORT}`).replace(/\/+$/, ''),
    experimentsDir: path.resolve(e.GAMEDAY_EXPERIMENTS_DIR),
    reportsDir: path.resolve(e.GAMEDAY_REPORTS_DIR),
    logLevel: e.GAMEDAY_LOG_LEVEL,
    allowedTargets: e.GAMEDAY_ALLOWED_TARGETS.split(',').map((t) => t.trim()).filter(Boolean),
    eventsNatsUrl: e.GAMEDAY_EVENTS_NATS_URL,
    resultsUrl: e.GAMEDAY_RESULTS_URL,
    freezeFile: path.resolve(e.GAMEDAY_FREEZE_FILE ?? path.join(e.GAMEDAY_EXPERIMENTS_DIR, 'freeze-windows.yaml')),
    freezeFileRequired: e.GAMEDAY_FREEZE_FILE !== undefined,
    workflowTaskTimeout: e.GAMEDAY_WORKFLOW_TASK_TIMEOUT,
    janitorSchedule: e.GAMEDAY_JANITOR === 'on',
  };
}
