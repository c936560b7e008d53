import { createHash } from 'node:crypto';
import { FailureType, GamedayError } from '../errors';
import type { PlannedFault } from '../types';
import { addressNotAllowed, type FaultDeps, type FaultFamily } from './family';

/** "postgres 127.0.0.1:15432/app": the server and database of a connection string, without credentials. */
export function describeConnection(connectionString: string): { id: string; name: string; url: URL } {
  const url = new URL(connectionString);
  const db = url.pathname.replace(/^\//, '') || url.username || 'postgres';
  const name = `postgres ${url.hostname}:${url.port || '5432'}/${db}`;
  return { id: createHash('sha256').update(name).digest('hex'), name, url };
}

// TODO(postgres faults): inject and revert are not implemented yet.
async function notYet(_deps: FaultDeps, planned: PlannedFault): Promise<never> {
  throw new Error(`${planned.fault.kind} is not implemented yet`);
}

export const postgresFaults: FaultFamily<'postgres'> = {
  async resolve(_deps, name, spec, policy) {
    const { id, name: server, url } = describeConnection(spec.connectionString);
    const why = addressNotAllowed(url, policy);
    if (why) throw new GamedayError(FailureType.TargetNotAllowed, `target '${name}': ${why}`);
    return { selector: server, refs: [{ id, name: server }] };
  },
  inject: notYet,
  revert: notYet,
};
