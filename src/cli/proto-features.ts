/*
 * protobufjs 8 resolves the "editions" features (field presence, enum closedness, encodings) of
 * the whole root at the first encode or decode of any type: for @temporalio/proto's root (~2,000
 * types) that walk is the largest part of the CLI's start, 120 ms on a quiet machine, for the few
 * types a command uses. The CLI bundle (scripts/bundle-cli.js) resolves each type's features at
 * its own first use instead, exactly as the walk would have resolved them:
 * test/unit/proto-features.test.ts compares every field's and enum's features with the walk's.
 */

/** The parts of protobufjs's reflection objects that feature resolution reads and writes. */
interface Reflected {
  parent: Reflected | null;
  _edition?: string | null;
  _needsRecursiveFeatureResolution?: boolean;
  _resolveFeatures(edition: string): void;
  _resolveFeaturesRecursive(edition: string): void;
}

interface ReflectedType extends Reflected {
  fieldsArray: { declaringField?: Reflected | null; resolve(): { resolvedType: unknown } }[];
  setup(): unknown;
}

/** What this needs of the protobufjs module that built the root. */
export interface Protobuf {
  Type: { prototype: ReflectedType };
  Enum: abstract new (...args: never[]) => unknown;
}

/** `o`'s ancestors and `o`, from the root down. */
function lineOf(o: Reflected): Reflected[] {
  const line: Reflected[] = [];
  for (let p: Reflected | null = o; p; p = p.parent) line.unshift(p);
  return line;
}

/**
 * Resolves the features of `o` and of what it holds (its fields, oneofs and nested types for a
 * type, its values for an enum) with the edition the recursive walk would pass it, after its
 * ancestors' own features (each inherits its parent's), once.
 */
function resolveFeaturesOf(o: Reflected): void {
  let edition = '';
  for (const p of lineOf(o)) {
    edition = p._edition || edition;
    if (p === o) break;
    p._resolveFeatures(edition);
  }
  o._resolveFeaturesRecursive(edition);
}

/**
 * Makes the types of `root` resolve their features at their first use (encode, decode,
 * fromObject, toObject, verify: all go through Type#setup), with the enums their fields use and
 * the extensions that add fields to them, instead of the whole root at the first use of any. Other roots keep protobufjs's own way.
 */
export function resolveFeaturesLazily(pb: Protobuf, root: Reflected): void {
  root._needsRecursiveFeatureResolution = false;
  const setup = pb.Type.prototype.setup;
  pb.Type.prototype.setup = function setupResolvingOwnFeatures(this: ReflectedType) {
    if (lineOf(this)[0] === root) {
      resolveFeaturesOf(this);
      for (const field of this.fieldsArray) {
        const type = field.resolve().resolvedType;
        if (type instanceof pb.Enum) resolveFeaturesOf(type as unknown as Reflected);
        // A field an extension adds takes its features from the extension, declared elsewhere.
        if (field.declaringField) resolveFeaturesOf(field.declaringField);
      }
    }
    return setup.call(this);
  };
}
