import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { experimentJsonSchema, scenarioJsonSchema } from '../../src/spec/json-schema';

const ROOT = path.resolve(__dirname, '..', '..', '..');

test('the committed JSON Schema matches the zod schema (regenerate with: npx gameday schema --out schema/experiment.schema.json)', async () => {
  const committed = JSON.parse(await readFile(path.join(ROOT, 'schema', 'experiment.schema.json'), 'utf8')) as unknown;
  assert.deepEqual(committed, experimentJsonSchema());
});

test('the JSON Schema rejects unknown keys and requires the hypothesis', () => {
  const schema = experimentJsonSchema() as { additionalProperties?: boolean; required?: string[] };
  assert.equal(schema.additionalProperties, false);
  assert.ok(schema.required?.includes('hypothesis'));
});

test('the committed scenario JSON Schema matches the zod schema (regenerate with: npx gameday schema --scenario --out schema/scenario.schema.json)', async () => {
  const committed = JSON.parse(await readFile(path.join(ROOT, 'schema', 'scenario.schema.json'), 'utf8')) as unknown;
  assert.deepEqual(committed, scenarioJsonSchema());
});
