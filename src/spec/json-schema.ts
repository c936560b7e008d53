import { z } from 'zod';
import { scenarioSchema } from './scenario';
import { experimentSchema } from './schema';

/**
 * The experiment file's JSON Schema, for editors (`# yaml-language-server: $schema=...`).
 * Generated from the zod schema, so the two cannot drift; the cross-field checks (a fault's
 * target must exist, expectations name fields the probe measures) are only in `gameday validate`.
 */
export function experimentJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(experimentSchema, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://gameday.dev/schema/experiment.schema.json',
    title: 'Gameday experiment',
  };
}

/** The scenario file's JSON Schema (see experimentJsonSchema). */
export function scenarioJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(scenarioSchema, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://gameday.dev/schema/scenario.schema.json',
    title: 'Gameday scenario',
  };
}
