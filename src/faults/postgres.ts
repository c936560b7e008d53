import { createHash } from 'node:crypto';
import { FailureType, GamedayError } from '../errors';
import type { PlannedFault } from '../types';
import { addressNotAllowed, targetSpecOf, type FaultFamily, type PlannedOf } from './family';
import { connectTo, exhaustConnections, lockTable, releaseTagged } from './postgres-held';

/** "postgres 127.0.0.1:15432/app": the server and database of a connection string, without credentials. */
export function describeConnection(connectionString: string): { id: string; name: string; url: URL } {
  const url = new URL(connectionString);
  const db = url.pathname.replace(/^\//, '') || url.username || 'postgres';
  const name = `postgres ${url.hostname}:${url.port || '5432'}/${db}`;
  return { id: createHash('sha256').update(name).digest('hex'), name, url };
}

/**
 * pg_terminate_backend on the client backends that match the fault's filters, never the one
 * running the query, and never another Gameday connection (held faults, probes: application_name
 * `gameday-…`) unless `applicationName` names it. A one-shot fault: nothing stays in place, so
 * the worker's death changes nothing. An activity retry after a worker died mid-inject terminates
 * the backends connected at that moment once more.
 */
async function terminateBackends(planned: PlannedOf<'postgres-terminate-backends'>, server: string): Promise<string[]> {
  const { connectionString } = targetSpecOf(planned, 'postgres');
  const fault = planned.fault;
  const admin = await connectTo(connectionString, server, 'gameday-admin');
  try {
    const { rows } = await admin.query<{ matched: number; terminated: number }>(
      `SELECT count(*)::int AS matched, count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS terminated
         FROM pg_stat_activity
        WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
          AND ($1::text IS NULL OR datname = $1) AND ($2::text IS NULL OR usename = $2)
          AND (CASE WHEN $3::text IS NULL THEN application_name NOT LIKE 'gameday-%' ELSE application_name = $3 END)`,
      [fault.database ?? null, fault.user ?? null, fault.applicationName ?? null],
    );
    const { matched, terminated } = rows[0];
    return [`terminated ${terminated} of ${matched} matching backend${matched === 1 ? '' : 's'} on ${server}`];
  } catch (e) {
    if ((e as { code?: string }).code === '42501') throw new Error(`${server} refused pg_terminate_backend: ${(e as Error).message} (the role needs superuser or pg_signal_backend)`);
    throw e;
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/** The server a planned postgres fault acts on, in words. */
function serverOf(planned: PlannedFault): string {
  return describeConnection(targetSpecOf(planned, 'postgres').connectionString).name;
}

/**
 * PostgreSQL faults on a server given by connection string. terminate-backends is one-shot (its
 * revert has nothing to undo); exhaust-connections and lock-table hold tagged connections until
 * revert (postgres-held.ts), which terminates them by tag from any worker.
 */
export const postgresFaults: FaultFamily<'postgres'> = {
  async resolve(_deps, name, spec, policy) {
    const { id, name: server, url } = describeConnection(spec.connectionString);
    const why = addressNotAllowed(url, policy);
    if (why) throw new GamedayError(FailureType.TargetNotAllowed, `target '${name}': ${why}`);
    return { selector: server, refs: [{ id, name: server }] };
  },

  faults: {
    'postgres-terminate-backends': {
      inject: (_deps, planned) => terminateBackends(planned, serverOf(planned)),
      revert: async (_deps, planned) => [`nothing to undo on ${serverOf(planned)}: terminated backends do not come back; their clients reconnect`],
    },
    'postgres-exhaust-connections': {
      inject: (deps, planned) => exhaustConnections(deps, planned, serverOf(planned)),
      revert: (_deps, planned) => releaseTagged(planned, serverOf(planned)),
    },
    'postgres-lock-table': {
      inject: (deps, planned) => lockTable(deps, planned, serverOf(planned)),
      revert: (_deps, planned) => releaseTagged(planned, serverOf(planned)),
    },
  },
};
