/**
 * The report's rollback procedure: what was injected and how each fault is undone and checked by
 * hand, newest first as the rollback itself goes, in the words of each fault's kind (src/faults/kinds).
 */
import { checkCommand, manualRevert } from '../faults/describe';
import { maskPasswords } from '../mask';
import type { PlannedFault } from '../types';

/** One fault to undo by hand, should everything else fail. */
export interface ProcedureStep {
  id: string;
  description: string;
  /** What the run recorded: reverted at …, or NOT REVERTED. */
  state: string;
  /** The command that undoes it (passwords in URLs masked). */
  revert: string;
  /** A command that shows it is undone, and what it shows then; absent when nothing can tell. */
  check?: { command: string; shows: string };
}

/** The steps, newest fault first; empty when nothing was injected. */
export function rollbackProcedure(faults: PlannedFault[]): ProcedureStep[] {
  return [...faults].reverse().map((f) => {
    const check = checkCommand(f);
    return {
      id: f.id,
      description: f.description,
      state: f.revertedAt ? `reverted at ${f.revertedAt}` : f.status === 'inject-failed' ? `inject failed${f.error ? ` (${f.error})` : ''}; no revert recorded` : 'NOT REVERTED',
      revert: maskPasswords(manualRevert(f)),
      ...(check ? { check: { command: check[0], shows: check[1] } } : {}),
    };
  });
}
