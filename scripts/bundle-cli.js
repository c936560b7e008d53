#!/usr/bin/env node
// The second half of `npm run build` (and of `prepare`, after `npm ci`): bundles the compiled CLI
// (dist/src/cli/main.js and what it reaches) into one file, dist/bundle/cli.js, which
// bin/gameday.js loads for the commands that start often (run, status, abort, validate, --help...).
// One file instead of ~450 modules saves their resolution, reads and compiles; bin/gameday.js adds
// a V8 code cache on top (src/cli/code-cache.ts). Measured in bench/cli-overhead.ts; see README.md.
const { rmSync } = require('node:fs');
const path = require('node:path');
const { readFile } = require('node:fs/promises');
const esbuild = require('esbuild');
const { leanProtoRootJson } = require('./proto-root');

const root = path.resolve(__dirname, '..');
const outfile = path.join(root, 'dist', 'bundle', 'cli.js');

/**
 * Packages of the commands that bin/gameday.js runs from the plain build (the worker, Docker,
 * PostgreSQL, the web server, the notifications): never in the bundle. Should a bundled command
 * reach one after all, it loads from node_modules as it would without the bundle.
 */
const EXTERNAL = ['@temporalio/worker', '@temporalio/activity', '@temporalio/testing', 'dockerode', 'pg', 'pg-query-stream', 'node-pg-migrate', 'fastify', 'nats', 'uplot', 'playwright-core'];

/**
 * commander requires node:child_process when it loads, for executable subcommands, which no
 * command here has: in the bundle it loads at the first spawn instead, so that no command's start
 * pays for it (test/unit/cli-start.test.ts checks that `validate` does not load it).
 */
const COMMANDER_CHILD_PROCESS = "const childProcess = require('node:child_process');";
function deferBuiltins(file, contents) {
  if (!/[\\/]commander[\\/]lib[\\/]command\.js$/.test(file)) return contents;
  if (!contents.includes(COMMANDER_CHILD_PROCESS)) throw new Error(`${file} no longer requires node:child_process as bundle-cli.js expects: update deferBuiltins`);
  return contents.replace(COMMANDER_CHILD_PROCESS, "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };");
}

/**
 * Each module of the bundle says when it runs, on a list that only a test's preload creates
 * (test/loaded-modules.ts): the bundle's stand-in for require.cache, so that a test can tell which
 * modules a command loaded. Without the list it is one property read per module.
 */
const record = (file) => `globalThis.__gamedayBundleModules?.push(${JSON.stringify(path.relative(root, file))});`;
const recordModules = {
  name: 'record-modules',
  setup(build) {
    build.onLoad({ filter: /\.(c|m)?js$/ }, async (args) => {
      const contents = deferBuiltins(args.path, await readFile(args.path, 'utf8'));
      // After a leading "use strict" and a shebang, which must stay first.
      const head = /^(#![^\n]*\n)?(\s*(['"])use strict\3;?)?/.exec(contents)[0];
      return { contents: head + record(args.path) + contents.slice(head.length), loader: 'js', resolveDir: path.dirname(args.path) };
    });
  },
};

/**
 * @temporalio/proto's root, as the bundle loads it: without the packages no bundled command
 * encodes (scripts/proto-root.js: a third less to build at start; the build fails if a type left
 * in refers to one taken out), parsed by JSON.parse (faster than an object literal this size),
 * with each type's features resolved at its first use (src/cli/proto-features.ts).
 */
const leanProtoRoot = {
  name: 'lean-proto-root',
  setup(build) {
    build.onLoad({ filter: /@temporalio[\\/]proto[\\/]protos[\\/]json-module\.js$/ }, (args) => {
      const json = leanProtoRootJson(args.path);
      const features = path.join(root, 'dist', 'src', 'cli', 'proto-features.js');
      const contents = [
        record(args.path),
        'var $protobuf = require("protobufjs/light");',
        `var $root = ($protobuf.roots["__temporal"] || ($protobuf.roots["__temporal"] = new $protobuf.Root())).addJSON(JSON.parse(${JSON.stringify(JSON.stringify(json))}));`,
        `require(${JSON.stringify(features)}).resolveFeaturesLazily($protobuf, $root);`,
        'module.exports = $root;',
      ].join('\n');
      return { contents, loader: 'js', resolveDir: path.dirname(args.path) };
    });
  },
};

/**
 * Modules of the run bundle's rare paths, loaded from the plain build (dist/src) when they are
 * reached: the gRPC fallback (the Temporal client, grpc-js, the protobuf root) and --dry-run (the
 * Docker client). Left in, they were most of the 2.5 MB every `run` read and compiled.
 */
const PLAIN_FROM_RUN = ['cli/run-grpc.js', 'cli/dry-run.js', 'temporal.js'].map((f) => path.join(root, 'dist', 'src', f));
const plainFromRun = {
  name: 'plain-from-run',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      const resolved = path.resolve(args.resolveDir, args.path.endsWith('.js') ? args.path : `${args.path}.js`);
      if (!PLAIN_FROM_RUN.includes(resolved)) return undefined;
      // Relative to the bundle's folder, where the bundle requires it from at run time.
      return { path: `./${path.relative(path.dirname(outfile), resolved).split(path.sep).join('/')}`, external: true };
    });
  },
};

/** What every bundle here is: one minified CommonJS file for this project's Node. */
const NODE_BUNDLE = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', minify: true, logLevel: 'warning' };

async function main() {
  // The code caches of the previous bundle (bin/gameday.js keeps them beside it) are stale now.
  rmSync(path.dirname(outfile), { recursive: true, force: true });
  // Minified (NODE_BUNDLE): less to read and to decode, a third the size, and pure ASCII (a comment
  // with one non-Latin-1 character makes V8 hold the whole source as a two-byte string). Stack
  // traces map back through cli.js.map with `node --enable-source-maps`.
  await esbuild.build({
    ...NODE_BUNDLE,
    entryPoints: [path.join(root, 'dist', 'src', 'cli', 'main.js')],
    outfile,
    sourcemap: true,
    external: EXTERNAL,
    plugins: [leanProtoRoot, recordModules],
    logOverride: {
      // src/worker's require.resolve('../../workflows'): the worker runs from the plain build.
      'require-resolve-not-external': 'silent',
    },
  });
  // `gameday run` alone (src/cli/run-main.ts): what a run over Temporal's HTTP API loads, a
  // fraction of the whole CLI's bundle; bin/gameday.js starts `run` from it.
  await esbuild.build({
    ...NODE_BUNDLE,
    entryPoints: [path.join(root, 'dist', 'src', 'cli', 'run-main.js')],
    outfile: path.join(path.dirname(outfile), 'run.js'),
    sourcemap: true,
    external: EXTERNAL,
    plugins: [plainFromRun, leanProtoRoot, recordModules],
  });
  // The HTTP fault proxy as one file with its libraries (http-proxy-3, picomatch): what a worker
  // starts in front of a dependency and what the demo system's scoring-proxy image runs.
  await esbuild.build({ ...NODE_BUNDLE, entryPoints: [path.join(root, 'dist', 'src', 'http-proxy', 'bin.js')], outfile: path.join(path.dirname(outfile), 'http-proxy.js') });
}

main().catch((e) => {
  console.error(`bundle-cli: ${e.message}`);
  process.exit(1);
});
