import type Docker from 'dockerode';
import type { PlannedFault } from '../types';
import { injectDockerFault, revertDockerFault } from './docker';

/**
 * Every fault family behind one small interface: inject, and revert (idempotent); describe.ts
 * says what a fault does in words.
 * Only Docker faults exist yet; each new family adds a file beside docker.ts and a case here.
 */
export interface FaultDeps {
  docker: Docker;
}

/** Injects a planned fault into every container of its target, in order. */
export async function injectFault(deps: FaultDeps, planned: PlannedFault): Promise<void> {
  for (const c of planned.target.containers) await injectDockerFault(deps.docker, planned.fault, c);
}

/** Reverts a planned fault on every container of its target; returns one line per container. */
export async function revertFault(deps: FaultDeps, planned: PlannedFault): Promise<string[]> {
  const done: string[] = [];
  for (const c of planned.target.containers) done.push(await revertDockerFault(deps.docker, planned.fault, c));
  return done;
}

