import { readFile, statfs, unlink } from 'node:fs/promises';
import type Docker from 'dockerode';
import { FailureType, GamedayError } from '../errors';
import type { FaultSpec } from '../spec/schema';
import type { ContainerRef, PlannedFault } from '../types';
import { inspectContainer, runningPid } from './container-host';
import { killStress, memoryCgroupOf, startLoad, STRESS_MARK, stressProcesses } from './docker-stress';
import { selfLimitDeadline, tagOf, type FaultDeps } from './family';
import { fillDir, fillFile } from './kinds/docker';

/**
 * A container out of memory the way a real one gets there: its own processes are what the OOM
 * killer ends. A held allocation (docker-memory-stress) is charged to the container but belongs
 * to the stress process, which the OOM killer then picks; a file in a tmpfs belongs to no
 * process. So a small writer (sh, then dd) joins the container's memory cgroup, writes
 * `megabytes` into a tmpfs directory inside the container, and exits: the pages stay charged to
 * the container until the file is removed, or the tmpfs goes with the container's processes
 * (its /dev/shm, a `--tmpfs` mount). The process that started the writer (stress-load.js, out of
 * the container) stays until the fault's deadline, then removes the file, so that the fault
 * ends by itself should every worker die; reverts find it by its tag. Needs root on the Docker
 * host, like the other stress faults.
 */

type Fill = Extract<FaultSpec, { kind: 'docker-memory-fill' }>;

/** statfs's type of a tmpfs (linux/magic.h TMPFS_MAGIC). */
const TMPFS_MAGIC = 0x01021994;
const MB = 1024 * 1024;

interface MemoryInfo {
  HostConfig?: { Memory?: number };
  State: { Running: boolean; Restarting: boolean; Pid: number; Status: string; OOMKilled?: boolean };
  RestartCount?: number;
}

function limitOf(info: MemoryInfo | undefined): string {
  const bytes = info?.HostConfig?.Memory ?? 0;
  return bytes > 0 ? `its memory limit: ${Math.round(bytes / MB)} MB` : 'it has no memory limit: the host holds the fill';
}

/** Refuses a directory that is not a tmpfs in the container, or has too little room. */
async function checkTmpfs(pid: number, dir: string, megabytes: number, c: ContainerRef): Promise<void> {
  const fs = await statfs(`/proc/${pid}/root${dir}`).catch((e: NodeJS.ErrnoException) => {
    throw new GamedayError(FailureType.FaultNotInjectable, `container ${c.name} has no directory ${dir} to fill (${e.code ?? e.message})`);
  });
  if (fs.type !== TMPFS_MAGIC) {
    throw new GamedayError(FailureType.FaultNotInjectable, `${dir} in container ${c.name} is not a tmpfs: a file there would fill its disk, not its memory; give path a tmpfs (docker run --tmpfs ${dir}:size=…, compose tmpfs:) or /dev/shm`);
  }
  const freeMb = Math.floor((fs.bavail * fs.bsize) / MB);
  if (freeMb < megabytes) {
    throw new GamedayError(FailureType.FaultNotInjectable, `${dir} in container ${c.name} has ${freeMb} MB free, less than the ${megabytes} MB to write: make it larger (shm_size, or docker run --shm-size, for /dev/shm; size= of a tmpfs mount)`);
  }
}

/** Whether a host process has ended (gone, or a zombie), waiting at most `ms` for it. */
async function ended(pid: number, ms: number): Promise<boolean> {
  for (const until = Date.now() + ms; ; ) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // The state is the field after the command, which is in parentheses and may hold spaces.
    if (/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2))) return true;
    if (stat === '') return true;
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Fills the tmpfs: returns what happened, for the `injected` event ("wrote 160 MB …" or "the
 * OOM killer ended the writer …"). Idempotent: a fill whose process still runs is left alone.
 * @throws GamedayError FaultNotInjectable when the container is stopped or paused, the path is
 *   no tmpfs or too small, or the writer cannot join the cgroup (the worker is not root).
 */
export async function injectMemoryFill(deps: FaultDeps, fault: Fill, c: ContainerRef, planned: PlannedFault): Promise<string> {
  const { pid, paused } = await runningPid(deps.docker, c, 'a memory fill needs its tmpfs');
  if (paused) throw new GamedayError(FailureType.FaultNotInjectable, `container ${c.name} is paused: its processes could not run into the limit`);
  const tag = tagOf(planned);
  const file = fillFile(fault, planned);
  if ((await stressProcesses(tag, c.id)).length > 0) return `the fill ${file} of container ${c.name} is in place`;
  await checkTmpfs(pid, fillDir(fault), fault.megabytes, c);
  const cgroup = await memoryCgroupOf(pid);
  const ready = await startLoad([STRESS_MARK, tag, c.id, 'fill', String(fault.megabytes), String(selfLimitDeadline(deps, planned)), JSON.stringify([cgroup]), String(pid), file], c);
  const info = (await inspectContainer(deps.docker, c)) as MemoryInfo | undefined;
  // The OOM killer picks the container's processes first: the writer is tiny, and killed only
  // when what the others freed is still not enough.
  const gone = (await ended(pid, 1000)) ? `; its process ${pid} was killed` : '';
  if (ready === 'ready oom-killed') return `the OOM killer ended the writer of ${file} in container ${c.name} before its ${fault.megabytes} MB (${limitOf(info)})${gone}`;
  return `wrote ${fault.megabytes} MB into ${file} in container ${c.name} (${limitOf(info)})${gone}`;
}

/**
 * Stops the fill's process and removes its file through the container's process now, from any
 * worker on this host. Idempotent: a container that stopped or restarted took its tmpfs, and
 * the file, with it; a file already removed is nothing to do.
 */
export async function revertMemoryFill(docker: Docker, fault: Fill, c: ContainerRef, planned: PlannedFault): Promise<string> {
  const tag = tagOf(planned);
  const file = fillFile(fault, planned);
  const pids = await stressProcesses(tag, c.id);
  await killStress(pids, tag, c);
  const info = (await inspectContainer(docker, c)) as MemoryInfo | undefined;
  if (!info) return `container ${c.name} no longer exists: nothing to revert (its tmpfs went with it)`;
  const oom = info.State.OOMKilled ? `; its last exit was an OOM kill, restarts: ${info.RestartCount ?? 0}` : '';
  if (!info.State.Running || info.State.Restarting || info.State.Pid <= 0) return `container ${c.name} is ${info.State.Status}: its tmpfs, and ${file} in it, went with its processes${oom}`;
  try {
    await unlink(`/proc/${info.State.Pid}/root${file}`);
    return `removed ${file} from container ${c.name}${oom}`;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`could not remove ${file} from container ${c.name}: ${(e as Error).message}`);
    return `no ${file} left in container ${c.name}${oom ? `: it went with the processes the OOM killer ended${oom}` : ''}`;
  }
}
