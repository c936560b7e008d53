/**
 * The faults of an experiment file, by kind. Each kind is defined once, with its words for the
 * reports, in src/faults/kinds/ (one file per family); this builds the loader's schema from their
 * fields.
 */
import { z } from 'zod';
import { FAULT_KINDS } from '../faults/kinds';
import type { FaultKind } from '../faults/kinds/kind';
import { FAULT_FIELDS, targetField } from './fault-fields';

type Schemas<T extends readonly unknown[]> = {
  -readonly [I in keyof T]: T[I] extends FaultKind<infer N, infer S> ? z.ZodObject<{ kind: z.ZodLiteral<N>; target: typeof targetField } & S, z.core.$strict> : never;
};

/** Every fault kind's fields, with its kind and its target; every kind has an idempotent revert. */
export const faultSchema = z.discriminatedUnion(
  'kind',
  FAULT_KINDS.map((k) => z.strictObject({ kind: z.literal(k.kind), target: targetField, ...k.fields(FAULT_FIELDS) })) as unknown as Schemas<typeof FAULT_KINDS>,
);

export { targetKindOf, type FaultKindName } from '../faults/kinds';
