#!/usr/bin/env node
// The compiled CLI: `npm ci` builds dist/ (the prepare script), as does `npm run build`: tsc, then
// scripts/bundle-cli.js. The commands that start often run from that bundle with a code cache
// (start-up is mostly loading modules); those that run a worker, Docker, PostgreSQL or a web
// server run from the plain build, where every package is the one in node_modules.
const { statSync } = require('node:fs');
const path = require('node:path');

const PLAIN = new Set(['dev', 'worker', 'agent', 'demo', 'serve', 'report', 'history']);
const dist = path.join(__dirname, '..', 'dist');
const main = path.join(dist, 'src', 'cli', 'main.js');
const bundle = path.join(dist, 'bundle', 'cli.js');

const mtime = (file) => statSync(file, { throwIfNoEntry: false })?.mtimeMs;
const mainBuilt = mtime(main);
if (mainBuilt === undefined) {
  console.error('gameday: not built yet: run `npm run build` in the project folder first');
  process.exit(1);
}
const first = process.argv.slice(2).find((a) => !a.startsWith('-'));
const command = first === undefined ? 'help' : /^[a-z-]+$/.test(first) ? first : 'other';
// `gameday run ...` (the command first): its own bundle, what a run over the HTTP API loads alone.
const own = command === 'run' && process.argv[2] === 'run' ? path.join(dist, 'bundle', 'run.js') : bundle;
const bundled = mtime(own);
// A bundle older than the plain build (tsc run alone) would be stale: the plain build then.
if (PLAIN.has(command) || bundled === undefined || bundled < mainBuilt) require(main).main();
else {
  const { codeCacheFile, requireWithCodeCache } = require(path.join(dist, 'src', 'cli', 'code-cache.js'));
  // A cache holds the functions that ran when it was made: `run --help`, or `run` without --wait,
  // runs a fraction of what `run --wait` does, and a cache made by one would leave the other to
  // compile the rest on every start. Each way of running a command has a cache of its own.
  const modes = [...new Set(process.argv.slice(2).flatMap((a) => (a === '-h' || a === '--help' ? ['help'] : a === '--wait' || a === '--dry-run' ? [a.slice(2)] : [])))].sort();
  requireWithCodeCache(own, codeCacheFile(own, [command, ...modes].join('-'))).exports.main();
}
