import { z } from 'zod';
import { name } from './common';
import { boundedInt, faultDelay, stopTimeout, toxicTimeout } from './limits';
import type { TargetKind } from './target-schema';

/** The faults of an experiment file, by kind. */

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
  z.strictObject({ kind: z.literal('docker-stop'), target, timeout: stopTimeout.optional() }),
  z.strictObject({ kind: z.literal('docker-kill'), target, signal: signal.optional() }),
  z.strictObject({ kind: z.literal('docker-restart'), target, timeout: stopTimeout.optional() }),
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
  /** Held by a host process in the container's cgroups; the bound is the machine, not the limit of a container. */
  z.strictObject({ kind: z.literal('docker-memory-stress'), target, megabytes: boundedInt('megabytes', 1, 32_768, ' (32 GiB)') }),
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
  z.strictObject({ kind: z.literal('postgres-exhaust-connections'), target, connections: boundedInt('connections', 1, 10_000, ': each one held costs the worker some 185 KiB').optional() }),
  /** Holds a lock on a table for the fault's duration (default mode ACCESS EXCLUSIVE). */
  z.strictObject({
    kind: z.literal('postgres-lock-table'),
    target,
    table: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/, { error: 'expected a table name such as messages or public.messages' }),
    mode: z.enum(['ACCESS EXCLUSIVE', 'EXCLUSIVE', 'SHARE ROW EXCLUSIVE', 'SHARE', 'ROW EXCLUSIVE']).optional(),
  }),
  // toxiproxy: a TCP dependency
  z.strictObject({ kind: z.literal('toxiproxy-latency'), target, latency: faultDelay('latency'), jitter: faultDelay('jitter').optional(), direction: direction.optional(), percent: percent.optional() }),
  /** Data stops flowing; the connection is closed after `timeout` (or held open when 0). */
  z.strictObject({ kind: z.literal('toxiproxy-timeout'), target, timeout: toxicTimeout, direction: direction.optional(), percent: percent.optional() }),
  /** Connections are reset (TCP RST) after `timeout` (default at once). */
  z.strictObject({ kind: z.literal('toxiproxy-reset'), target, timeout: toxicTimeout.optional(), direction: direction.optional(), percent: percent.optional() }),
  z.strictObject({ kind: z.literal('toxiproxy-bandwidth'), target, kbPerSecond: boundedInt('kbPerSecond', 1, 10_000_000), direction: direction.optional(), percent: percent.optional() }),
  // process: on the worker's host
  /** SIGSTOP; revert SIGCONT. */
  z.strictObject({ kind: z.literal('process-pause'), target }),
  /** A signal (default SIGKILL); revert runs `restart` (a shell command) when no matching process runs. */
  z.strictObject({ kind: z.literal('process-kill'), target, signal: signal.optional(), restart: name.optional() }),
  // http: a dependency speaking Gameday's fault endpoint
  z.strictObject({ kind: z.literal('http-error'), target, status: z.int().min(400).max(599), percent: percent.optional() }),
  z.strictObject({ kind: z.literal('http-delay'), target, delay: faultDelay('delay'), percent: percent.optional() }),
]);

/** The target kind a fault needs: the word before its first dash. */
export function targetKindOf(faultKind: z.infer<typeof faultSchema>['kind']): TargetKind {
  return faultKind.slice(0, faultKind.indexOf('-')) as TargetKind;
}
