/**
 * One fault kind, defined in one place: its fields (zod, built from the kit the loader passes in)
 * and what people read about it (what it does, how to undo it by hand, how to check it is undone).
 * Pure code without zod at run time: the experiment workflow plans faults with these words, the
 * loader builds its schema from the fields (src/spec/fault-schema.ts). What a kind does
 * to the world (inject, revert) lives in its family's file under src/faults/, keyed by the same
 * kind name, so that the compiler checks both are complete (see FaultActions in ../family.ts).
 */
import type { z } from 'zod';
import type { FaultFieldKit } from '../../spec/fault-fields';
import type { PlannedFault, ResolvedTarget } from '../../types';

/** The fields of a fault of kind N with extra fields S, as the loader returns them. */
export type FaultFields<N extends string, S extends z.ZodRawShape> = z.infer<z.ZodObject<{ kind: z.ZodLiteral<N>; target: z.ZodString } & S>>;

/** What the report says about one fault kind. */
export interface FaultWords<F> {
  /** What the fault does, in one line: "pause container demo-nats". */
  does(fault: F, target: ResolvedTarget): string;
  /** The commands that undo it by hand, should everything else fail. */
  undo(fault: F, planned: PlannedFault): string;
  /** A command that shows it is undone, and what it shows then; absent when nothing can tell. */
  check?(fault: F, planned: PlannedFault): [command: string, shows: string] | undefined;
  /**
   * Its fields that hold a command a host runs: a worker runs them only when a file of its
   * catalog holds them, or it allows inline commands (src/commands/policy.ts).
   */
  commands?: readonly (keyof F & string)[];
}

/** A fault kind: its fields and its words. */
export interface FaultKind<N extends string, S extends z.ZodRawShape> extends FaultWords<FaultFields<N, S>> {
  kind: N;
  /** Its fields besides kind and target, built from the loader's kit. */
  fields(kit: FaultFieldKit): S;
}

/**
 * Defines a fault kind. The word before its first dash is the target kind it needs
 * (docker-…, postgres-…); the registry (./index.ts) checks that this word is a target kind.
 */
export function faultKind<const N extends string, S extends z.ZodRawShape>(kind: N, fields: (kit: FaultFieldKit) => S, words: FaultWords<FaultFields<N, S>>): FaultKind<N, S> {
  return { kind, fields, ...words };
}
