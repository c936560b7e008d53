import { z } from 'zod';
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
