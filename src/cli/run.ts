import { existsSync } from 'node:fs';
import path from 'node:path';
import { WorkflowNotFoundError, type Client, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { Config } from '../config';
import { loadExperimentFile } from '../spec/loader';
import { newWorkflowId } from '../temporal';
import type { ExperimentInput, ExperimentResult, ExperimentStatus } from '../types';

/** The input for `gameday run <file|id>`: a file is validated here, an id is resolved by the worker. */
/** A path to a file (rather than a catalog id): it exists, has an extension, or has a slash. */
export function looksLikeFile(fileOrId: string): boolean {
  return existsSync(fileOrId) || /\.(ya?ml|json)$/.test(fileOrId) || fileOrId.includes(path.sep);
}

export async function inputFor(fileOrId: string): Promise<{ input: ExperimentInput; experimentId: string }> {
  if (!looksLikeFile(fileOrId)) return { input: { experiment: fileOrId }, experimentId: fileOrId };
  const file = path.resolve(fileOrId);
  const spec = await loadExperimentFile(file);
  return { input: { spec, source: file }, experimentId: spec.id };
}

export async function startExperiment(client: Client, config: Config, input: ExperimentInput, experimentId: string, workflowId?: string): Promise<WorkflowHandleWithFirstExecutionRunId> {
  return client.workflow.start('experiment', {
    taskQueue: config.taskQueue,
    workflowTaskTimeout: config.workflowTaskTimeout as Duration,
    workflowId: workflowId ?? newWorkflowId(experimentId),
    args: [input],
  });
}

/**
 * Waits for the run to end, printing each new event of the status query as it appears (stage,
 * injections, reverts, probe misses), so that a long observation is never silent.
 */
export async function watch(handle: WorkflowHandle, print: (line: string) => void, pollMs = 500): Promise<ExperimentResult> {
  const result = handle.result() as Promise<ExperimentResult>;
  let done = false;
  result.then(() => (done = true), () => (done = true));
  let printed = 0;
  const show = (status: ExperimentStatus): void => {
    // The query returns the newest events only; eventCount says how many there were in all.
    const fresh = status.events.slice(Math.max(0, status.events.length - (status.eventCount - printed)));
    for (const e of fresh) print(e.message.startsWith('stage ') ? `[${e.stage}]` : `  ${e.at.slice(11, 19)} ${e.message}`);
    printed = status.eventCount;
  };
  while (!done) {
    const status = await handle.query<ExperimentStatus>('status').catch(() => undefined);
    if (status) show(status);
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, pollMs))]);
  }
  // A closed workflow still answers queries (replayed by a worker): show what came after the last poll.
  const last = await handle.query<ExperimentStatus>('status').catch(() => undefined);
  if (last) show(last);
  return result;
}

export async function describeRun(client: Client, workflowId: string): Promise<{ status: ExperimentStatus | undefined; state: string }> {
  const handle = client.workflow.getHandle(workflowId);
  try {
    const desc = await handle.describe();
    const status = await handle.query<ExperimentStatus>('status').catch(() => undefined);
    return { status, state: desc.status.name };
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) throw new Error(`no experiment run with workflow id '${workflowId}'`);
    throw e;
  }
}

/** Signals `abort` to every running experiment; returns their workflow ids. */
export async function abortAll(client: Client, reason: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowType = 'experiment' AND ExecutionStatus = 'Running'` })) {
    await client.workflow.getHandle(wf.workflowId, wf.runId).signal('abort', reason);
    ids.push(wf.workflowId);
  }
  return ids;
}
