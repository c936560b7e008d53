import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import type Docker from 'dockerode';
import { FailureType, GamedayError } from '../errors';
import type { ContainerRef } from '../types';

/**
 * What the faults that act on a container from the host (iptables in its network namespace,
 * stress in its cgroup) share: the container's process on the host, a host command run with a
 * clear error, and the deadline after which such a fault ends by itself.
 */

/** The inspect fields these faults read. */
export interface ContainerInfo {
  Id: string;
  State: { Running: boolean; Paused: boolean; Restarting: boolean; Pid: number; Status: string };
}

/** The container as `docker inspect` sees it now; undefined when it no longer exists. */
export async function inspectContainer(docker: Docker, c: ContainerRef): Promise<ContainerInfo | undefined> {
  try {
    return (await docker.getContainer(c.id).inspect()) as ContainerInfo;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return undefined;
    throw e;
  }
}

/**
 * The host pid of a running container's first process.
 * @throws GamedayError TargetNotFound when it no longer exists, FaultNotInjectable when it does
 *   not run (`what` says what needed it running).
 */
export async function runningPid(docker: Docker, c: ContainerRef, what: string): Promise<{ pid: number; paused: boolean }> {
  const info = await inspectContainer(docker, c);
  if (!info) throw new GamedayError(FailureType.TargetNotFound, `container ${c.name} (${c.id.slice(0, 12)}) no longer exists`);
  if (!info.State.Running || info.State.Restarting || info.State.Pid <= 0) {
    throw new GamedayError(FailureType.FaultNotInjectable, `container ${c.name} is ${info.State.Status}, not running: ${what}`);
  }
  return { pid: info.State.Pid, paused: info.State.Paused };
}

/** Runs a host command; resolves with its exit code and output (never rejects on a non-zero exit). */
export function runHost(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      if (err && code === -1) return reject(new Error(`${cmd} ${args.join(' ')} could not run: ${err.message}`));
      resolve({ code, stdout, stderr });
    });
  });
}


/**
 * The host processes a fault left to end by themselves, found by their command line: the words
 * `<mark> <tag> <container id>` (a stress load, a docker-exec's self-limit).
 */
export async function markedProcesses(mark: string, tag: string, containerId: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const args: string[] = await readFile(`/proc/${entry}/cmdline`, 'utf8').then((s) => s.split('\0'), () => []);
    const at = args.indexOf(mark);
    if (at >= 0 && args[at + 1] === tag && args[at + 2] === containerId) pids.push(Number(entry));
  }
  return pids;
}
