import { Worker } from '@temporalio/worker';
import { createFaultActivities, type FaultActivityDeps } from '../../activities/faults';
import { createHostSamplingActivities } from '../../activities/host-sampling';
import type { Config } from '../config';
import { closeEvents } from '../events';
import { connectDocker } from '../faults/docker';
import { gamedayMetrics } from '../metrics/gameday';
import { installRuntime } from '../metrics/runtime';
import { openResultsStore } from '../store';
import { StoreWriter } from '../store/writer';
import { faultQueueOf, hostQueueOf } from '../task-queues';
import { connectClient } from '../temporal';
import { connectNative, dueRevertsFor, pair, type WorkerPair } from '../worker';

export interface AgentSetup {
  config: Config;
  /** The host this agent stands for: targets with `host: NAME` are its. */
  host: string;
  /** Replaces the default dependencies (another Docker engine, in tests). */
  deps?: Partial<FaultActivityDeps>;
}

/** Activity slots of the host's queue (resolving its targets, its probes) and of its fault queue. */
const HOST_SLOTS = 100;
const FAULT_SLOTS = 200;

export interface GamedayAgent {
  /** Polls the host's task queue (resolve, probes) and its fault queue (inject, revert). */
  worker: WorkerPair;
  host: string;
  taskQueue: string;
  /** Closes every connection the agent opened; call after `worker.run()` resolves. */
  close(): Promise<void>;
}

/**
 * An agent for one host (`gameday agent --host NAME`): a worker without workflows that runs, on
 * this host, the resolve, inject and revert activities of the targets that name it and the probes
 * that name it (sampleToStore: their samples go straight to Gameday's results store, the run gets
 * aggregates), with this host's Docker engine, processes and environment. It needs Temporal and
 * Gameday's central results store (GAMEDAY_RESULTS_URL), no Docker socket of another machine; the
 * orchestrating workers need nothing of this host's.
 * Any number of agents may serve one host: they poll the same queues, and whichever is alive takes
 * the work, a revert its dead sibling left included. Faults it injects are reverted at their due
 * time by this process too (src/faults/due-reverts.ts), as on a worker.
 */
export async function createAgent(setup: AgentSetup): Promise<GamedayAgent> {
  const { config, host } = setup;
  installRuntime(config);
  const client = await connectClient(config);
  const connection = await connectNative(config);
  const dueReverts = dueRevertsFor(config, setup.deps);
  const deps: FaultActivityDeps = {
    docker: connectDocker(),
    client,
    allowedTargets: config.allowedTargets,
    // This host's own catalog: a command no file of it holds is not run here, whatever the orchestrating worker allowed.
    commandPolicy: { allowInline: config.allowInlineCommands, catalogDir: config.experimentsDir },
    eventsNatsUrl: config.eventsNatsUrl,
    dueReverts,
    notify: config.notify,
    uiUrl: config.uiUrl,
    namespace: config.namespace,
    metrics: gamedayMetrics(),
    ...setup.deps,
  };
  // Gameday's own results store (GAMEDAY_RESULTS_URL), never one of this host's: the probes that
  // name this host write their samples there, as a worker's do. Opened lazily and written through
  // a queue that retries: a store that is down never keeps this agent from reverting its faults.
  const store = openResultsStore(config.resultsUrl);
  const writer = new StoreWriter(store);
  const activities = { ...createFaultActivities(deps), ...createHostSamplingActivities({ probe: { docker: deps.docker, env: deps.env }, writer, metrics: deps.metrics }) };
  const taskQueue = hostQueueOf(host);
  const base = { connection, namespace: config.namespace, activities };
  // A probe activity's heartbeat carries how far its samples are stored (as on a worker).
  const main = await Worker.create({ ...base, taskQueue, maxConcurrentActivityTaskExecutions: HOST_SLOTS, maxHeartbeatThrottleInterval: '2s' });
  const faults = await Worker.create({ ...base, taskQueue: faultQueueOf(taskQueue), maxConcurrentActivityTaskExecutions: FAULT_SLOTS });
  return {
    worker: pair(main, faults),
    host,
    taskQueue,
    close: async () => {
      dueReverts.close();
      // Samples still on their way get a moment to reach the store; a retried activity resamples the rest.
      await writer.drained(5000);
      writer.close();
      await Promise.all([connection.close(), client.connection.close(), closeEvents(), store.close()]);
    },
  };
}
