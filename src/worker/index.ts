import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities';
import type { Config } from '../config';
import { connectDocker } from '../faults/docker';
import { connectClient, ensureSearchAttributes } from '../temporal';

export interface WorkerSetup {
  config: Config;
  /** Another task queue than the configured one (tests use one per file). */
  taskQueue?: string;
  /** Replaces the default dependencies of the activities. */
  deps?: Partial<ActivityDeps>;
  /** A pre-built workflow bundle, to skip bundling (about 1.5 s) in tests that start many workers. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/** The worker's composition root: connects, registers search attributes, wires the activities. */
let runtimeInstalled = false;

/** The SDK's runtime, once per process, logging at the configured level. */
function installRuntime(config: Config): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger(config.logLevel) });
}

export async function createWorker(setup: WorkerSetup): Promise<{ worker: Worker; connection: NativeConnection }> {
  const { config } = setup;
  installRuntime(config);
  const client = await connectClient(config);
  await ensureSearchAttributes(client, config.namespace);
  await client.connection.close();
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const deps: ActivityDeps = {
    docker: connectDocker(),
    experimentsDir: config.experimentsDir,
    reportsDir: config.reportsDir,
    ...setup.deps,
  };
  const worker = await Worker.create({
    connection,
    namespace: config.namespace,
    taskQueue: setup.taskQueue ?? config.taskQueue,
    ...(setup.workflowBundle ? { workflowBundle: setup.workflowBundle } : { workflowsPath: require.resolve('../../workflows') }),
    activities: createActivities(deps),
  });
  return { worker, connection };
}
