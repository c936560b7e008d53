/**
 * What the CLI loads to start: the commands that start often run from the bundle
 * (dist/bundle/cli.js) and load only what they use; the code cache is taken on the second start.
 * Real processes of the built CLI; nothing here needs the local stack. Which modules load is
 * asserted, never how long they take (bench/cli-overhead.ts measures that).
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { codeCacheFile } from '../../src/cli/code-cache';
import { gameday, gamedayLoading, ROOT, runNode } from '../cli-process';

const EXPERIMENT = path.join(ROOT, 'experiments', 'chaos-001-nats-broker-pause.yaml');
const BUNDLE = path.join(ROOT, 'dist', 'bundle', 'cli.js');
/** Packages that no light command needs: the Temporal client and worker, gRPC, Docker, PostgreSQL, the web server, NATS. */
const HEAVY = ['@temporalio/', '@grpc/', 'protobufjs', 'dockerode', 'pg', 'node-pg-migrate', 'fastify', 'nats', 'webpack'];

const packagesIn = (loaded: string[], name: string): string[] => loaded.filter((f) => f.includes(`/node_modules/${name}`));
/** The project's own modules loaded from the plain build (dist/src, dist/workflows...), not from the bundle; the tests' preload aside. */
const plainModules = (required: string[]): string[] => required.filter((f) => f.startsWith(path.join(ROOT, 'dist')) && !f.startsWith(path.join(ROOT, 'dist', 'bundle')) && !f.startsWith(path.join(ROOT, 'dist', 'test')));

describe('the CLI start', () => {
  test('--help runs from the bundle and loads commander alone: no schema library, YAML parser, Temporal, gRPC, Docker or PostgreSQL module', async () => {
    const { run, loaded, required } = await gamedayLoading(['--help']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^ {2}run \[options\] <fileOrId>/m);
    assert.ok(required.includes(BUNDLE), 'the bundle is loaded');
    assert.ok(packagesIn(loaded, 'commander/').length > 0 && packagesIn(required, 'commander/').length === 0, 'commander is one of the modules the bundle ran');
    // Of the plain build only the code cache's loader, which loads the bundle.
    assert.deepEqual(plainModules(required), [path.join(ROOT, 'dist', 'src', 'cli', 'code-cache.js')]);
    for (const heavy of [...HEAVY, 'zod', 'yaml']) assert.deepEqual(packagesIn(loaded, heavy), [], heavy);
  });

  test('validate loads the schemas and the YAML parser, and no Temporal, gRPC, Docker or PostgreSQL module, nor node:child_process (commander\'s, deferred in the bundle)', async () => {
    const { run, loaded, builtins } = await gamedayLoading(['validate', EXPERIMENT]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /1 file valid/);
    assert.ok(packagesIn(loaded, 'zod/').length > 0 && packagesIn(loaded, 'yaml/').length > 0);
    for (const heavy of HEAVY) assert.deepEqual(packagesIn(loaded, heavy), [], heavy);
    assert.ok(!builtins.includes('child_process'), 'node:child_process is not loaded');
  });

  test('schema and the help of run, status and abort load no Temporal, gRPC, Docker or PostgreSQL module', async () => {
    for (const args of [['schema'], ['run', '--help'], ['status', '--help'], ['abort', '--help'], ['schedule', '--help']]) {
      const { run, loaded } = await gamedayLoading(args);
      assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
      for (const heavy of HEAVY) assert.deepEqual(packagesIn(loaded, heavy), [], `${args.join(' ')}: ${heavy}`);
    }
  });

  test('worker, agent, dev, serve and the other commands of the worker and the stores run from the plain build, and their help loads nothing heavy', async () => {
    for (const command of ['worker', 'agent', 'dev', 'demo', 'serve', 'report', 'history']) {
      const { run, loaded, required } = await gamedayLoading([command, '--help']);
      assert.equal(run.code, 0, `${command}: ${run.stderr}`);
      assert.ok(!required.includes(BUNDLE), `${command} does not load the bundle`);
      assert.ok(required.includes(path.join(ROOT, 'dist', 'src', 'cli', 'main.js')), `${command} loads the plain build`);
      for (const heavy of HEAVY) assert.deepEqual(packagesIn(loaded, heavy), [], `${command}: ${heavy}`);
    }
  });

  test('the bundle prints the same help as the plain build it was made from', async () => {
    const script = path.join(await mkdtemp(path.join(os.tmpdir(), 'gameday-plain-')), 'plain.js');
    await writeFile(script, `require(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'cli', 'main.js'))}).main();\n`);
    for (const args of [['--help'], ['run', '--help'], ['schedule', '--help']]) {
      const [bundled, plain] = await Promise.all([gameday(args), runNode(script, args)]);
      assert.equal(bundled.stdout, plain.stdout, args.join(' '));
    }
  });
});

describe('bin/gameday.js', () => {
  /** A copy of bin/gameday.js and the code cache's loader, beside a plain build and a bundle that say which one ran. */
  async function fakeProject(): Promise<{ bin: string; main: string; bundle: string; runBundle: string }> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gameday-bin-'));
    await Promise.all(['bin', 'dist/src/cli', 'dist/bundle'].map((d) => mkdir(path.join(dir, d), { recursive: true })));
    const bin = path.join(dir, 'bin', 'gameday.js');
    const main = path.join(dir, 'dist', 'src', 'cli', 'main.js');
    const bundle = path.join(dir, 'dist', 'bundle', 'cli.js');
    await copyFile(path.join(ROOT, 'bin', 'gameday.js'), bin);
    await copyFile(path.join(ROOT, 'dist', 'src', 'cli', 'code-cache.js'), path.join(dir, 'dist', 'src', 'cli', 'code-cache.js'));
    await writeFile(main, `exports.main = () => console.log('plain');\n`);
    await writeFile(bundle, `exports.main = () => console.log('bundle');\n`);
    const runBundle = path.join(dir, 'dist', 'bundle', 'run.js');
    await writeFile(runBundle, `exports.main = () => console.log('run bundle');\n`);
    return { bin, main, bundle, runBundle };
  }

  test('runs `run` from its own bundle, a command from the bundle, worker from the plain build, and the plain build when a bundle is older than it (tsc run alone)', async () => {
    const { bin, main, bundle, runBundle } = await fakeProject();
    const ran = async (...args: string[]): Promise<string> => (await runNode(bin, args)).stdout.trim();
    const now = Date.now() / 1000;
    await utimes(main, now - 60, now - 60);
    assert.equal(await ran('run', 'x.yaml', '--wait'), 'run bundle');
    assert.equal(await ran('run', '--help'), 'run bundle');
    // Each way of running a command keeps a code cache of its own: one made by `run --help` holds
    // little of what `run --wait` runs.
    const caches = (await readdir(path.dirname(runBundle))).filter((f) => f.endsWith('.v8cache')).map((f) => f.split('.')[1]);
    assert.deepEqual(caches.sort(), ['run-help', 'run-wait']);
    // Options before the command: the whole CLI's bundle, which parses them all.
    assert.equal(await ran('--json', 'run', 'x.yaml'), 'bundle');
    assert.equal(await ran('--help'), 'bundle');
    assert.equal(await ran('worker'), 'plain');
    await utimes(runBundle, now - 120, now - 120);
    assert.equal(await ran('run', 'x.yaml'), 'plain');
    await utimes(bundle, now - 120, now - 120);
    assert.equal(await ran('status', 'x'), 'plain');
  });

  test('says to build first when there is no build', async () => {
    const { bin, main } = await fakeProject();
    await rm(main);
    const run = await runNode(bin, ['--help']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /not built yet: run `npm run build`/);
  });
});

describe('the code cache', () => {
  /** Loads `file` through requireWithCodeCache in a process of its own; what it printed (cacheAccepted, then the module's own output). */
  async function load(file: string, cacheFile: string, exitCode = 0): Promise<string[]> {
    const loader = path.join(path.dirname(file), 'load.js');
    const codeCache = path.join(ROOT, 'dist', 'src', 'cli', 'code-cache.js');
    await writeFile(
      loader,
      `const r = require(${JSON.stringify(codeCache)}).requireWithCodeCache(process.argv[2], process.argv[3]);\n` +
        `console.log(r.cacheAccepted ? 'cache accepted' : 'no cache'); r.exports.run(); process.exitCode = Number(process.argv[4]);\n`,
    );
    const run = await runNode(loader, [file, cacheFile, String(exitCode)]);
    assert.equal(run.code, exitCode, run.stderr);
    return run.stdout.trim().split('\n');
  }

  async function moduleFile(body: string): Promise<string> {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'gameday-cache-')), 'mod.js');
    await writeFile(file, `const dep = require('node:path');\nexports.run = () => console.log(${body}, typeof dep.join, __filename === module.filename);\n`);
    return file;
  }

  test('is written when the process exits, taken on the next start, and the module runs the same with and without it', async () => {
    const file = await moduleFile("'ran'");
    const cache = codeCacheFile(file, 'run');
    assert.deepEqual(await load(file, cache), ['no cache', 'ran function true']);
    assert.deepEqual(await load(file, cache), ['cache accepted', 'ran function true']);
  });

  test('a cache V8 refuses (garbage) is replaced; a process that exits with 1 writes none', async () => {
    const file = await moduleFile("'ran'");
    const cache = path.join(path.dirname(file), 'mod.v8cache');
    await writeFile(cache, 'not a code cache');
    assert.deepEqual(await load(file, cache), ['no cache', 'ran function true']);
    assert.deepEqual(await load(file, cache), ['cache accepted', 'ran function true']);

    const other = path.join(path.dirname(file), 'other.v8cache');
    await load(file, other, 1);
    assert.ok(!(await readdir(path.dirname(file))).includes('other.v8cache'));
  });

  test('a rebuilt file of the same length gets a cache file of its own, so that a stale cache is never run', async () => {
    const file = await moduleFile("'one'");
    const before = codeCacheFile(file, 'run');
    await load(file, before);
    await writeFile(file, (await readFile(file, 'utf8')).replace("'one'", "'two'"));
    const now = Date.now() / 1000 + 5;
    await utimes(file, now, now);
    const after = codeCacheFile(file, 'run');
    assert.notEqual(after, before);
    assert.deepEqual(await load(file, after), ['no cache', 'two function true']);
  });
});
