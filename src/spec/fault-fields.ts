/**
 * The zod pieces fault kinds build their fields from. The kinds (src/faults/kinds/) take them as
 * an argument instead of importing zod, so that the words the workflow plans faults with do not
 * bring zod into the workflow bundle; only the loader's schema (fault-schema.ts) calls them.
 */
import { z } from 'zod';
import { name } from './common';
import { boundedInt, commandSchema, commandTimeout, faultDelay, stopTimeout, toxicTimeout } from './limits';

/** The field every fault has: the name of an entry in the experiment's targets. */
export const targetField = name.describe('the name of an entry in targets');

export const FAULT_FIELDS = {
  z,
  name,
  boundedInt,
  faultDelay,
  stopTimeout,
  toxicTimeout,
  /** A command: a string run with sh -c, or a list of words. */
  command: commandSchema,
  commandTimeout,
  /** A share of connections, packets or requests. */
  percent: z.number().gt(0, { error: 'must be more than 0' }).max(100, { error: 'must be at most 100' }),
  signal: z.string().regex(/^(SIG)?[A-Z0-9]+$/, { error: 'expected a signal name such as SIGKILL or SIGTERM' }),
  /** Which way a toxic acts on a TCP stream. */
  direction: z.enum(['downstream', 'upstream']),
};

export type FaultFieldKit = typeof FAULT_FIELDS;
