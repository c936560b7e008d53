import { existsSync } from 'node:fs';
import path from 'node:path';
import type { QueryDefinition } from '@temporalio/common';
import type { Config } from '../config';
import { findScenario, loadSpecFile } from '../spec/loader';
import { TRIGGER_MEMO } from '../memo-keys';
import { newWorkflowId } from '../workflow-id';
import { samplingProgress, transitionPrinter } from './progress';
import { TemporalHttp, TemporalHttpError, type HttpEvent, type HttpStart } from './temporal-http';
import type { ExperimentInput, ExperimentResult, ScenarioInput, ScenarioJournal } from '../types';

/**
 * The workflows' signals and queries, loaded when first used (types and plain objects: they bring
 * in no part of the SDK).
 */
export const definitions = () => import('../../workflows/definitions');

/**
 * What the CLI's wait needs of a started run, over the SDK's gRPC client (run-grpc.ts) or
 * Temporal's HTTP API (httpRun): the same wait, progress and worker check either way.
 */
export interface RunWatch {
  workflowId: string;
  /** The first run's id. */
  runId?: string;
  /** The query's answer; a query still in flight when `signal` aborts is dropped. */
  query<T>(query: QueryDefinition<T>, signal: AbortSignal): Promise<T>;
  /** The workflow's result; throws when it failed, was terminated, cancelled or timed out. */
  result<R>(): Promise<R>;
  /** The run's task queue, and the first heartbeat payload of each pending activity, decoded. */
  describe(): Promise<{ taskQueue: string; heartbeats: unknown[] }>;
  /** How many workers poll the task queue for workflow tasks. */
  workflowPollers(taskQueue: string): Promise<number>;
}

/** A path to a file (rather than a catalog id): it exists, has an extension, or has a slash. */
export function looksLikeFile(fileOrId: string): boolean {
  return existsSync(fileOrId) || /\.(ya?ml|json)$/.test(fileOrId) || fileOrId.includes(path.sep);
}

/** What `gameday run <file|id>` starts: an experiment or a scenario, with its input. */
export type RunTarget =
  | { workflowType: 'experiment'; input: ExperimentInput; id: string }
  | { workflowType: 'scenario'; input: ScenarioInput; id: string };

/**
 * The run for `gameday run <file|id>`: a file is validated here and sent whole; an id is sent as
 * such and resolved by the worker (a scenario when the local catalog holds a scenario of that id).
 */
export async function inputFor(fileOrId: string, catalogDir?: string): Promise<RunTarget> {
  if (!looksLikeFile(fileOrId)) {
    const isScenario = catalogDir ? await findScenario(catalogDir, fileOrId).then(() => true, () => false) : false;
    return isScenario ? { workflowType: 'scenario', input: { scenario: fileOrId }, id: fileOrId } : { workflowType: 'experiment', input: { experiment: fileOrId }, id: fileOrId };
  }
  const file = path.resolve(fileOrId);
  const loaded = await loadSpecFile(file);
  return loaded.kind === 'scenario'
    ? { workflowType: 'scenario', input: { spec: loaded.spec, source: file }, id: loaded.spec.id }
    : { workflowType: 'experiment', input: { spec: loaded.spec, source: file }, id: loaded.spec.id };
}

/** How the CLI starts a run, the same over gRPC and HTTP. */
export function startOf(config: Config, run: RunTarget, workflowId?: string): HttpStart & { workflowTaskTimeout: string } {
  return {
    workflowType: run.workflowType,
    taskQueue: config.taskQueue,
    workflowTaskTimeout: config.workflowTaskTimeout,
    workflowId: workflowId ?? newWorkflowId(run.id),
    input: [run.input],
    // How history tells the CLI's runs from the Web UI's: the workflow reads it at its start.
    memo: { [TRIGGER_MEMO]: 'cli' },
    // Shown on the run's page in the Web UI.
    summary: `${run.workflowType} ${run.id}`,
    details: 'spec' in run.input ? `**Hypothesis:** ${(run.input.spec as { hypothesis?: string }).hypothesis ?? ''}\n\n**Source:** ${run.input.source ?? 'inline'}` : `From the catalog: ${run.id}`,
  };
}

/** "2s", "500ms" (GAMEDAY_WORKFLOW_TASK_TIMEOUT) as the HTTP API's duration: "2s", "0.5s". */
function apiDuration(d: string): string {
  const m = /^(\d+)(ms|s)$/.exec(d);
  return m ? `${m[2] === 'ms' ? Number(m[1]) / 1000 : Number(m[1])}s` : d;
}

/** Starts the run through Temporal's HTTP API; what the wait needs of it. */
export async function startRunOverHttp(api: TemporalHttp, config: Config, run: RunTarget, workflowId?: string): Promise<RunWatch> {
  const start = startOf(config, run, workflowId);
  let runId: string;
  try {
    runId = await api.start({ ...start, workflowTaskTimeout: apiDuration(start.workflowTaskTimeout) });
  } catch (e) {
    if (e instanceof TemporalHttpError && e.code === 6) throw new TemporalHttpError(e.status, e.code, `a run with workflow id '${start.workflowId}' is already running`);
    throw e;
  }
  return httpRun(api, start.workflowId, runId);
}

/** The wait's view of a run through the HTTP API. */
export function httpRun(api: TemporalHttp, workflowId: string, runId?: string): RunWatch {
  return {
    workflowId,
    runId,
    query: (query, signal) => api.query(workflowId, query.name, [], signal),
    result: async <R>() => resultOf<R>(workflowId, await api.closeEvent(workflowId, runId)),
    describe: async () => {
      const d = await api.describe(workflowId);
      return { taskQueue: d.executionConfig?.taskQueue?.name ?? '', heartbeats: TemporalHttp.heartbeats(d) };
    },
    workflowPollers: (taskQueue) => api.workflowPollers(taskQueue),
  };
}

/** A close event as the run's result, or the error saying how it ended otherwise. */
function resultOf<R>(workflowId: string, e: HttpEvent): R {
  if (e.workflowExecutionCompletedEventAttributes) return TemporalHttp.result(e) as R;
  const failure = e.workflowExecutionFailedEventAttributes?.failure;
  if (failure) throw new Error(`run ${workflowId} failed: ${failure.cause?.message ?? failure.message ?? 'no message'}`);
  if (e.workflowExecutionTerminatedEventAttributes) throw new Error(`run ${workflowId} was terminated${e.workflowExecutionTerminatedEventAttributes.reason ? `: ${e.workflowExecutionTerminatedEventAttributes.reason}` : ''}`);
  if (e.workflowExecutionTimedOutEventAttributes) throw new Error(`run ${workflowId} timed out`);
  if (e.workflowExecutionCanceledEventAttributes) throw new Error(`run ${workflowId} was cancelled`);
  throw new Error(`run ${workflowId} closed with ${e.eventType}`);
}

/** How long a run may go without answering its status query before the CLI looks for a worker. */
const SILENCE_MS = 3000;

/**
 * Whether any worker polls the run's task queue for workflow tasks: undefined when a call to the
 * server failed. Temporal lists a poller for a few minutes after its last poll, so a worker that
 * has just died still counts.
 */
async function workersPolling(run: RunWatch): Promise<{ taskQueue: string; polling: boolean } | undefined> {
  try {
    const { taskQueue } = await run.describe();
    return { taskQueue, polling: (await run.workflowPollers(taskQueue)) > 0 };
  } catch {
    return undefined;
  }
}

/**
 * Says so when no worker polls the run's task queue (a worker not started, or started on another
 * queue): such a run waits, silent, until one does. Checked once the run has not answered its
 * status query for SILENCE_MS, then every 10 s until a worker polls or the run answers; the
 * worker's coming is said too.
 */
function watchForWorker(handle: RunWatch, print: (line: string) => void): { answered: () => void; stop: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let said = false;
  let done = false;
  const end = (line?: string): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    if (said && line) print(line);
  };
  const check = async (): Promise<void> => {
    const found = await workersPolling(handle);
    if (done) return;
    if (found?.polling) return end(`  a worker polls task queue '${found.taskQueue}' now`);
    if (found && !said) {
      said = true;
      print(`  no worker polls task queue '${found.taskQueue}': the run waits until one does (start one with GAMEDAY_TASK_QUEUE=${found.taskQueue} npx gameday worker)`);
    }
    timer = setTimeout(() => void check(), 10_000);
  };
  timer = setTimeout(() => void check(), SILENCE_MS);
  return { answered: () => end('  a worker took the run'), stop: () => end() };
}

/**
 * Calls `onStatus` with the status query's answer every `pollMs` until the returned stop is
 * called. A query still in flight when it is stopped is cancelled, and its answer is dropped: a
 * run that has ended is not queried again (a closed workflow answers only once a worker has
 * replayed its whole history), so that the wait ends the moment the result arrives.
 */
function followStatus<T>(handle: RunWatch, query: QueryDefinition<T>, onStatus: (status: T) => void | Promise<void>, pollMs: number, print: (line: string) => void): () => void {
  const worker = watchForWorker(handle, print);
  let stopped = false;
  // One controller a query: the SDK adds a listener to the signal for each call it wraps.
  let inFlight: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  const tick = async (): Promise<void> => {
    const abort = (inFlight = new AbortController());
    const status = await handle.query(query, abort.signal).catch(() => undefined);
    if (stopped) return;
    if (status) worker.answered();
    if (status) await onStatus(status);
    if (stopped) return;
    timer = setTimeout(() => void tick(), pollMs);
  };
  void tick();
  return () => {
    stopped = true;
    worker.stop();
    inFlight?.abort();
    clearTimeout(timer);
  };
}

/** Waits for the result, showing progress meanwhile; the result alone ends the wait. */
async function resultWithProgress<R, T>(handle: RunWatch, query: QueryDefinition<T>, onStatus: (status: T) => void | Promise<void>, pollMs: number, print: (line: string) => void): Promise<R> {
  const stop = followStatus(handle, query, onStatus, pollMs, print);
  try {
    return await handle.result<R>();
  } finally {
    stop();
  }
}

/**
 * Waits for a scenario to end, printing each stage as it starts and ends while it runs. How the
 * last stages ended is in the result's report, not printed here.
 */
export async function watchScenario(handle: RunWatch, print: (line: string) => void, pollMs = 500): Promise<ScenarioJournal['result']> {
  const seen = new Map<string, string>();
  return resultWithProgress(
    handle,
    (await definitions()).scenarioStatusQuery,
    (status) => {
      for (const s of status.stages) {
        const line = s.status === 'done' ? `${s.result?.verdict}: ${s.result?.reason}` : s.status === 'skipped' ? `skipped: ${s.skippedBecause}` : s.status;
        const key = `${status.iteration}/${s.name}`;
        if (s.status !== 'pending' && seen.get(key) !== line) {
          print(`  [iteration ${status.iteration}] stage ${s.name}: ${line}`);
          seen.set(key, line);
        }
      }
    },
    pollMs,
    print,
  );
}

/**
 * Waits for the run to end, printing each new event of the status query while it runs (stage,
 * injections, reverts, probe misses), so that a long observation is never silent. Events after
 * the last poll are in the report; the verdict is the result's.
 */
export async function watch(handle: RunWatch, print: (line: string) => void, pollMs = 500): Promise<ExperimentResult> {
  let printed = 0;
  const transitions = transitionPrinter(print);
  return resultWithProgress(
    handle,
    (await definitions()).statusQuery,
    async (status) => {
      // The query returns the newest events only; eventCount says how many there were in all.
      const fresh = status.events.slice(Math.max(0, status.events.length - (status.eventCount - printed)));
      for (const e of fresh) print(e.message.startsWith('stage ') ? `[${e.stage}]` : `  ${e.at.slice(11, 19)} ${e.message}`);
      printed = status.eventCount;
      // Probe transitions come from the sampling activities' heartbeats, not from the history.
      if (status.stage === 'observe' || status.stage === 'verify') transitions(await samplingProgress(handle).catch(() => []));
    },
    pollMs,
    print,
  );
}

