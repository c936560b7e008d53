/**
 * Every fault kind, each defined once in its family's file here (fields and words): the list the
 * loader builds its schema from (src/spec/fault-schema.ts) and the words the reports use. Adding a kind: define it in
 * its family's file here, add its inject and revert to the family's actions (src/faults/<family>.ts);
 * the compiler refuses a family whose actions miss a kind, and a kind whose first word is not a
 * target kind. Pure code without zod at run time (the workflow plans faults with these words).
 */
import type { FaultSpec } from '../../spec/schema';
import type { PlannedFault, ResolvedTarget } from '../../types';
import type { TargetKind } from '../../spec/target-schema';
import { DOCKER_KINDS } from './docker';
import { HTTP_KINDS } from './http';
import type { FaultWords } from './kind';
import { POSTGRES_KINDS } from './postgres';
import { PROCESS_KINDS } from './process';
import { PROXY_KINDS } from './proxy';
import { TOXIPROXY_KINDS } from './toxiproxy';

/** Every fault kind, family by family. */
export const FAULT_KINDS = [...DOCKER_KINDS, ...POSTGRES_KINDS, ...TOXIPROXY_KINDS, ...PROCESS_KINDS, ...HTTP_KINDS, ...PROXY_KINDS] as const;

/** The name of a fault kind: "docker-pause". */
export type FaultKindName = (typeof FAULT_KINDS)[number]['kind'];

/** The target kind a fault kind needs: the word before its first dash. */
export type TargetKindOfFault<K extends string> = K extends `${infer T}-${string}` ? T : never;

// A kind whose first word is no target kind does not compile.
const everyKindHasATargetKind: TargetKindOfFault<FaultKindName> extends TargetKind ? true : never = true;
void everyKindHasATargetKind;

/** The target kind a fault needs: the word before its first dash. */
export function targetKindOf<K extends FaultKindName>(faultKind: K): TargetKindOfFault<K> {
  return faultKind.slice(0, faultKind.indexOf('-')) as TargetKindOfFault<K>;
}

const BY_NAME = new Map<string, FaultWords<never>>(FAULT_KINDS.map((k) => [k.kind, k as unknown as FaultWords<never>]));

function wordsOf<F extends FaultSpec>(fault: F): FaultWords<F> {
  return BY_NAME.get(fault.kind) as unknown as FaultWords<F>;
}

/** What a fault does, in one line (before masking and the host). */
export function faultDoes(fault: FaultSpec, target: ResolvedTarget): string {
  return wordsOf(fault).does(fault, target);
}

/** The commands that undo a planned fault by hand (before masking and the host). */
export function faultUndo(planned: PlannedFault): string {
  return wordsOf(planned.fault).undo(planned.fault, planned);
}

/** A command that shows the planned fault is undone and what it shows then; undefined when nothing can tell. */
export function faultCheck(planned: PlannedFault): [command: string, shows: string] | undefined {
  return wordsOf(planned.fault).check?.(planned.fault, planned);
}

const COMMAND_FIELDS = new Map<string, readonly string[]>(FAULT_KINDS.map((k) => [k.kind, ('commands' in k ? k.commands : undefined) ?? []]));

/** The fields of a fault kind that hold a command a host runs (none for most kinds). */
export function commandFieldsOf(kind: string): readonly string[] {
  return COMMAND_FIELDS.get(kind) ?? [];
}
