/**
 * Helpers for the integration tests: a worker on a task queue of its own, NATS in a real
 * container, docker inspect. Everything runs against the real local stack (scripts/provision.sh,
 * started by scripts/test.js before the tests).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import assert from 'node:assert/strict';
import Docker from 'dockerode';
import pg from 'pg';
import { loadConfig, type Config } from '../src/config';
import { ensureNatsContainer, ensureStream } from '../src/stack';
import { connectClient } from '../src/temporal';
import { createWorker } from '../src/worker';
import type { JanitorScheduleSetting } from '../src/worker/janitor-schedule';
import type { ActivityDeps } from '../activities';
import type { Experiment } from '../src/spec/schema';
import type { ExperimentResult } from '../src/types';

export { gameday, gamedayCommand, gamedayLoading, type CliRun } from './cli-process';

export const docker = new Docker();

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** One workflow bundle per test process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: quietLogger });
  return bundle;
}

export const quietLogger = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never;

export interface TestWorker {
  config: Config;
  client: Client;
  taskQueue: string;
  reportsDir: string;
  /** Starts an experiment on this worker's queue and returns its handle. */
  start(input: unknown, workflowId?: string): ReturnType<Client['workflow']['start']>;
  stop(): Promise<void>;
}

/** A worker on a fresh task queue, running in this process, with reports in a temporary folder. */
export interface TestWorkerOptions {
  experimentsDir?: string;
  /** Join another worker's task queue instead of a fresh one. */
  taskQueue?: string;
  /** Replaces activity dependencies (a Docker engine behind a proxy, an events URL). */
  deps?: Partial<ActivityDeps>;
  /** Another results store than the local stack's. */
  resultsUrl?: string;
  /**
   * Keep a janitor schedule from this worker. Off by default: a test's janitor must not revert
   * other tests' faults; test/integration/janitor.test.ts keeps one of its own, scoped to its queue.
   */
  janitorSchedule?: JanitorScheduleSetting;
}

export async function startWorker(name: string, opts: TestWorkerOptions = {}): Promise<TestWorker> {
  const taskQueue = opts.taskQueue ?? `test-${name}-${process.pid}-${Date.now()}`;
  const reportsDir = await mkdtemp(path.join(os.tmpdir(), 'gameday-reports-'));
  const config = { ...loadConfig(), taskQueue, reportsDir, ...(opts.experimentsDir ? { experimentsDir: opts.experimentsDir } : {}), ...(opts.resultsUrl ? { resultsUrl: opts.resultsUrl } : {}) };
  const { worker, close } = await createWorker({ config, workflowBundle: await workflowBundle(), deps: opts.deps, janitorSchedule: opts.janitorSchedule ?? false });
  const running = worker.run();
  const client = await connectClient(config);
  return {
    config,
    client,
    taskQueue,
    reportsDir,
    start: (input, workflowId) =>
      client.workflow.start('experiment', { workflowTaskTimeout: '2s', taskQueue, workflowId: workflowId ?? `${name}-${Date.now()}-${Math.random().toString(16).slice(2, 6)}`, args: [input] }),
    async stop() {
      worker.shutdown();
      await running;
      await close();
      await client.connection.close();
    },
  };
}

/** A NATS server with JetStream in its own container, with a `tasks` stream. */
export async function startNats(name: string, hostPort: number): Promise<{ url: string; remove: () => Promise<void> }> {
  await removeContainer(name);
  const url = await ensureNatsContainer(docker, { name, hostPort, labels: { 'gameday.test': name } });
  await ensureStream(url, 'tasks', ['tasks.>']);
  return { url, remove: () => removeContainer(name) };
}

export async function removeContainer(name: string): Promise<void> {
  await docker.getContainer(name).remove({ force: true }).catch(() => undefined);
}

/** What `docker inspect` says of a container's state. */
export async function containerState(name: string): Promise<{ Running: boolean; Paused: boolean; Status: string }> {
  return (await docker.getContainer(name).inspect()).State;
}

/** Polls until the condition holds, or fails with the message after `ms`. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A small experiment pausing one container, with steady-state probes on its NATS. */
export function pauseExperiment(id: string, container: string, url: string, duration = '4s'): Experiment {
  return {
    id,
    title: `pause ${container}`,
    hypothesis: 'the stream answers again once the broker resumes',
    targets: { nats: { kind: 'docker', container } },
    steadyState: [
      {
        name: 'stream answers',
        probe: { kind: 'nats-stream', url, stream: 'tasks', timeout: '1s' },
        expect: { error: { equals: '' } },
      },
    ],
    method: [{ fault: { kind: 'docker-pause', target: 'nats' }, duration }],
    observe: {
      interval: '500ms',
      probes: [{ name: 'stream during pause', probe: { kind: 'nats-stream', url, stream: 'tasks', timeout: '500ms' } }],
    },
    recovery: { within: '15s', interval: '500ms' },
  };
}

export type { ExperimentResult };

const ROOT = path.resolve(__dirname, '..', '..');

/** A `gameday worker` in a process of its own, as an SRE runs it; resolves once it polls. */
export interface WorkerProcess {
  pid: number;
  output(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

const spawned = new Set<ChildProcess>();

/** Kills every worker process a test spawned and did not stop (call it in `after`). */
export function killSpawnedWorkers(): void {
  spawned.forEach((c) => c.kill('SIGKILL'));
}

export async function spawnWorker(taskQueue: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  return spawnGameday(['worker'], { GAMEDAY_TASK_QUEUE: taskQueue, ...env }, 'worker polling task queue', `worker on ${taskQueue}`);
}

/**
 * `gameday agent --host NAME` in a process of its own; resolves once it polls. `prefix` runs it
 * through another command first (`nsenter --net=…`: inside another host's network namespace).
 */
export async function spawnAgent(host: string, env: Record<string, string> = {}, prefix: string[] = []): Promise<WorkerProcess> {
  return spawnGameday(['agent', '--host', host], env, `agent for host '${host}' polling`, `agent for host ${host}`, prefix);
}

async function spawnGameday(args: string[], env: Record<string, string>, readyLine: string, what: string, prefix: string[] = []): Promise<WorkerProcess> {
  const { spawn } = await import('node:child_process');
  const command = [...prefix, process.execPath, path.join(ROOT, 'bin', 'gameday.js'), ...args];
  const child = spawn(command[0], command.slice(1), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A test that fails half-way must not leave a worker running: its pipes would keep the test
  // process alive. killSpawnedWorkers() ends what is left.
  spawned.add(child);
  child.once('exit', () => spawned.delete(child));
  await eventually(`${what} to poll`, async () => output.includes(readyLine), 30_000).catch((e: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${e.message}\n${output}`);
  });
  return {
    pid: child.pid!,
    output: () => output,
    async kill(signal) {
      child.kill(signal);
      await exited;
    },
  };
}

/** A client of its own for a test file. */
export async function connectTestClient(): Promise<Client> {
  return connectClient(loadConfig());
}

/**
 * With GAMEDAY_RECORD_HISTORIES=1, stores the event history of a finished run as
 * test/histories/<name>.json, for the replay test (test/unit/replay.test.ts): a change to the
 * workflow code that would break runs in flight then fails CI.
 */
export async function recordHistory(workflowId: string, name: string, address = loadConfig().temporalAddress): Promise<void> {
  if (process.env.GAMEDAY_RECORD_HISTORIES !== '1') return;
  const { readFile, writeFile } = await import('node:fs/promises');
  const { execFile } = await import('node:child_process');
  // The Temporal CLI writes the history in the JSON form the SDK's historyFromJSON reads.
  const cli = process.env.TEMPORAL_CLI_PATH ?? (await readFile(path.join(ROOT, '.gameday', 'temporal-cli-path'), 'utf8')).trim();
  const json = await new Promise<string>((resolve, reject) =>
    execFile(cli, ['workflow', 'show', '--workflow-id', workflowId, '--address', address, '--output', 'json'], { maxBuffer: 64 << 20 }, (e, out, err) => (e ? reject(new Error(err)) : resolve(out))),
  );
  // The workflow id goes with it: replay must see the same id (child workflow ids derive from it).
  await writeFile(path.join(ROOT, 'test', 'histories', `${name}.json`), JSON.stringify({ workflowId, history: JSON.parse(json) as unknown }, null, 1));
}

/** An HTTP server on 127.0.0.1 that answers `ok`, for probes that must be cheap; its URL and a close. */
export async function startOkServer(): Promise<{ url: string; close: () => void }> {
  const { createServer } = await import('node:http');
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`, close: () => void server.close() };
}

/** A busybox container of the test's own, running `sleep`, opted in to faults (removed first if left over). */
export async function startSleeper(name: string): Promise<void> {
  await removeContainer(name);
  const c = await docker.createContainer({ name, Image: 'gameday/busybox:local', Cmd: ['sleep', '3600'], Labels: { 'gameday.enabled': 'true' } });
  await c.start();
}

/**
 * The observe samples the results store holds of a run whose sampler was SIGKILLed at `killedAt`
 * and taken over: asserts that their sequence has no hole, that each is later than the one before
 * (no duplicate, no stale row) and that both samplers stored some. Returns them, and the longest
 * gap between two (the takeover).
 */
export async function assertTakenOver(workflowId: string, killedAt: number): Promise<{ samples: number; longestGapMs: number }> {
  const db = new pg.Client({ connectionString: loadConfig().resultsUrl });
  await db.connect();
  const { rows } = await db.query<{ seq: number; at: Date }>(`SELECT seq, at FROM samples WHERE workflow_id = $1 AND phase = 'observe' ORDER BY seq`, [workflowId]).finally(() => db.end());
  assert.ok(rows.length > 50, `${rows.length} observe samples`);
  assert.deepEqual(rows.map((r) => r.seq), rows.map((_, i) => i), 'the sequence has no hole');
  const times = rows.map((r) => r.at.getTime());
  for (let i = 1; i < times.length; i++) assert.ok(times[i] > times[i - 1], `sample ${i} is not after sample ${i - 1}: a duplicate or a stale row`);
  assert.ok(times.some((at) => at < killedAt) && times.some((at) => at > killedAt + 1000), 'samples from before and after the takeover');
  return { samples: rows.length, longestGapMs: Math.max(...times.slice(1).map((at, i) => at - times[i])) };
}
