import { Client } from 'pg';
import { FailureType, GamedayError } from '../errors';
import type { FaultSpec } from '../spec/schema';
import type { PlannedFault } from '../types';
import { isConnectionError, selfLimitMs, tagOf, targetSpecOf, TargetUnreachable, type FaultDeps } from './family';

/**
 * PostgreSQL faults that hold connections open: exhausting the connection slots, and holding a
 * table lock. The connections carry the fault's tag as their application_name, so that a revert
 * from any worker finds them on the server (pg_stat_activity) and terminates them.
 *
 * They live in the worker process that injected them (a registry keyed by tag, below): if that
 * worker dies, the operating system closes its sockets and the server ends the sessions, which
 * releases the slots and rolls back the lock. If the worker is alive but stuck, the server ends
 * them itself a grace period after the fault's duration (idle_session_timeout,
 * idle_in_transaction_session_timeout; PostgreSQL 14 and later).
 */

type Exhaust = Extract<FaultSpec, { kind: 'postgres-exhaust-connections' }>;
type LockTable = Extract<FaultSpec, { kind: 'postgres-lock-table' }>;

/** Connections this process holds, by fault tag. */
const held = new Map<string, Client[]>();

/** How long a lock may wait for a conflicting transaction before the inject gives up. */
const LOCK_WAIT = '10s';
const CONNECT_TIMEOUT_MS = 5000;

/** Why a connection to the target failed, in words that name the server. */
export function connectError(server: string, e: unknown): Error {
  const err = e as Error & { code?: string };
  if (err.code === '53300' || /too many clients|remaining connection slots/.test(err.message)) {
    return new Error(`${server} refused a connection: ${err.message} (the server has no free connection slot)`);
  }
  if (isConnectionError(err)) return new TargetUnreachable(`PostgreSQL server ${server}`, err);
  // The code stays: a revert tells a database that no longer exists (3D000) by it.
  return Object.assign(new Error(`cannot connect to ${server}: ${err.message}`), { code: err.code });
}

/** A connection to the target, named `applicationName`; its 'error' events (a terminated backend) are absorbed. */
export async function connectTo(connectionString: string, server: string, applicationName: string, onError?: () => void): Promise<Client> {
  const client = new Client({ connectionString, application_name: applicationName, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on('error', () => onError?.());
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => undefined);
    throw connectError(server, e);
  }
  return client;
}

function hold(tag: string, client: Client): void {
  const list = held.get(tag) ?? [];
  list.push(client);
  held.set(tag, list);
}

function forget(tag: string, client: Client): void {
  const list = (held.get(tag) ?? []).filter((c) => c !== client);
  if (list.length) held.set(tag, list);
  else held.delete(tag);
}

/** Opens a tagged connection and keeps it in the registry until revert, or until the server ends it. */
async function openHeld(connectionString: string, server: string, tag: string, timeoutSetting: string, limitMs: number): Promise<Client> {
  let client: Client | undefined = undefined;
  client = await connectTo(connectionString, server, tag, () => client && forget(tag, client));
  hold(tag, client);
  // Unknown before PostgreSQL 14: the connection then lives until revert or the worker's death.
  await client.query(`SELECT set_config('${timeoutSetting}', $1, false)`, [`${Math.ceil(limitMs)}ms`]).catch(() => undefined);
  return client;
}

/** How many backends on the server carry `tag` as their application_name. */
async function countTagged(admin: Client, tag: string): Promise<number> {
  const { rows } = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [tag]);
  return rows[0].n;
}

/** The number of connections the fault should hold: `connections`, or every slot left for ordinary users. */
async function wanted(admin: Client, fault: Exhaust): Promise<number> {
  if (fault.connections !== undefined) return fault.connections;
  const { rows } = await admin.query<{ free: number }>(
    // + 1: the admin connection asking gives its slot back when it closes.
    `SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
            - (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') + 1 AS free`,
  );
  return Math.max(0, rows[0].free);
}

/**
 * Holds `connections` connections (default: every free slot outside the superuser reserve) until
 * revert. Idempotent: connections already held under the tag, by this worker or another, count.
 * When the server fills up before all are open (someone else connected meanwhile), it keeps what
 * it has: the server is exhausted, which is the fault.
 */
export async function exhaustConnections(deps: FaultDeps, planned: PlannedFault, server: string): Promise<string[]> {
  const { connectionString } = targetSpecOf(planned, 'postgres');
  const fault = planned.fault as Exhaust;
  const tag = tagOf(planned);
  const admin = await connectTo(connectionString, server, 'gameday-admin');
  let target: number;
  let already: number;
  try {
    already = await countTagged(admin, tag);
    target = fault.connections === undefined ? already + (await wanted(admin, fault)) : fault.connections;
  } finally {
    await admin.end().catch(() => undefined);
  }
  const missing = target - already;
  let opened = 0;
  let refused: Error | undefined;
  for (let i = 0; i < missing && !refused; i++) {
    try {
      await openHeld(connectionString, server, tag, 'idle_session_timeout', selfLimitMs(deps, planned));
      opened++;
    } catch (e) {
      refused = e as Error;
    }
  }
  if (refused && opened + already === 0) throw new Error(`cannot hold connections to ${server}: ${refused.message}`);
  const full = refused ? `; the server refused more (${refused.message})` : '';
  return [`holding ${opened + already} connection${opened + already === 1 ? '' : 's'} tagged ${tag} to ${server}${already ? ` (${already} already held)` : ''}${full}`];
}

/**
 * One tagged connection takes the table lock in a transaction it keeps open until revert.
 * Idempotent: when a backend with the tag exists, the lock is held already.
 * @throws GamedayError TargetNotFound when the table does not exist.
 */
export async function lockTable(deps: FaultDeps, planned: PlannedFault, server: string): Promise<string[]> {
  const { connectionString } = targetSpecOf(planned, 'postgres');
  const fault = planned.fault as LockTable;
  const tag = tagOf(planned);
  const mode = fault.mode ?? 'ACCESS EXCLUSIVE';
  const admin = await connectTo(connectionString, server, 'gameday-admin');
  try {
    // fault.table passed the schema's identifier pattern: safe to place in the statement.
    const { rows } = await admin.query<{ oid: string | null }>('SELECT to_regclass($1)::text AS oid', [fault.table]);
    if (rows[0].oid === null) throw new GamedayError(FailureType.TargetNotFound, `${server} has no table ${fault.table}: cannot lock it`);
    if ((await countTagged(admin, tag)) > 0) return [`table ${fault.table} on ${server} is already locked by the connection tagged ${tag}`];
  } finally {
    await admin.end().catch(() => undefined);
  }
  const client = await openHeld(connectionString, server, tag, 'idle_in_transaction_session_timeout', selfLimitMs(deps, planned));
  try {
    await client.query(`SET lock_timeout = '${LOCK_WAIT}'`);
    await client.query('BEGIN');
    await client.query(`LOCK TABLE ${fault.table} IN ${mode} MODE`);
  } catch (e) {
    forget(tag, client);
    await client.end().catch(() => undefined);
    const err = e as Error & { code?: string };
    if (err.code === '55P03') throw new Error(`could not lock table ${fault.table} on ${server} within ${LOCK_WAIT}: another transaction holds a conflicting lock`);
    throw new Error(`could not lock table ${fault.table} on ${server}: ${err.message}`);
  }
  return [`holding ${mode} lock on ${fault.table} on ${server} (connection tagged ${tag})`];
}

/**
 * Releases what a held-connection fault holds: closes this process's connections for the tag,
 * then terminates every backend on the server still carrying the tag (held by another worker).
 * Idempotent: nothing held and nothing tagged is a success.
 */
export async function releaseTagged(planned: PlannedFault, server: string): Promise<string[]> {
  const { connectionString } = targetSpecOf(planned, 'postgres');
  const tag = tagOf(planned);
  const mine = held.get(tag) ?? [];
  held.delete(tag);
  await Promise.all(mine.map((c) => c.end().catch(() => undefined)));
  let admin: Client;
  try {
    admin = await connectTo(connectionString, server, 'gameday-admin');
  } catch (e) {
    // A dropped database has no backends left (DROP DATABASE refuses, or ends, connected ones).
    if ((e as { code?: string }).code === '3D000') return [`the database of ${server} no longer exists: nothing to revert`];
    throw e;
  }
  try {
    const { rows } = await admin.query<{ n: number }>('SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()', [tag]);
    const closed = mine.length ? `closed ${mine.length} connection${mine.length === 1 ? '' : 's'} tagged ${tag} held by this worker` : `this worker held no connection tagged ${tag}`;
    const terminated = rows[0].n ? `terminated ${rows[0].n} backend${rows[0].n === 1 ? '' : 's'} tagged ${tag} on ${server}` : `no backend tagged ${tag} left on ${server}`;
    return [`${closed}; ${terminated}`];
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/** How many connections this process holds for a tag (for tests and diagnostics). */
export function heldCount(tag: string): number {
  return held.get(tag)?.length ?? 0;
}
