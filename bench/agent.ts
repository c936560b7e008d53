/**
 * The bench's `agent` part: how long a revert takes through a host's agent against the same revert
 * on the orchestrating worker. The same container (a busybox sleeper on this machine's engine) is
 * paused for 1 s by BENCH_AGENT_RUNS runs of each kind, one at a time: once as a target of the
 * worker's own host, once with `host: bench-agent`, whose agent is a `gameday agent` process.
 * Measured from each run's history: the workflow's revert activity from scheduled to completed,
 * and the fault's due time to its revert in the rollback record.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Experiment } from '../src/spec/schema';
import type { ExperimentResult, Journal } from '../src/types';
import { docker, removeContainer, spawnAgent, startWorker } from '../test/helpers';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { envNumber, progress, summarize } from './lib';

const CONTAINER = 'gameday-bench-agent-target';
const HOST = 'bench-agent';
const EventType = temporal.api.enums.v1.EventType;

function pauseOnce(host?: string): Experiment {
  return {
    id: host ? 'bench-agent-remote' : 'bench-agent-local',
    title: 'pause for a second',
    hypothesis: 'the container runs again after rollback',
    targets: { c: { kind: 'docker', container: CONTAINER, ...(host ? { host } : {}) } },
    steadyState: [{ name: 'runs', probe: { kind: 'docker-container', container: CONTAINER }, expect: { running: { equals: true } } }],
    method: [{ fault: { kind: 'docker-pause', target: 'c' }, duration: '1s' }],
    recovery: { within: '10s', interval: '200ms' },
  };
}

/** The revert activity's scheduled → completed, in ms, from the run's history. */
async function revertActivityMs(client: Client, workflowId: string): Promise<number> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const ms = (t: unknown): number => Number((t as { seconds: { toNumber(): number } }).seconds.toNumber()) * 1000 + ((t as { nanos?: number }).nanos ?? 0) / 1e6;
  const events = history.events ?? [];
  const scheduled = events.find((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && e.activityTaskScheduledEventAttributes?.activityType?.name === 'revertFault');
  if (!scheduled) throw new Error(`${workflowId}: no revert activity in its history`);
  const completed = events.find((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED && Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === Number(scheduled.eventId));
  if (!completed) throw new Error(`${workflowId}: its revert activity did not complete`);
  return ms(completed.eventTime) - ms(scheduled.eventTime);
}

export async function agentRevert(runs = envNumber('BENCH_AGENT_RUNS', 10)): Promise<Record<string, unknown>> {
  await removeContainer(CONTAINER);
  const c = await docker.createContainer({ name: CONTAINER, Image: 'gameday/busybox:local', Cmd: ['sleep', '3600'], Labels: { 'gameday.enabled': 'true' } });
  await c.start();
  const worker = await startWorker('bench-agent');
  const agent = await spawnAgent(HOST);
  const measured: Record<'worker' | 'agent', { revertActivityMs: number[]; dueToRevertedMs: number[] }> = { worker: { revertActivityMs: [], dueToRevertedMs: [] }, agent: { revertActivityMs: [], dueToRevertedMs: [] } };
  try {
    for (let i = 0; i < runs; i++) {
      for (const where of ['worker', 'agent'] as const) {
        const handle = await worker.start({ spec: pauseOnce(where === 'agent' ? HOST : undefined) });
        const result = (await handle.result()) as ExperimentResult;
        if (result.rollback !== 'complete') throw new Error(`${handle.workflowId}: rollback ${result.rollback}: ${result.reason}`);
        const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
        const f = journal.rollback.faults[0];
        measured[where].revertActivityMs.push(await revertActivityMs(worker.client, handle.workflowId));
        measured[where].dueToRevertedMs.push(Date.parse(f.revertedAt!) - Date.parse(f.dueAt!));
        progress(`agent ${i + 1}/${runs} ${where}: revert activity ${measured[where].revertActivityMs.at(-1)} ms`);
      }
    }
  } finally {
    await agent.kill('SIGTERM');
    await worker.stop();
    await removeContainer(CONTAINER);
  }
  return {
    runs,
    note: 'docker-pause of 1 s on one container of this machine; the agent is a gameday agent process on the same machine (no network between hosts): what the extra task queue and process cost',
    onWorker: { revertActivityMs: summarize(measured.worker.revertActivityMs), dueToRevertedMs: summarize(measured.worker.dueToRevertedMs) },
    throughAgent: { revertActivityMs: summarize(measured.agent.revertActivityMs), dueToRevertedMs: summarize(measured.agent.dueToRevertedMs) },
  };
}
