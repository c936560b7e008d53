import { withSecrets } from '../secrets';
import type { TargetKind } from '../spec/schema';
import type { PlannedFault } from '../types';
import { dockerFaults } from './docker';
import type { FaultAction, FaultDeps, FaultFamily, PlannedOf } from './family';
import { targetKindOf, type FaultKindName } from './kinds';
import { httpFaults } from './http';
import { postgresFaults } from './postgres';
import { processFaults } from './process';
import { proxyFaults } from './proxy';
import { toxiproxyFaults } from './toxiproxy';

export type { FaultDeps, TargetPolicy } from './family';

/**
 * Every fault family behind one small interface (family.ts): resolve a target, and each fault
 * kind's inject and revert (idempotent). Each kind's schema and words are in kinds/. One file per family.
 */
export const FAMILIES: { [K in TargetKind]: FaultFamily<K> } = {
  docker: dockerFaults,
  postgres: postgresFaults,
  toxiproxy: toxiproxyFaults,
  process: processFaults,
  http: httpFaults,
  proxy: proxyFaults,
};

/** What a planned fault's kind does, from its family's actions. */
function actionOf(planned: PlannedFault): FaultAction<FaultKindName> {
  const family = FAMILIES[targetKindOf(planned.fault.kind)] as FaultFamily;
  return (family.faults as Record<string, FaultAction<FaultKindName>>)[planned.fault.kind];
}

/**
 * Injects a planned fault into everything its target resolved to; returns what it did, in lines
 * (may be none). Secret references in its target and fault are resolved for this call only; their
 * values are scrubbed from its lines and errors.
 * @throws GamedayError SecretMissing when a variable is unset on this worker, before anything is touched.
 */
export async function injectFault(deps: FaultDeps, planned: PlannedFault): Promise<string[]> {
  return withSecrets(planned, deps.env ?? process.env, async (p) => (await actionOf(p).inject(deps, p as PlannedOf<FaultKindName>)) ?? [], `fault ${planned.id} (${planned.description})`, 'this fault was not injected');
}

/** Reverts a planned fault, idempotently; returns one line per thing it looked at. Secrets as injectFault. */
export async function revertFault(deps: FaultDeps, planned: PlannedFault): Promise<string[]> {
  return withSecrets(planned, deps.env ?? process.env, (p) => actionOf(p).revert(deps, p as PlannedOf<FaultKindName>), `fault ${planned.id} (${planned.description})`, 'the revert is retried until a worker that has it reverts the fault');
}
