/**
 * Helpers for the integration tests: a worker on a task queue of its own, NATS in a real
 * container, docker inspect. Everything runs against the real local stack (scripts/provision.sh,
 * started by scripts/test.js before the tests).
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import Docker from 'dockerode';
import { loadConfig, type Config } from '../src/config';
import { ensureNatsContainer, ensureStream } from '../src/stack';
import { createWorker } from '../src/worker';
import type { Experiment } from '../src/spec/schema';
import type { ExperimentResult } from '../src/types';
import { closePublishers } from '../src/probes/nats';

export const docker = new Docker();

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** One workflow bundle per test process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: quietLogger });
  return bundle;
}

const quietLogger = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never;

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
export async function startWorker(name: string, experimentsDir?: string): Promise<TestWorker> {
  const taskQueue = `test-${name}-${process.pid}-${Date.now()}`;
  const reportsDir = await mkdtemp(path.join(os.tmpdir(), 'gameday-reports-'));
  const config = { ...loadConfig(), taskQueue, reportsDir, ...(experimentsDir ? { experimentsDir } : {}) };
  const { worker, connection } = await createWorker({ config, workflowBundle: await workflowBundle() });
  const running = worker.run();
  const client = new Client({ connection: await Connection.connect({ address: config.temporalAddress }), namespace: config.namespace });
  return {
    config,
    client,
    taskQueue,
    reportsDir,
    start: (input, workflowId) =>
      client.workflow.start('experiment', { taskQueue, workflowId: workflowId ?? `${name}-${Date.now()}-${Math.random().toString(16).slice(2, 6)}`, args: [input] }),
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
      await client.connection.close();
      await closePublishers();
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
