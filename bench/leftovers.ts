/**
 * What an interrupted bench may leave behind, and its removal: containers labelled with a dead
 * bench's pid, runs still open on a dead bench's task queues (`bench-<part>-<pid>-<ms>`), and
 * `gameday worker` processes on those queues. A bench that is still running is left alone.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { killSpawnedWorkers } from '../test/helpers';
import { isAlive, removeBenchContainers } from './containers';
import { progress } from './lib';

const BENCH_QUEUE = /^bench-[a-z0-9]+-(\d+)-\d+$/;

/** The bench whose task queue this is has ended. */
function orphanedQueue(queue: string | undefined): boolean {
  const pid = BENCH_QUEUE.exec(queue ?? '')?.[1];
  return pid !== undefined && !isAlive(Number(pid));
}

/** Worker processes (`gameday.js worker`) serving a task queue of a bench that has ended. */
function orphanedWorkers(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!cmdline.some((a) => a.endsWith('bin/gameday.js')) || !cmdline.includes('worker')) continue;
      const queue = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').find((v) => v.startsWith('GAMEDAY_TASK_QUEUE='))?.slice('GAMEDAY_TASK_QUEUE='.length);
      if (orphanedQueue(queue)) pids.push(Number(entry));
    } catch {
      // The process ended meanwhile.
    }
  }
  return pids;
}

/** Removes what earlier, interrupted benches left: containers, open runs, workers. */
export async function removeLeftovers(client: Client): Promise<void> {
  const workers = orphanedWorkers();
  workers.forEach((pid) => process.kill(pid, 'SIGKILL'));
  let runs = 0;
  let listed = 0;
  for await (const w of client.workflow.list({ query: `ExecutionStatus = 'Running'` })) {
    if (++listed > 10_000) break;
    if (!orphanedQueue(w.taskQueue)) continue;
    await client.workflow.getHandle(w.workflowId, w.runId).terminate('bench: leftover of an interrupted bench').catch(() => undefined);
    runs++;
  }
  const containers = await removeBenchContainers(true);
  if (workers.length + runs + containers > 0) progress(`removed leftovers of an interrupted bench: ${workers.length} workers, ${runs} open runs, ${containers} containers`);
}

/** On SIGINT or SIGTERM: kill the workers this bench spawned, remove its containers, exit. */
export function cleanUpOnSignal(): void {
  const stop = (signal: NodeJS.Signals): void => {
    progress(`${signal}: cleaning up`);
    killSpawnedWorkers();
    void removeBenchContainers().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
