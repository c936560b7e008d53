// @temporalio/proto's root as the CLI bundle holds it (scripts/bundle-cli.js): the JSON its
// json-module.js hands to Root#addJSON, less the packages no bundled command encodes.
const { readFileSync } = require('node:fs');

/** The worker's bridge protocol and the Cloud Ops API: no bundled command encodes them. */
const UNUSED_PROTO_PACKAGES = ['coresdk', 'temporal.api.cloud'];

/** The JSON that json-module.js `file` hands to Root#addJSON, read by running it with a stand-in protobufjs. */
function protoRootJson(file) {
  let json;
  const stub = { roots: {}, Root: class { addJSON(j) { json = j; return this; } } };
  new Function('require', 'module', 'exports', readFileSync(file, 'utf8'))(() => stub, { exports: {} }, {});
  return json;
}

/** That JSON without UNUSED_PROTO_PACKAGES; throws if a type left in refers to one taken out. */
function leanProtoRootJson(file = require.resolve('@temporalio/proto/protos/json-module.js')) {
  const json = protoRootJson(file);
  for (const name of UNUSED_PROTO_PACKAGES) {
    const parts = name.split('.');
    const last = parts.pop();
    delete parts.reduce((nested, part) => nested[part].nested, json)[last];
  }
  new (require('protobufjs/light').Root)().addJSON(structuredClone(json)).resolveAll();
  return json;
}

module.exports = { UNUSED_PROTO_PACKAGES, leanProtoRootJson };
