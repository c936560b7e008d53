import type Docker from 'dockerode';
import type { FaultSpec } from '../spec/schema';
import type { ContainerRef, PlannedFault } from '../types';

type Stress = Extract<FaultSpec, { kind: 'docker-cpu-stress' | 'docker-memory-stress' }>;

// TODO(resource faults): not implemented yet.
export async function injectStress(_docker: Docker, fault: Stress, _c: ContainerRef, _planned: PlannedFault): Promise<void> {
  throw new Error(`${fault.kind} is not implemented yet`);
}

export async function revertStress(_docker: Docker, fault: Stress, _c: ContainerRef, _planned: PlannedFault): Promise<string> {
  throw new Error(`${fault.kind} is not implemented yet`);
}
