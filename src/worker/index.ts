import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities';
import { stillInPlace, stillRunning } from '../../activities/due-check';
import type { Config } from '../config';
import { closeEvents } from '../events';
import { connectDocker } from '../faults/docker';
import { DueReverts, type DueRevertTimers } from '../faults/due-reverts';
import { ReverterProcess } from '../faults/reverter';
import { gamedayMetrics } from '../metrics/gameday';
import { installRuntime } from '../metrics/runtime';
import { closePublishers } from '../probes/nats';
import { closeWebsockets } from '../probes/websocket';
import { migrateResultsStore } from '../store/migrate';
import { openResultsStore } from '../store/postgres';
import { keepPruning } from '../store/retention';
import { StoreWriter } from '../store/writer';
import { faultQueueOf } from '../task-queues';
import { connectClient, ensureSearchAttributes } from '../temporal';
import { explainConnectFailure, temporalConnectionOptions } from '../temporal-connection';
import { keepJanitorFrom, type JanitorScheduleSetting } from './janitor-schedule';

export interface WorkerSetup {
  config: Config;
  /** Another task queue than the configured one (tests use one per file). */
  taskQueue?: string;
  /** Replaces the default dependencies of the activities. */
  deps?: Partial<ActivityDeps>;
  /** A pre-built workflow bundle, to skip bundling (about 1.5 s) in tests that start many workers. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /**
   * Keep the janitor's schedule (see src/worker/janitor-schedule.ts): true keeps gameday-janitor,
   * options keep another (tests: their own, scoped to their task queue), false none.
   * @default config.janitorSchedule (GAMEDAY_JANITOR, on unless set to off)
   */
  janitorSchedule?: JanitorScheduleSetting;
}

/** The two workers of one Gameday worker process, run and shut down together. */
export interface WorkerPair {
  run(): Promise<void>;
  shutdown(): void;
  /** Runs both until `fn` settles, then shuts them down; returns what `fn` returned. */
  runUntil<T>(fn: () => Promise<T>): Promise<T>;
}

/**
 * Activity slots of the main task queue: sampling activities (observe, guardrails, verify) hold
 * one each for as long as their faults last, so it takes a few per running experiment.
 */
const SAMPLING_SLOTS = 2000;
/** Activity slots of the fault queue, for injects and reverts only. */
const FAULT_SLOTS = 200;

export interface GamedayWorker {
  /** Polls the task queue (workflows, probes) and its fault queue (injects, reverts). */
  worker: WorkerPair;
  connection: NativeConnection;
  /** Closes every connection the worker opened; call after `worker.run()` resolves. */
  close(): Promise<void>;
}

/**
 * The worker's composition root: installs the SDK's runtime (with /metrics when
 * GAMEDAY_METRICS_ADDRESS is set), connects, registers search attributes, wires the activities.
 */
export async function createWorker(setup: WorkerSetup): Promise<GamedayWorker> {
  const { config } = setup;
  installRuntime(config);
  const metrics = gamedayMetrics();
  const client = await connectClient(config);
  await ensureSearchAttributes(client, config.namespace);
  const connection = await connectNative(config);
  const store = setup.deps?.store ?? openResultsStore(config.resultsUrl);
  const writer = setup.deps?.writer ?? new StoreWriter(store);
  // In the background: a store that is down must never keep a worker from reverting faults.
  void migrateWhenReachable(config.resultsUrl);
  const dueReverts = dueRevertsFor(config, setup.deps);
  const deps: ActivityDeps = {
    docker: connectDocker(),
    client,
    experimentsDir: config.experimentsDir,
    reportsDir: config.reportsDir,
    allowedTargets: config.allowedTargets,
    commandPolicy: { allowInline: config.allowInlineCommands, catalogDir: config.experimentsDir },
    eventsNatsUrl: config.eventsNatsUrl,
    freezeFile: config.freezeFile,
    freezeFileRequired: config.freezeFileRequired,
    store,
    writer,
    dueReverts,
    notify: config.notify,
    uiUrl: config.uiUrl,
    namespace: config.namespace,
    metrics,
    ...setup.deps,
  };
  const taskQueue = setup.taskQueue ?? config.taskQueue;
  const activities = createActivities(deps);
  const main = await Worker.create({
    connection,
    namespace: config.namespace,
    taskQueue,
    ...(setup.workflowBundle ? { workflowBundle: setup.workflowBundle } : { workflowsPath: require.resolve('../../workflows') }),
    activities,
    maxConcurrentActivityTaskExecutions: SAMPLING_SLOTS,
    // A sampling activity's heartbeat carries how far its samples are stored; a worker taking over
    // resamples from there. The SDK would send one every 80% of the 5 s heartbeat timeout.
    maxHeartbeatThrottleInterval: '2s',
    // A worker that dies holds its workflows' sticky queue: after this long without a poll, the
    // server hands their next task (a fault's timer firing, say) to any other worker. The SDK's
    // 10 s default would make a revert that late; a busy worker only costs a replay.
    stickyQueueScheduleToStartTimeout: '1s',
  });
  const faults = await Worker.create({ connection, namespace: config.namespace, taskQueue: faultQueueOf(taskQueue), activities, maxConcurrentActivityTaskExecutions: FAULT_SLOTS });
  const janitor = await keepJanitorFrom(client, setup);
  const reconciled = metrics.keepReconciled({ runOpen: (run) => stillRunning(client, run), faultInPlace: (run, faultId) => stillInPlace(client, run, faultId) });
  // In the worker, not an activity: never on the fault queue, never in a revert's way.
  const pruner = keepPruning(store, config.resultsRetention, (msg) => Runtime.instance().logger.warn(msg));
  return {
    worker: pair(main, faults),
    connection,
    close: async () => {
      janitor.stop();
      reconciled.stop();
      dueReverts.close();
      pruner.stop();
      // Samples still on their way get a moment to reach the store; a retried activity resamples the rest.
      await writer.drained(5000);
      writer.close();
      await Promise.all([connection.close(), client.connection.close(), closePublishers(), closeWebsockets(), closeEvents(), setup.deps?.store ? undefined : store.close()]);
    },
  };
}

/**
 * Due-time reverts in a reverter process of their own (src/faults/reverter.ts), unless configured
 * otherwise or the activities were handed another Docker engine or environment than this
 * process's (tests), which a separate process would not see: those revert in this process.
 */
export function dueRevertsFor(config: Config, deps: Partial<Pick<ActivityDeps, 'dueReverts' | 'docker' | 'env'>> | undefined): DueRevertTimers {
  if (deps?.dueReverts) return deps.dueReverts;
  if (config.reverter === 'worker' || deps?.docker || deps?.env) return new DueReverts();
  return new ReverterProcess((msg) => Runtime.instance().logger.warn(msg));
}

/** The worker's own connection, with the same settings as its Client; a failure says why in one line. */
export async function connectNative(config: Config): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(temporalConnectionOptions(config));
  } catch (e) {
    throw await explainConnectFailure(config, e);
  }
}

/** Runs both workers; when one stops (shut down or failed), the other is shut down too. */
export function pair(main: Worker, faults: Worker): WorkerPair {
  const stopBoth = (): void => {
    for (const w of [main, faults]) if (w.getState() === 'RUNNING') w.shutdown();
  };
  return {
    async run() {
      const runs = [main.run(), faults.run()].map((r) => r.finally(stopBoth));
      await Promise.all(runs);
    },
    shutdown: stopBoth,
    async runUntil(fn) {
      const runs = Promise.all([main.run(), faults.run()].map((r) => r.finally(stopBoth)));
      try {
        return await fn();
      } finally {
        stopBoth();
        await runs;
      }
    },
  };
}

const migrating = new Map<string, Promise<void>>();
/** Applies the results store's migrations once per process, retrying every 5 s while the store is unreachable. */
function migrateWhenReachable(url: string): Promise<void> {
  const known = migrating.get(url);
  if (known) return known;
  const done = (async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        await migrateResultsStore(url);
        return;
      } catch (e) {
        if (attempt === 1) process.stderr.write(`gameday worker: the results store is not ready (${(e as Error).message}); retrying in the background\n`);
        await new Promise((r) => setTimeout(r, 5000).unref());
        if (attempt > 720) return;
      }
    }
  })();
  migrating.set(url, done);
  return done;
}
