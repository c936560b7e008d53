import { z } from 'zod';
import { name, referable } from './common';
import { LIMITS, boundedRecord } from './limits';

/** The targets of an experiment file: what a fault acts on, by kind. */

/**
 * The host a target lives on: its resolve, injects, reverts and probes run on that host's agent
 * (`gameday agent --host NAME`, task queue `gameday-host-NAME`); absent, on the worker's own host.
 */
export const hostField = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, { error: 'expected a host name of lower-case letters, digits and dashes, such as db-1' })
  .optional();

/** Compose's own names: letters, digits, dashes, underscores and dots (a project is lower-case). */
const composeName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { error: 'expected a compose name of letters, digits, dashes, underscores and dots, such as nats' });

/** A service of a Docker Compose project, found by compose's labels com.docker.compose.service / .project. */
export const composeServiceSchema = z.strictObject({
  /** The service's name in the compose file. */
  service: composeName,
  /** The project (`docker compose -p NAME`, default its folder's name); absent: any project's service of that name. */
  project: composeName.optional(),
});

export const dockerTargetSchema = z
  .strictObject({
    kind: z.literal('docker'),
    host: hostField,
    /** A container name or id. */
    container: name.optional(),
    /** A label selector: every running container carrying all these labels. */
    labels: boundedRecord(z.string(), 'labels').optional(),
    /**
     * A Docker Compose service: the running containers whose compose labels name this service (and
     * project, when given). More than one match (the service in several projects, or scaled) needs `pick`.
     */
    compose: composeServiceSchema.optional(),
    /** Blast radius of a label selector or a compose service: all matches (default), or a random `count` or `percent` of them. */
    pick: z
      .union(
        [
          z.strictObject({ count: z.int().min(1, { error: 'count must be at least 1' }).max(LIMITS.listItems, { error: `count must be at most ${LIMITS.listItems}` }) }),
          z.strictObject({ percent: z.number().gt(0, { error: 'percent must be more than 0' }).max(100, { error: 'percent must be at most 100' }) }),
        ],
        {
          error: 'expected { count: n } or { percent: p } (0 < p <= 100)',
        },
      )
      .optional(),
  })
  .superRefine((t, ctx) => {
    const given = Number(t.container !== undefined) + Number(t.labels !== undefined) + Number(t.compose !== undefined);
    if (given !== 1) ctx.addIssue({ code: 'custom', message: 'give exactly one of container, labels or compose', path: [] });
    if (t.labels && Object.keys(t.labels).length === 0) ctx.addIssue({ code: 'custom', message: 'a label selector needs at least one label', path: ['labels'] });
    if (t.pick && t.container !== undefined) ctx.addIssue({ code: 'custom', message: 'pick applies to a label selector or a compose service only', path: ['pick'] });
  });

const loopbackNote = 'Targets on 127.0.0.1 or localhost are allowed; any other address must be in GAMEDAY_ALLOWED_TARGETS on the worker.';

/** A PostgreSQL server, for database faults (terminate backends, exhaust connections, lock a table). */
export const postgresTargetSchema = z
  .strictObject({
    kind: z.literal('postgres'),
    host: hostField,
    connectionString: referable(z.string().regex(/^postgres(ql)?:\/\//, { error: 'expected a connection string such as postgres://postgres@127.0.0.1:5432/app' })),
  })
  .describe(loopbackNote);

/** A proxy of a Toxiproxy server, for network faults on the TCP dependency it fronts. */
export const toxiproxyTargetSchema = z
  .strictObject({
    kind: z.literal('toxiproxy'),
    host: hostField,
    /** Toxiproxy's HTTP API. */
    api: referable(z.url({ protocol: /^https?$/, error: 'expected the Toxiproxy API URL such as http://127.0.0.1:8474' })),
    proxy: name,
  })
  .describe(loopbackNote);

/** Processes on the worker's host whose command line matches `pattern` (a regular expression, like `pgrep -f`). */
export const processTargetSchema = z
  .strictObject({
    kind: z.literal('process'),
    host: hostField,
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
    host: hostField,
    url: referable(z.url({ protocol: /^https?$/, error: 'expected the dependency\'s base URL such as http://127.0.0.1:18082' })),
    /** The dependency's name in reports, e.g. `scoring` (default: the URL's host). */
    name: name.optional(),
    /** Where the fault endpoint is under `url` (default /fault). */
    faultPath: z.string().regex(/^\//, { error: 'expected a path starting with /' }).optional(),
  })
  .describe(loopbackNote);

/**
 * An HTTP dependency behind Gameday's HTTP fault proxy (src/http-proxy): the client is pointed at
 * `listen`, the proxy forwards to `upstream`, and faults are rules set through its admin API. When
 * nothing answers at `admin` on this machine, the worker starts the proxy itself (a process of its
 * own that outlives the run, so that the client pointed at it keeps working).
 */
export const proxyTargetSchema = z
  .strictObject({
    kind: z.literal('proxy'),
    host: hostField,
    /** The dependency's base URL, as the proxy reaches it. */
    upstream: referable(z.url({ protocol: /^https?$/, error: 'expected the dependency\'s URL such as http://127.0.0.1:8082' })),
    /** Where the proxy listens (host:port): the address the client is pointed at instead of the dependency. */
    listen: z.string().regex(/^[^\s:/]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/, { error: 'expected host:port such as 127.0.0.1:18099' }),
    /** The proxy's admin API, through which faults are set and removed. */
    admin: referable(z.url({ protocol: /^http$/, error: 'expected the fault proxy\'s admin URL such as http://127.0.0.1:18098' })),
    /** The dependency's name in reports, e.g. `scoring` (default: the upstream's host). */
    name: name.optional(),
  })
  .describe(loopbackNote);

export const targetSchema = z.discriminatedUnion('kind', [dockerTargetSchema, postgresTargetSchema, toxiproxyTargetSchema, processTargetSchema, httpTargetSchema, proxyTargetSchema]);

/** What a target resolves to; the first word of every fault kind names the target kind it needs. */
export type TargetKind = z.infer<typeof targetSchema>['kind'];
export const TARGET_KINDS: readonly TargetKind[] = ['docker', 'postgres', 'toxiproxy', 'process', 'http', 'proxy'];
