/**
 * A batch of experiments on one worker process of its own: the containers they pause, the worker
 * (`gameday worker`, spawned), the Docker events, and cleanup of all of it, whatever happens.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { ExperimentResult } from '../src/types';
import { spawnWorker, type WorkerProcess } from '../test/helpers';
import { ContainerEvents, createContainers, removeBenchContainers } from './containers';
import { delay } from './lib';

/** What `withFleet` hands the measurement. */
export interface Fleet {
  worker: WorkerProcess;
  taskQueue: string;
  reportsDir: string;
  events: ContainerEvents;
  /** The containers, created before `withFleet` calls the measurement. */
  containers: string[];
  /** How long creating the containers took, in ms. */
  createMs: number;
  /** Starts an experiment on the fleet's worker; runs still open at the end are terminated. */
  start(workflowId: string, spec: unknown): Promise<WorkflowHandle>;
}

/** The outcome of one run: its result, or why there is none. */
export type Outcome = { workflowId: string; result?: ExperimentResult; error?: string };

/** Waits for every run's result, at most `ms` in all; a run still open then has an error. */
export async function outcomes(handles: WorkflowHandle[], ms: number): Promise<Outcome[]> {
  const deadline = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref());
  return Promise.all(
    handles.map(async (h) => {
      const r = await Promise.race([(h.result() as Promise<ExperimentResult>).catch((e: Error) => e), deadline]);
      if (r === 'timeout') return { workflowId: h.workflowId, error: `still open after ${ms / 1000} s` };
      if (r instanceof Error) return { workflowId: h.workflowId, error: r.message };
      return { workflowId: h.workflowId, result: r };
    }),
  );
}

/**
 * Creates the containers and opens the Docker event stream, runs `measure`, then closes the
 * stream and removes the containers, in a finally.
 */
export async function withContainers<T>(containers: string[], measure: (events: ContainerEvents, createMs: number) => Promise<T>): Promise<T> {
  let events: ContainerEvents | undefined;
  try {
    const t = performance.now();
    await createContainers(containers);
    const createMs = performance.now() - t;
    events = await ContainerEvents.open();
    return await measure(events, createMs);
  } finally {
    events?.close();
    await removeBenchContainers();
  }
}

/**
 * withContainers, plus a worker spawned on a fresh task queue; afterwards the runs still open
 * are terminated, the worker stopped and its reports removed.
 */
export async function withFleet<T>(client: Client, name: string, containers: string[], measure: (fleet: Fleet) => Promise<T>, workerEnv: Record<string, string> = {}): Promise<T> {
  const taskQueue = `bench-${name}-${process.pid}-${Date.now()}`;
  const reportsDir = await mkdtemp(path.join(os.tmpdir(), `gameday-bench-${name}-`));
  const handles: WorkflowHandle[] = [];
  let worker: WorkerProcess | undefined;
  try {
    return await withContainers(containers, async (events, createMs) => {
      worker = await spawnWorker(taskQueue, { GAMEDAY_REPORTS_DIR: reportsDir, ...workerEnv });
      const start = async (workflowId: string, spec: unknown): Promise<WorkflowHandle> => {
        const h = await client.workflow.start('experiment', { taskQueue, workflowId, workflowTaskTimeout: '2s', args: [{ spec, source: 'bench' }] });
        handles.push(h);
        return h;
      };
      try {
        return await measure({ worker, taskQueue, reportsDir, events, containers, createMs, start });
      } finally {
        // A run the bench gave up on must not keep a lock or a timer of ours busy.
        await Promise.all(handles.map((h) => h.terminate('bench: cleanup').catch(() => undefined)));
      }
    });
  } finally {
    const w = worker as WorkerProcess | undefined;
    if (w) await Promise.race([w.kill('SIGTERM'), delay(10_000).then(() => w.kill('SIGKILL'))]);
    await rm(reportsDir, { recursive: true, force: true });
  }
}
