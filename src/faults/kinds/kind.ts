/**
 * One fault kind, defined in one place: its fields (a zod schema) and what people read about it
 * (what it does, how to undo it by hand, how to check it is undone). Pure code: the experiment
 * workflow plans faults with these words, the loader validates with the schema. What a kind does
 * to the world (inject, revert) lives in its family's file under src/faults/, keyed by the same
 * kind name, so that the compiler checks both are complete (see FaultActions in ../family.ts).
 */
import { z } from 'zod';
import { name } from '../../spec/common';
import type { PlannedFault, ResolvedTarget } from '../../types';

/** The field every fault has: the name of an entry in the experiment's targets. */
export const target = name.describe('the name of an entry in targets');

/** The fields of a fault of kind N with extra fields S, as the loader returns them. */
export type FaultFields<N extends string, S extends z.ZodRawShape> = z.infer<z.ZodObject<{ kind: z.ZodLiteral<N>; target: typeof target } & S>>;

/** What the report says about one fault kind. */
export interface FaultWords<F> {
  /** What the fault does, in one line: "pause container demo-nats". */
  does(fault: F, target: ResolvedTarget): string;
  /** The commands that undo it by hand, should everything else fail. */
  undo(fault: F, planned: PlannedFault): string;
  /** A command that shows it is undone, and what it shows then; absent when nothing can tell. */
  check?(fault: F, planned: PlannedFault): [command: string, shows: string] | undefined;
}

/** A fault kind: its schema and its words. */
export interface FaultKind<N extends string, S extends z.ZodRawShape> extends FaultWords<FaultFields<N, S>> {
  kind: N;
  schema: z.ZodObject<{ kind: z.ZodLiteral<N>; target: typeof target } & S, z.core.$strict>;
}

/**
 * Defines a fault kind. The word before its first dash is the target kind it needs
 * (docker-…, postgres-…); the registry (./index.ts) checks that this word is a target kind.
 */
export function faultKind<const N extends string, S extends z.ZodRawShape>(kind: N, shape: S, words: FaultWords<FaultFields<N, S>>): FaultKind<N, S> {
  const schema = z.strictObject({ kind: z.literal(kind), target, ...shape }) as unknown as FaultKind<N, S>['schema'];
  return { kind, schema, ...words };
}
