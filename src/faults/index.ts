import { withSecrets } from '../secrets';
import type { TargetKind } from '../spec/schema';
import { targetKindOf } from '../spec/schema';
import type { PlannedFault } from '../types';
import { dockerFaults } from './docker';
import type { FaultDeps, FaultFamily } from './family';
import { httpFaults } from './http';
import { postgresFaults } from './postgres';
import { processFaults } from './process';
import { toxiproxyFaults } from './toxiproxy';

export type { FaultDeps, TargetPolicy } from './family';

/**
 * Every fault family behind one small interface (family.ts): resolve a target, inject, revert
 * (idempotent). describe.ts says what a fault does in words. One file per family.
 */
export const FAMILIES: { [K in TargetKind]: FaultFamily<K> } = {
  docker: dockerFaults,
  postgres: postgresFaults,
  toxiproxy: toxiproxyFaults,
  process: processFaults,
  http: httpFaults,
};

function familyOf(planned: PlannedFault): FaultFamily {
  return FAMILIES[targetKindOf(planned.fault.kind)] as FaultFamily;
}

/**
 * Injects a planned fault into everything its target resolved to; returns what it did, in lines
 * (may be none). Secret references in its target and fault are resolved for this call only; their
 * values are scrubbed from its lines and errors.
 * @throws GamedayError SecretMissing when a variable is unset on this worker, before anything is touched.
 */
export async function injectFault(deps: FaultDeps, planned: PlannedFault): Promise<string[]> {
  return withSecrets(planned, deps.env ?? process.env, async (p) => (await familyOf(p).inject(deps, p)) ?? [], `fault ${planned.id} (${planned.description})`, 'this fault was not injected');
}

/** Reverts a planned fault, idempotently; returns one line per thing it looked at. Secrets as injectFault. */
export async function revertFault(deps: FaultDeps, planned: PlannedFault): Promise<string[]> {
  return withSecrets(planned, deps.env ?? process.env, (p) => familyOf(p).revert(deps, p), `fault ${planned.id} (${planned.description})`, 'the revert is retried until a worker that has it reverts the fault');
}
