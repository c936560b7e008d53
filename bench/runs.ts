/**
 * What one finished workflow run left: its event history (how many events, the largest payload
 * in it, how long it took from start to close, how long a full replay takes), its fault records
 * (the `gamedayFaults` memo) and its journal (reports/<id>/journal.json).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { FAULTS_MEMO } from '../src/search-attributes';
import type { Journal, PlannedFault } from '../src/types';

const run = promisify(execFile);

export type History = temporal.api.history.v1.IHistory;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The largest payload of a history: its size, and where it was. */
export interface LargestPayload {
  bytes: number;
  /** The event type and field, e.g. `ActivityTaskScheduled writeReport input`. */
  where: string;
}

/** What a run's history says about it. */
export interface HistoryFacts {
  events: number;
  /** The whole history, encoded as the server stores it. */
  historyBytes: number;
  largestPayload: LargestPayload;
  /** From WorkflowExecutionStarted to the closing event; absent while the run is open. */
  workflowMs?: number;
  /** How the run closed (`WorkflowExecutionCompleted`, `…Terminated`), or `open`. */
  closedBy: string;
  /** Completed activities by type (runChecks, probeGuardrail …). */
  completedActivities: Record<string, number>;
  /** Workflow tasks that timed out (a sticky queue not polled within 1 s, or a task over 2 s). */
  workflowTaskTimeouts: number;
  /** Of those, the ones a worker took and did not finish within the workflow task timeout (not a sticky queue's schedule-to-start). */
  workflowTaskStartToCloseTimeouts: number;
  /** Each workflow task's wait from scheduled to started, ms. */
  workflowTaskWaitsMs: number[];
}

const typeName = (e: HistoryEvent): string => temporal.api.enums.v1.EventType[e.eventType ?? 0]?.replace(/^EVENT_TYPE_/, '') ?? String(e.eventType);

function payloadBytes(p: temporal.api.common.v1.IPayload): number {
  const meta = Object.entries(p.metadata ?? {}).reduce((n, [k, v]) => n + k.length + (v?.length ?? 0), 0);
  return (p.data?.length ?? 0) + meta;
}

/** Walks an event's fields for payloads (objects with `data` bytes), keeping the largest. */
function largestIn(value: unknown, where: string, best: LargestPayload): void {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return;
  const v = value as Record<string, unknown>;
  if (v.data instanceof Uint8Array) {
    const bytes = payloadBytes(v as temporal.api.common.v1.IPayload);
    if (bytes > best.bytes) Object.assign(best, { bytes, where });
    return;
  }
  for (const [key, child] of Object.entries(v)) largestIn(child, /Attributes$/.test(key) ? where : `${where} ${key}`, best);
}

/** The facts of one history. */
export function historyFacts(history: History): HistoryFacts {
  const events = history.events ?? [];
  const largestPayload: LargestPayload = { bytes: 0, where: 'none' };
  const scheduled = new Map<string, string>();
  const completedActivities: Record<string, number> = {};
  const taskScheduled = new Map<string, number>();
  const workflowTaskWaitsMs: number[] = [];
  let workflowTaskTimeouts = 0;
  let workflowTaskStartToCloseTimeouts = 0;
  for (const e of events) {
    if (e.workflowTaskScheduledEventAttributes && e.eventTime) taskScheduled.set(String(e.eventId), tsToMs(e.eventTime));
    const scheduledAt = taskScheduled.get(String(e.workflowTaskStartedEventAttributes?.scheduledEventId ?? ''));
    if (scheduledAt !== undefined && e.eventTime) workflowTaskWaitsMs.push(tsToMs(e.eventTime) - scheduledAt);
    if (e.workflowTaskTimedOutEventAttributes) workflowTaskTimeouts++;
    if (e.workflowTaskTimedOutEventAttributes?.timeoutType === temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE) workflowTaskStartToCloseTimeouts++;
    const activity = e.activityTaskScheduledEventAttributes?.activityType?.name ?? scheduled.get(String(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? ''));
    if (e.activityTaskScheduledEventAttributes) scheduled.set(String(e.eventId), activity ?? '?');
    if (e.activityTaskCompletedEventAttributes) completedActivities[activity ?? '?'] = (completedActivities[activity ?? '?'] ?? 0) + 1;
    largestIn(e, `${typeName(e)}${activity ? ` ${activity}` : ''}`, largestPayload);
  }
  const last = events[events.length - 1];
  const closed = last && /^WORKFLOW_EXECUTION_(COMPLETED|FAILED|TERMINATED|TIMED_OUT|CANCELED|CONTINUED_AS_NEW)$/.test(typeName(last));
  return {
    events: events.length,
    historyBytes: temporal.api.history.v1.History.encode(history).finish().length,
    largestPayload,
    workflowMs: closed && events[0]?.eventTime && last.eventTime ? tsToMs(last.eventTime) - tsToMs(events[0].eventTime) : undefined,
    closedBy: closed ? typeName(last) : 'open',
    completedActivities,
    workflowTaskTimeouts,
    workflowTaskStartToCloseTimeouts,
    workflowTaskWaitsMs,
  };
}

/** A run's history, fetched from the server. */
export async function fetchHistory(client: Client, workflowId: string): Promise<History> {
  return client.workflow.getHandle(workflowId).fetchHistory();
}

/**
 * How long a full replay of the history takes against the current workflow code, in ms, timed
 * in a fresh process (bench/replay.ts) once the workflows are bundled.
 */
export async function replayMs(history: History, workflowId: string): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gameday-bench-replay-'));
  try {
    const file = path.join(dir, 'history.pb');
    await writeFile(file, temporal.api.history.v1.History.encode(history).finish());
    const { stdout } = await run(process.execPath, [path.join(__dirname, 'replay.js'), file, workflowId], { maxBuffer: 16 << 20 });
    return (JSON.parse(stdout.trim().split('\n').pop()!) as { ms: number }).ms;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The run's fault records, as its `gamedayFaults` memo holds them (what the janitor reads). */
export async function faultsMemo(handle: WorkflowHandle): Promise<PlannedFault[]> {
  const { memo } = await handle.describe();
  return (memo?.[FAULTS_MEMO] as PlannedFault[] | undefined) ?? [];
}

/** The run's journal.json in its report folder; undefined when the run wrote none. */
export async function readJournal(reportDir: string | undefined): Promise<Journal | undefined> {
  if (!reportDir) return undefined;
  return readFile(path.join(reportDir, 'journal.json'), 'utf8').then((t) => JSON.parse(t) as Journal, () => undefined);
}
