/**
 * The CLI bundle's @temporalio/proto root resolves each type's "editions" features at its first
 * use (src/cli/proto-features.ts) instead of the whole root at once: every field, oneof and enum
 * must end up with the features protobufjs's own walk gives it, and messages must encode to the
 * same bytes.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import * as protobuf from 'protobufjs/light';
import { resolveFeaturesLazily, type Protobuf } from '../../src/cli/proto-features';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const { leanProtoRootJson } = require(path.join(ROOT, 'scripts', 'proto-root.js')) as { leanProtoRootJson(): protobuf.INamespace['nested'] };

type Features = { _features?: unknown; _valuesFeatures?: unknown };
const json = leanProtoRootJson();

/** Every type and enum of `root`, by full name. */
function reflected(root: protobuf.Root): Map<string, protobuf.Type | protobuf.Enum> {
  const all = new Map<string, protobuf.Type | protobuf.Enum>();
  const visit = (ns: protobuf.NamespaceBase): void => {
    for (const o of ns.nestedArray) {
      if (o instanceof protobuf.Type || o instanceof protobuf.Enum) all.set(o.fullName, o);
      if (o instanceof protobuf.Namespace || o instanceof protobuf.Type) visit(o);
    }
  };
  visit(root);
  return all;
}

/** What the features of a type or an enum came to: its own, and each field's, oneof's or value's. */
function featuresOf(o: protobuf.Type | protobuf.Enum): unknown {
  const f = (x: unknown) => (x as Features)._features;
  if (o instanceof protobuf.Enum) return { own: f(o), values: (o as unknown as Features)._valuesFeatures };
  return { own: f(o), fields: o.fieldsArray.map((x) => [x.name, f(x)]), oneofs: o.oneofsArray.map((x) => [x.name, f(x)]) };
}

const walked = new protobuf.Root();
walked.addJSON(structuredClone(json!)).resolveAll();
const lazy = new protobuf.Root();
lazy.addJSON(structuredClone(json!));
resolveFeaturesLazily(protobuf as unknown as Protobuf, lazy as never);

test('a message encodes to the same bytes through the lazily resolved root as through the walked one', () => {
  const name = 'temporal.api.workflowservice.v1.StartWorkflowExecutionRequest';
  const message = { namespace: 'default', workflowId: 'w', workflowType: { name: 'experiment' }, taskQueue: { name: 'q', kind: 1 }, input: { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{}') }] }, requestEagerExecution: false, workflowIdReusePolicy: 0 };
  const bytes = (root: protobuf.Root) => Buffer.from(root.lookupType(name).encode(root.lookupType(name).fromObject(message)).finish()).toString('hex');
  assert.equal(bytes(lazy), bytes(walked));
});

test('every type used through the lazily resolved root has the features the whole-root walk gives it, and so has every enum its fields use', () => {
  const before = reflected(lazy);
  // Nested types first: each must resolve its parents' features itself.
  for (const o of [...before.values()].reverse()) if (o instanceof protobuf.Type) o.setup();
  const used = new Set([...before.values()].flatMap((o) => (o instanceof protobuf.Type ? o.fieldsArray.map((f) => f.resolvedType?.fullName) : [])));
  const expected = [...reflected(walked)].filter(([name, o]) => o instanceof protobuf.Type || used.has(name));
  assert.ok(expected.length > 500, `the root holds ${expected.length} types and enums in use`);
  const differ = expected.filter(([name, o]) => JSON.stringify(featuresOf(before.get(name)!)) !== JSON.stringify(featuresOf(o))).map(([name]) => name);
  assert.deepEqual(differ, []);
});
