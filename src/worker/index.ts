import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities';
import type { Config } from '../config';
import { closeEvents } from '../events';
import { connectDocker } from '../faults/docker';
import { closePublishers } from '../probes/nats';
import { connectClient, ensureSearchAttributes } from '../temporal';
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

/** The worker's composition root: connects, registers search attributes, wires the activities. */
let runtimeInstalled = false;

/** The SDK's runtime, once per process, logging at the configured level. */
function installRuntime(config: Config): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger(config.logLevel) });
}

export interface GamedayWorker {
  worker: Worker;
  connection: NativeConnection;
  /** Closes every connection the worker opened; call after `worker.run()` resolves. */
  close(): Promise<void>;
}

export async function createWorker(setup: WorkerSetup): Promise<GamedayWorker> {
  const { config } = setup;
  installRuntime(config);
  const client = await connectClient(config);
  await ensureSearchAttributes(client, config.namespace);
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const deps: ActivityDeps = {
    docker: connectDocker(),
    client,
    experimentsDir: config.experimentsDir,
    reportsDir: config.reportsDir,
    allowedTargets: config.allowedTargets,
    eventsNatsUrl: config.eventsNatsUrl,
    freezeFile: config.freezeFile,
    freezeFileRequired: config.freezeFileRequired,
    ...setup.deps,
  };
  const worker = await Worker.create({
    connection,
    namespace: config.namespace,
    taskQueue: setup.taskQueue ?? config.taskQueue,
    ...(setup.workflowBundle ? { workflowBundle: setup.workflowBundle } : { workflowsPath: require.resolve('../../workflows') }),
    activities: createActivities(deps),
    // A worker that dies holds its workflows' sticky queue: after this long without a poll, the
    // server hands their next task (a fault's timer firing, say) to any other worker. The SDK's
    // 10 s default would make a revert that late; a busy worker only costs a replay.
    stickyQueueScheduleToStartTimeout: '1s',
  });
  const janitor = await keepJanitorFrom(client, setup);
  return {
    worker,
    connection,
    close: async () => {
      janitor.stop();
      await Promise.all([connection.close(), client.connection.close(), closePublishers(), closeEvents()]);
    },
  };
}
