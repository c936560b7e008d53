import type { FaultKey, JanitorMemory, Orphan, OrphanSearch } from '../src/janitor';
import type { PlannedFault } from '../src/types';

/**
 * The janitor's memory, pure: which faults an earlier run handled (to skip them), and what this
 * run hands to the next one. Handled faults are kept only as long as their run can be listed
 * again (closed after the next list minus the margin); pending ones until they are handled.
 */

const keyOf = (k: FaultKey): string => `${k.workflowId}/${k.runId}/${k.faultId}`;

/** The key of one fault of one orphan. */
export function faultKey(o: Orphan, f: PlannedFault): FaultKey {
  return { workflowId: o.workflowId, runId: o.runId, faultId: f.id, ...(o.closedAt ? { closedAt: o.closedAt } : {}) };
}

/** Tells whether the memory the search started from records this fault as handled. */
export function handledBefore(search: OrphanSearch): (k: FaultKey) => boolean {
  const handled = new Set((search.previous?.memory.handled ?? []).map(keyOf));
  return (k) => handled.has(keyOf(k));
}

/** The memory this run hands on: what it and its predecessor handled, still listable; what it left pending. */
export function nextMemory(search: OrphanSearch, handled: FaultKey[], pending: FaultKey[]): JanitorMemory {
  const keepAfter = Date.parse(search.listedAt) - search.marginMs;
  const byKey = new Map<string, FaultKey>();
  for (const k of [...(search.previous?.memory.handled ?? []), ...handled]) {
    if (!k.closedAt || Date.parse(k.closedAt) > keepAfter) byKey.set(keyOf(k), k);
  }
  return { listedAt: search.listedAt, handled: [...byKey.values()], pending };
}

/** A search result as runs recorded before the memory existed returned it (a plain list). */
export function asSearch(found: OrphanSearch | Orphan[]): OrphanSearch | { orphans: Orphan[]; listedAt?: undefined; previous?: undefined } {
  return Array.isArray(found) ? { orphans: found } : found;
}
