#!/usr/bin/env node
// `npm test`: provisions the local stack (idempotent; fast when it already runs), then runs every
// compiled test file with node's test runner, which prints the pass/fail counts at the end.
const { spawnSync } = require('node:child_process');
const { readdirSync, statSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const provision = spawnSync('bash', [path.join(root, 'scripts', 'provision.sh')], { stdio: 'inherit' });
if (provision.status !== 0) process.exit(provision.status ?? 1);

function testFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return testFiles(full);
    return name.endsWith('.test.js') ? [full] : [];
  });
}

const only = process.argv.slice(2);
const files = only.length > 0 ? only : testFiles(path.join(root, 'dist', 'test')).sort();
// Activity failures that tests provoke on purpose would flood the output at the SDK's default level.
// Workers the tests start (in-process and through the CLI) keep no janitor schedule: one would
// revert other tests' faults of terminated runs (janitor.test.ts keeps one of its own, scoped).
const env = { GAMEDAY_LOG_LEVEL: 'ERROR', GAMEDAY_JANITOR: 'off', ...process.env };
// One file at a time: files share the Docker engine and the Temporal server, and 'abort --all'
// halts every running experiment on it.
const run = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { stdio: 'inherit', cwd: root, env });
process.exit(run.status ?? 1);
