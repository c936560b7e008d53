/**
 * The `gameday` CLI as a user runs it (a child process), against a worker on the real Temporal
 * dev server, a real Docker engine and NATS in a container.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import YAML from 'yaml';
import type { ExperimentResult } from '../../src/types';
import { containerState, eventually, gameday, gamedayCommand, gamedayLoading, pauseExperiment, startNats, startWorker, type TestWorker } from '../helpers';
import { freePort } from '../prometheus';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** Runs the CLI with test/loaded-modules preloaded: what it printed, and every module file it loaded. */
const NATS = 'gameday-test-cli-nats';
const PORT = 14302;

describe('the gameday CLI', () => {
  let w: TestWorker;
  let nats: Awaited<ReturnType<typeof startNats>>;
  let dir: string;
  let env: Record<string, string>;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gameday-cli-'));
    nats = await startNats(NATS, PORT);
    w = await startWorker('cli', { experimentsDir: dir });
    env = { GAMEDAY_TASK_QUEUE: w.taskQueue, GAMEDAY_REPORTS_DIR: w.reportsDir, GAMEDAY_EXPERIMENTS_DIR: dir };
  });
  after(async () => {
    await w?.stop();
    await nats?.remove();
  });

  test('validate exits 0 when every file is valid', async () => {
    const run = await gameday(['validate', path.join(ROOT, 'experiments', 'chaos-001-nats-broker-pause.yaml')]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /1 file valid/);
  });

  test('validate exits 1 with one line per problem naming the file, the field and the problem', async () => {
    const bad = path.join(dir, 'bad.yaml');
    const doc = { ...pauseExperiment('bad', NATS, nats.url), hypotesis: 'typo', method: [{ fault: { kind: 'docker-pause', target: 'natz' }, duration: '30 seconds' }] };
    await writeFile(bad, YAML.stringify(doc));
    const missing = path.join(dir, 'missing.yaml');
    const run = await gameday(['validate', bad, missing]);
    assert.equal(run.code, 1);
    const lines = run.stderr.trim().split('\n');
    assert.deepEqual(lines.sort(), [
      `${bad}: hypotesis: unknown field (misspelt, or not part of this object)`,
      `${bad}: method.0.duration: "30 seconds" is not a duration: write a number and a unit (ms, s, m, h), e.g. "30s"`,
      `${bad}: method.0.fault.target: no target named 'natz' (targets: nats)`,
      `${missing}: cannot read the file: ENOENT`,
    ].sort());
  });

  test('run --wait --json shows the stages on stderr and prints the result as JSON', async () => {
    const file = path.join(dir, 'cli-happy.yaml');
    await writeFile(file, YAML.stringify(pauseExperiment('cli-happy', NATS, nats.url, '6s')));
    const run = await gameday(['run', file, '--wait', '--json'], env);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as ExperimentResult;
    assert.equal(result.verdict, 'passed');
    assert.equal(result.rollback, 'complete');
    assert.match(result.workflowId, /^cli-happy-\d{8}T\d{6}Z-[0-9a-f]{4}$/);
    assert.ok(existsSync(path.join(result.reportDir, 'report.md')));
    // Progress is polled while the run goes on; what comes after the last poll is in the report.
    assert.ok(run.stderr.includes('[observe]'), `progress shows [observe]:\n${run.stderr}`);
    assert.match(run.stderr, /injected f1/);
    // The paused broker makes the observe probe miss: the CLI reads it from the sampler's heartbeat.
    assert.match(run.stderr, /probe 'stream during pause' misses/);
    assert.equal((await containerState(NATS)).Paused, false);

    // What the Web UI shows of the run: its summary and details, a summary on each inject and
    // revert (the due-time revert's on its local activity's marker), and the current details the
    // workflow keeps (its stage, the faults in place).
    const handle = w.client.workflow.getHandle(result.workflowId);
    const desc = await handle.describe();
    assert.equal(await desc.staticSummary(), 'experiment cli-happy');
    assert.match((await desc.staticDetails()) ?? '', /\*\*Hypothesis:\*\* the stream answers again/);
    const summaries = ((await handle.fetchHistory()).events ?? [])
      .filter((e) => e.activityTaskScheduledEventAttributes || e.markerRecordedEventAttributes)
      .map((e) => (e.userMetadata?.summary?.data ? (JSON.parse(Buffer.from(e.userMetadata.summary.data).toString()) as string) : ''));
    assert.ok(summaries.includes(`pause container ${NATS}`), summaries.join(' | '));
    assert.ok(summaries.includes(`revert: pause container ${NATS}`), summaries.join(' | '));
    const metadata = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
    assert.match(metadata.currentDetails, /\*\*Stage:\*\* done/);
  });

  test('run without --wait returns at once; status shows the active fault; abort rolls it back', async () => {
    const file = path.join(dir, 'cli-abort.yaml');
    await writeFile(file, YAML.stringify(pauseExperiment('cli-abort', NATS, nats.url, '5m')));
    const started = await gameday(['run', file, '--json'], env);
    assert.equal(started.code, 0, started.stderr);
    const { workflowId, runId } = JSON.parse(started.stdout) as { workflowId: string; runId: string };
    assert.ok(workflowId && runId);

    const status = await eventually('status to show the active fault', async () => {
      const run = await gameday(['status', workflowId, '--json'], env);
      const s = JSON.parse(run.stdout) as { stage: string; activeFaults: { description: string }[] };
      return s.stage === 'observe' && s;
    });
    assert.deepEqual(status.activeFaults.map((f) => f.description), [`pause container ${NATS}`]);
    assert.equal((await containerState(NATS)).Paused, true);

    const abort = await gameday(['abort', workflowId, '--reason', 'halt from the CLI'], env);
    assert.equal(abort.code, 0, abort.stderr);
    const result = (await w.client.workflow.getHandle(workflowId).result()) as ExperimentResult;
    assert.equal(result.verdict, 'aborted');
    assert.match(result.reason, /halt from the CLI/);
    assert.equal((await containerState(NATS)).Paused, false);
  });

  test('run <id> resolves the experiment from the catalog folder on the worker', async () => {
    await writeFile(path.join(dir, 'by-id.yaml'), YAML.stringify(pauseExperiment('by-id', NATS, nats.url, '1s')));
    const run = await gameday(['run', 'by-id', '--wait', '--json'], env);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as ExperimentResult;
    assert.equal(result.experimentId, 'by-id');
    assert.equal(result.verdict, 'passed');
    const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as { source: string };
    assert.equal(journal.source, path.join(dir, 'by-id.yaml'));
  });

  test('run of an unknown id ends with verdict error listing the ids the catalog holds', async () => {
    const run = await gameday(['run', 'no-such-experiment', '--wait', '--json'], env);
    const result = JSON.parse(run.stdout) as ExperimentResult;
    assert.equal(result.verdict, 'error');
    assert.match(result.reason, /no experiment 'no-such-experiment' in .* \(it holds: .*by-id/);
    assert.notEqual(run.code, 0);
  });

  test('run takes scenario files too, showing the stages as they start and end while it runs', async () => {
    const file = path.join(dir, 'cli-scenario.yaml');
    const scenario = {
      kind: 'scenario',
      id: 'cli-scenario',
      title: 'two stages in series',
      hypothesis: 'both pass',
      stages: [
        { name: 'one', spec: pauseExperiment('one', NATS, nats.url, '1s') },
        { name: 'two', spec: pauseExperiment('two', NATS, nats.url, '1s') },
      ],
    };
    await writeFile(file, YAML.stringify(scenario));
    assert.equal((await gameday(['validate', file])).code, 0);
    const run = await gameday(['run', file, '--wait', '--json'], env);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as { verdict: string; iterations: number; reportDir: string };
    assert.equal(result.verdict, 'passed');
    // Stages are shown while the scenario runs; the last one's end is the result's verdict.
    assert.match(run.stderr, /stage one: passed: the hypothesis held/);
    assert.match(run.stderr, /stage two: running/);
    assert.ok(existsSync(path.join(result.reportDir, 'report.md')));
  });

  test('validate of a JSON file nested 10000 levels deep prints one line naming the file and the depth', async () => {
    const deep = path.join(dir, 'deep.json');
    await writeFile(deep, '{"id":' + '['.repeat(10_000) + ']'.repeat(10_000) + '}');
    const run = await gameday(['validate', deep]);
    assert.equal(run.code, 1);
    assert.deepEqual(run.stderr.trim().split('\n'), [`${deep}: line 1: nested more than 32 levels deep (objects and lists within each other); at most 32`]);
  });

  test('run --wait of a 1 s pause prints the verdict and exits 0, from its own bundle, over the HTTP API: without the gRPC client, protobuf, the workflow SDK, the worker, dockerode, pg, NATS or node:child_process', async () => {
    const file = path.join(dir, 'cli-fast.yaml');
    await writeFile(file, YAML.stringify(pauseExperiment('cli-fast', NATS, nats.url, '1s')));
    const { run, loaded, required, builtins } = await gamedayLoading(['run', file, '--wait'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^verdict: passed — the hypothesis held/m);
    assert.match(run.stdout, /^rollback: complete$/m);
    assert.match(run.stderr, /^started cli-fast-/m);
    // Progress came through the HTTP API's status query too.
    assert.match(run.stderr, /injected f1/);
    // From the bundle of `run` alone, not the whole CLI's (the start-up tests in
    // test/unit/cli-start.test.ts cover the light commands).
    assert.ok(required.includes(path.join(ROOT, 'dist', 'bundle', 'run.js')));
    assert.ok(!required.includes(path.join(ROOT, 'dist', 'bundle', 'cli.js')));
    assert.ok(loaded.some((f) => f.endsWith('/dist/src/cli/temporal-http.js')));
    // The status is queried by name: the workflows' definitions (@temporalio/workflow) are not loaded.
    for (const heavy of ['@temporalio/client', '@grpc/grpc-js', 'protobufjs', '@temporalio/proto', '@temporalio/workflow', '@temporalio/worker', '@temporalio/core-bridge', 'webpack', 'dockerode', 'pg', 'node-pg-migrate', 'fastify', 'nats'])
      assert.deepEqual(loaded.filter((f) => f.includes(`/node_modules/${heavy}/`)), [], heavy);
    assert.ok(!builtins.includes('child_process'), 'node:child_process is not loaded');
    assert.equal((await containerState(NATS)).Paused, false);
  });

  test('run --wait where nothing, or something other than Temporal, answers at the HTTP API falls back to gRPC, and GAMEDAY_TEMPORAL_HTTP_URL=off uses gRPC alone', async () => {
    const file = path.join(dir, 'cli-grpc.yaml');
    await writeFile(file, YAML.stringify(pauseExperiment('cli-grpc', NATS, nats.url, '1s')));
    // A port that was free a moment ago: nothing listens there.
    const closed = await freePort();
    // Another service on the port: a plain 404, not Temporal's JSON.
    const other = createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('not found'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    after(() => other.close());
    const otherPort = (other.address() as AddressInfo).port;
    for (const http of [`http://127.0.0.1:${closed}`, `http://127.0.0.1:${otherPort}`, 'off']) {
      const { run, loaded } = await gamedayLoading(['run', file, '--wait', '--json'], { ...env, GAMEDAY_TEMPORAL_HTTP_URL: http });
      assert.equal(run.code, 0, `${http}: ${run.stderr}`);
      assert.equal((JSON.parse(run.stdout) as ExperimentResult).verdict, 'passed', http);
      assert.match(run.stderr, /injected f1/, http);
      // Started and waited on over gRPC: the SDK's client was loaded (over HTTP it is not: the test above).
      assert.ok(loaded.some((f) => f.includes('/node_modules/@temporalio/client/')), `${http}: the gRPC client`);
    }
    assert.equal((await containerState(NATS)).Paused, false);
  });

  test('bin/gameday starts `run` over the plain local stack without NODE_EXTRA_CA_CERTS, every other command with it, and `run` again with it when its connection uses TLS', async () => {
    const file = path.join(dir, 'cli-extra-ca.yaml');
    await writeFile(file, YAML.stringify(pauseExperiment('cli-extra-ca', NATS, nats.url, '1s')));
    // A file that is not there: Node warns at its start when it loads the variable, so the warning says whether it did.
    const ca = { NODE_EXTRA_CA_CERTS: path.join(dir, 'no-such-ca.pem') };
    const loadedCerts = /Ignoring extra certs from/;
    const run = await gamedayCommand(['run', file, '--wait', '--json'], { ...env, ...ca });
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as ExperimentResult).verdict, 'passed');
    assert.doesNotMatch(run.stderr, loadedCerts);
    const help = await gamedayCommand(['--help'], ca);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stderr, loadedCerts);
    // TLS set: started again with the certificates, which then fails on the dev server's plain port, and starts nothing.
    const tls = await gamedayCommand(['run', file, '--wait', '--workflow-id', 'cli-extra-ca-tls'], { ...env, ...ca, TEMPORAL_TLS: 'true' });
    assert.equal(tls.code, 1, tls.stderr);
    assert.match(tls.stderr, loadedCerts);
    assert.match(tls.stderr, /does not speak TLS/);
    await assert.rejects(w.client.workflow.getHandle('cli-extra-ca-tls').describe(), /not found/i);
    assert.equal((await containerState(NATS)).Paused, false);
  });

  test('run with the workflow id of a run still going says so in one line over the HTTP API, and starts nothing', async () => {
    const file = path.join(dir, 'cli-twice.yaml');
    await writeFile(file, YAML.stringify(pauseExperiment('cli-twice', NATS, nats.url, '1s')));
    const workflowId = `cli-twice-${process.pid}-${Date.now()}`;
    const first = await gameday(['run', file, '--workflow-id', workflowId, '--json'], env);
    assert.equal(first.code, 0, first.stderr);
    const again = await gameday(['run', file, '--workflow-id', workflowId], env);
    assert.equal(again.code, 1);
    assert.equal(again.stderr.trim(), `gameday: a run with workflow id '${workflowId}' is already running`);
    // The first run goes on to its end, and its fault is reverted.
    await eventually('the first run ended', async () => (await gameday(['status', workflowId], env)).stdout.startsWith(`${workflowId}: COMPLETED`) && !(await containerState(NATS)).Paused, 20_000);
  });

  test('run --wait on a task queue no worker polls says so, then goes on once a worker polls it', async () => {
    const queue = `test-cli-no-worker-${process.pid}-${Date.now()}`;
    const file = path.join(dir, 'cli-no-worker.yaml');
    await writeFile(file, YAML.stringify(pauseExperiment('cli-no-worker', NATS, nats.url, '1s')));
    const cli = spawn(process.execPath, [path.join(ROOT, 'bin', 'gameday.js'), 'run', file, '--wait', '--json'], { env: { ...process.env, ...env, GAMEDAY_TASK_QUEUE: queue }, cwd: ROOT });
    let [stdout, stderr] = ['', ''];
    cli.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    cli.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number>((resolve) => cli.on('close', (code) => resolve(code ?? 1)));
    let late: TestWorker | undefined;
    try {
      await eventually('the CLI says no worker polls the queue', async () => stderr.includes(`no worker polls task queue '${queue}': the run waits until one does (start one with GAMEDAY_TASK_QUEUE=${queue} npx gameday worker)`), 20_000);
      late = await startWorker('cli-late', { taskQueue: queue, experimentsDir: dir });
      assert.equal(await exited, 0, stderr);
      assert.equal((JSON.parse(stdout) as ExperimentResult).verdict, 'passed');
      assert.match(stderr, /a worker (took the run|polls task queue '.+' now)/);
      assert.equal((await containerState(NATS)).Paused, false);
    } finally {
      cli.kill();
      await late?.stop();
      // A run no worker took stays open: ended here, nothing of it injected.
      const id = /^started (\S+)/m.exec(stderr)?.[1];
      if (id && !late) await w.client.workflow.getHandle(id).terminate('test ended').catch(() => undefined);
    }
  });

  test('status of an unknown workflow id says so', async () => {
    const run = await gameday(['status', 'no-such-run'], env);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /no experiment run with workflow id 'no-such-run'/);
  });
});
