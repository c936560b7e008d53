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

/** Injects a planned fault into everything its target resolved to; returns what it did, in lines (may be none). */
export async function injectFault(deps: FaultDeps, planned: PlannedFault): Promise<string[]> {
  return (await familyOf(planned).inject(deps, planned)) ?? [];
}

/** Reverts a planned fault, idempotently; returns one line per thing it looked at. */
export async function revertFault(deps: FaultDeps, planned: PlannedFault): Promise<string[]> {
  return familyOf(planned).revert(deps, planned);
}
