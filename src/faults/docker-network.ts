import type Docker from 'dockerode';
import type { FaultSpec } from '../spec/schema';
import type { ContainerRef, PlannedFault } from '../types';

type Disconnect = Extract<FaultSpec, { kind: 'docker-disconnect' }>;
type PacketLoss = Extract<FaultSpec, { kind: 'docker-packet-loss' }>;

// TODO(network faults): not implemented yet; the schema names them so that the families agree.
function notYet(kind: string): never {
  throw new Error(`${kind} is not implemented yet`);
}

export async function injectDisconnect(_docker: Docker, fault: Disconnect, _c: ContainerRef): Promise<void> {
  notYet(fault.kind);
}

export async function revertDisconnect(_docker: Docker, fault: Disconnect, _c: ContainerRef): Promise<string> {
  notYet(fault.kind);
}

export async function injectPacketLoss(_docker: Docker, fault: PacketLoss, _c: ContainerRef, _planned: PlannedFault): Promise<void> {
  notYet(fault.kind);
}

export async function revertPacketLoss(_docker: Docker, fault: PacketLoss, _c: ContainerRef, _planned: PlannedFault): Promise<string> {
  notYet(fault.kind);
}
