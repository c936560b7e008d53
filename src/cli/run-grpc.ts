import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter, type Duration } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { Config } from '../config';
import type { ExperimentStatus } from '../types';
import { samplingProgress } from './progress';
import { definitions, startOf, type RunTarget, type RunWatch } from './run';

/**
 * The CLI's runs over the SDK's gRPC client: `run` where Temporal's HTTP API is not there
 * (run.ts has the HTTP way), and `status`, `abort`, `demo`.
 */

export async function startRun(client: Client, config: Config, run: RunTarget, workflowId?: string): Promise<RunWatch> {
  const s = startOf(config, run, workflowId);
  const handle = await client.workflow.start(s.workflowType, {
    taskQueue: s.taskQueue,
    workflowTaskTimeout: s.workflowTaskTimeout as Duration,
    workflowId: s.workflowId,
    args: s.input,
    memo: s.memo,
    staticSummary: s.summary,
    staticDetails: s.details,
  });
  return { ...grpcRun(handle), runId: handle.firstExecutionRunId };
}

/** The wait's view of a run through the SDK's handle. */
export function grpcRun(handle: WorkflowHandle): RunWatch {
  return {
    workflowId: handle.workflowId,
    query: (query, signal) => handle.client.withAbortSignal(signal, () => handle.query(query)),
    result: <R>() => handle.result() as Promise<R>,
    describe: async () => {
      const desc = await handle.describe();
      const heartbeats: unknown[] = [];
      for (const a of desc.raw.pendingActivities ?? []) {
        const payload = a.heartbeatDetails?.payloads?.[0];
        if (!payload) continue;
        try {
          heartbeats.push(defaultPayloadConverter.fromPayload(payload));
        } catch {
          // Not JSON: nothing the CLI shows.
        }
      }
      return { taskQueue: desc.taskQueue, heartbeats };
    },
    workflowPollers: async (taskQueue) => {
      const { pollers } = await handle.client.workflowService.describeTaskQueue({
        namespace: handle.client.options.namespace,
        taskQueue: { name: taskQueue },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      });
      return pollers?.length ?? 0;
    },
  };
}

export async function describeRun(client: Client, workflowId: string): Promise<{ status: ExperimentStatus | undefined; state: string }> {
  const handle = client.workflow.getHandle(workflowId);
  try {
    const desc = await handle.describe();
    const status = await handle.query((await definitions()).statusQuery).catch(() => undefined);
    // While sampling, the last probe values are in the sampling activities' heartbeats.
    if (status) for (const p of await samplingProgress(grpcRun(handle)).catch(() => [])) Object.assign(status.lastProbes, p.lastProbes);
    return { status, state: desc.status.name };
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) throw new Error(`no experiment run with workflow id '${workflowId}'`);
    throw e;
  }
}

/** Signals `abort` to one run, experiment or scenario (the two signals share their name). */
export async function abortRun(client: Client, workflowId: string, reason: string): Promise<void> {
  await client.workflow.getHandle(workflowId).signal((await definitions()).abortSignal, reason);
}

/** Signals `abort` to every running experiment and scenario; returns their workflow ids. */
export async function abortAll(client: Client, reason: string): Promise<string[]> {
  const { abortScenarioSignal, abortSignal } = await definitions();
  const ids: string[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowType IN ('experiment', 'scenario') AND ExecutionStatus = 'Running'` })) {
    await client.workflow.getHandle(wf.workflowId, wf.runId).signal(wf.type === 'scenario' ? abortScenarioSignal : abortSignal, reason);
    ids.push(wf.workflowId);
  }
  return ids;
}
