/**
 * The bench's own targets: busybox containers labelled `gameday.bench=true` (and opted in with
 * `gameday.enabled=true`), created in parallel batches and removed by label; and the Docker
 * engine's event stream, which says when each container was really paused and unpaused.
 */
import type { Readable } from 'node:stream';
import { docker } from '../test/helpers';
import { delay } from './lib';

const IMAGE = 'gameday/busybox:local';
/** Every container the bench creates carries it; leftovers of an interrupted bench are found by it. */
export const BENCH_LABEL = 'gameday.bench';
/** The pid of the bench that created the container: a leftover is one whose bench is gone. */
export const BENCH_PID_LABEL = 'gameday.bench.pid';

/** Creates and starts busybox containers running `sleep 3600`, `batch` at a time; returns their names. */
export async function createContainers(names: string[], batch = 20): Promise<string[]> {
  for (let i = 0; i < names.length; i += batch) {
    await Promise.all(
      names.slice(i, i + batch).map(async (name) => {
        await docker.getContainer(name).remove({ force: true }).catch(() => undefined);
        const c = await docker.createContainer({
          name,
          Image: IMAGE,
          Cmd: ['sleep', '3600'],
          Labels: { 'gameday.enabled': 'true', [BENCH_LABEL]: 'true', [BENCH_PID_LABEL]: String(process.pid) },
          HostConfig: { AutoRemove: false },
        });
        await c.start();
      }),
    );
  }
  return names;
}

/**
 * Force-removes (paused ones too) the containers this bench created, or with `leftovers`, those
 * of benches that are no longer running; returns how many.
 */
export async function removeBenchContainers(leftovers = false, batch = 50): Promise<number> {
  const all = await docker.listContainers({ all: true, filters: { label: [`${BENCH_LABEL}=true`] } });
  const list = all.filter((c) => (leftovers ? !isAlive(Number(c.Labels[BENCH_PID_LABEL])) : c.Labels[BENCH_PID_LABEL] === String(process.pid)));
  for (let i = 0; i < list.length; i += batch) {
    await Promise.all(list.slice(i, i + batch).map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  }
  return list.length;
}

/** One pause or unpause, as the Docker engine saw it. */
export interface ContainerEvent {
  action: string;
  name: string;
  /** Milliseconds since the epoch, from the event's `timeNano`. */
  at: number;
}

interface RawEvent {
  Action?: string;
  Actor?: { Attributes?: Record<string, string> };
  timeNano?: number;
}

/**
 * The Docker engine's pause and unpause events of the bench's containers, collected from the
 * moment `open` resolves until `close`.
 */
export class ContainerEvents {
  readonly events: ContainerEvent[] = [];
  private stream?: Readable;

  /** Subscribes to the engine's event stream. */
  static async open(): Promise<ContainerEvents> {
    const log = new ContainerEvents();
    const stream = (await docker.getEvents({ filters: { type: ['container'], event: ['pause', 'unpause'], label: [`${BENCH_LABEL}=true`] } })) as unknown as Readable;
    let rest = '';
    stream.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines.filter((l) => l.trim())) {
        const e = JSON.parse(line) as RawEvent;
        log.events.push({ action: e.Action ?? '', name: e.Actor?.Attributes?.name ?? '', at: (e.timeNano ?? 0) / 1e6 });
      }
    });
    stream.on('error', () => undefined);
    log.stream = stream;
    return log;
  }

  /** The first event of this action on this container, at or after `since` (ms since the epoch). */
  first(action: 'pause' | 'unpause', name: string, since = 0): ContainerEvent | undefined {
    return this.events.find((e) => e.action === action && e.name === name && e.at >= since);
  }

  /** Waits until `count` events of the action have arrived (or `ms` pass); returns how many did. */
  async waitFor(action: 'pause' | 'unpause', count: number, ms: number): Promise<number> {
    const deadline = Date.now() + ms;
    const seen = (): number => this.events.filter((e) => e.action === action).length;
    while (seen() < count && Date.now() < deadline) await delay(50);
    return seen();
  }

  /** Ends the subscription. */
  close(): void {
    this.stream?.destroy();
  }
}

/** Whether a process of this pid is running. */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
