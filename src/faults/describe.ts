/**
 * What a fault does, in words, and how to undo it by hand. Pure code: the experiment workflow
 * imports it for the status query, the reports and the search attributes.
 */
import { maskPasswords } from '../mask';
import type { FaultSpec } from '../spec/schema';
import type { PlannedFault, ResolvedTarget } from '../types';
import { faultCheck, faultDoes, faultUndo } from './kinds';

export { targetRefs } from './refs';


/** One line for people: "pause container demo-nats"; any password in it masked. */
export function describeFault(fault: FaultSpec, target: ResolvedTarget): string {
  const host = target.spec?.host;
  return maskPasswords(faultDoes(fault, target)) + (host ? ` on host ${host}` : '');
}

/** The commands that undo a fault by hand, should everything else fail (for the report); passwords masked. */
export function manualRevert(f: PlannedFault): string {
  const host = f.target.spec?.host;
  return (host ? `on host ${host}: ` : '') + maskPasswords(faultUndo(f));
}

/** A command that shows a fault is undone, and what it shows then (passwords masked); undefined when nothing can tell. */
export function checkCommand(f: PlannedFault): [command: string, shows: string] | undefined {
  const check = faultCheck(f);
  return check && [maskPasswords(check[0]), check[1]];
}

/**
 * The tag a fault's leftovers carry: `gameday-<8 hex of the workflow id>-<fault id>`, short enough
 * for a PostgreSQL application_name (63 bytes). FNV-1a, pure, so that the workflow computes it.
 */
export function faultTag(workflowId: string, faultId: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < workflowId.length; i++) {
    h ^= workflowId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `gameday-${h.toString(16).padStart(8, '0')}-${faultId}`;
}

/**
 * A fault as the experiment workflow plans it, before its inject is scheduled: described, tagged
 * (from the workflow id) and with its duration, status `planned`. Pure: the workflow calls it, and
 * so do tests and the bench that drive a fault family directly.
 */
export function planFault(workflowId: string, id: string, step: number, fault: FaultSpec, target: ResolvedTarget, durationMs: number): PlannedFault {
  return { id, step, fault, target, status: 'planned', description: describeFault(fault, target), tag: faultTag(workflowId, id), durationMs };
}
