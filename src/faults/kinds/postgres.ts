/** The postgres fault kinds: on a server given by connection string. */
import type { PlannedFault } from '../../types';
import { tagOf } from '../refs';
import { faultKind } from './kind';
import { names } from './words';

function connectionString(p: PlannedFault): string {
  return p.target.spec?.kind === 'postgres' ? p.target.spec.connectionString : '<connection string>';
}

/** Held connections carry the fault's tag as application_name: terminating them by tag undoes the fault. */
const held = {
  undo: (_f: unknown, p: PlannedFault) => `psql '${connectionString(p)}' -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '${tagOf(p)}'"`,
  check: (_f: unknown, p: PlannedFault): [string, string] => [`psql '${connectionString(p)}' -tc "SELECT count(*) FROM pg_stat_activity WHERE application_name = '${tagOf(p)}'"`, 'prints 0'],
};

export const POSTGRES_KINDS = [
  /** pg_terminate_backend on the server's client backends (filtered by database, user, application_name). */
  faultKind('postgres-terminate-backends', (k) => ({ database: k.name.optional(), user: k.name.optional(), applicationName: k.name.optional() }), {
    does: (f, t) => {
      const filters = [f.database && `database ${f.database}`, f.user && `user ${f.user}`, f.applicationName && `application ${f.applicationName}`].filter(Boolean);
      return `terminate the backends${filters.length ? ` of ${filters.join(', ')}` : ''} on ${names(t)}`;
    },
    undo: () => 'nothing to undo: terminated backends do not come back; the application reconnects',
  }),
  /** Holds `connections` connections (default: every free slot) for the fault's duration. */
  faultKind('postgres-exhaust-connections', (k) => ({ connections: k.boundedInt('connections', 1, 10_000, ': each one held costs the worker some 185 KiB').optional() }), {
    does: (f, t) => `hold ${f.connections ?? 'every free'} connection${f.connections === 1 ? '' : 's'} to ${names(t)}`,
    ...held,
  }),
  /** Holds a lock on a table for the fault's duration (default mode ACCESS EXCLUSIVE). */
  faultKind(
    'postgres-lock-table',
    (k) => ({
      table: k.z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/, { error: 'expected a table name such as messages or public.messages' }),
      mode: k.z.enum(['ACCESS EXCLUSIVE', 'EXCLUSIVE', 'SHARE ROW EXCLUSIVE', 'SHARE', 'ROW EXCLUSIVE']).optional(),
    }),
    {
      does: (f, t) => `lock table ${f.table} (${f.mode ?? 'ACCESS EXCLUSIVE'}) on ${names(t)}`,
      ...held,
    },
  ),
] as const;
