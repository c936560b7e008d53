import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import { FailureType, GamedayError } from '../errors';
import type { FaultSpec } from '../spec/schema';
import type { ContainerRef, PlannedFault } from '../types';
import { inspectContainer, markedProcesses, runningPid } from './container-host';
import { selfLimitDeadline, type FaultDeps } from './family';
import { tagOf } from './family';

/**
 * CPU and memory stress in a container, whatever its image holds (the NATS image has no shell):
 * the load is a host process (stress-load.js, run by the worker's Node) that moves itself into
 * the container's cgroups, so that `docker stats`, `docker top` and the container's limits see it
 * as the container's own. It needs the worker to run as root on the Docker host.
 */

type Stress = Extract<FaultSpec, { kind: 'docker-cpu-stress' | 'docker-memory-stress' }>;

const LOAD_SCRIPT = path.join(__dirname, 'stress-load.js');
/** The first word of a stress process's arguments, before its tag. */
export const STRESS_MARK = 'gameday-stress';

interface CgroupFile {
  file: string;
  required: boolean;
}

/**
 * The cgroup.procs files of the process's cgroups, on this host, from /proc/<pid>/cgroup and the
 * cgroup mounts in /proc/self/mountinfo (cgroup v1, v2 or both). The cpu, cpuacct and memory
 * hierarchies (or the v2 one, when it is the only one) are required.
 */
export async function cgroupFilesOf(pid: number): Promise<CgroupFile[]> {
  const lines = (await readFile(`/proc/${pid}/cgroup`, 'utf8')).trim().split('\n');
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => {
      const [pre, post] = l.split(' - ');
      if (!post) return undefined;
      const [fstype, , superOpts] = post.split(' ');
      const fields = pre.split(' ');
      return { root: fields[3], point: fields[4], fstype, opts: (superOpts ?? '').split(',') };
    })
    .filter((m) => m && (m.fstype === 'cgroup' || m.fstype === 'cgroup2'));
  const v1 = lines.some((l) => l.split(':')[1] !== '');
  const files: CgroupFile[] = [];
  for (const line of lines) {
    const [, controllerList, cgPath] = line.split(':');
    const controllers = controllerList === '' ? [] : controllerList.split(',');
    const mount = mounts.find((m) => (controllers.length === 0 ? m!.fstype === 'cgroup2' : m!.fstype === 'cgroup' && controllers.every((c) => m!.opts.includes(c))));
    if (!mount) continue;
    const rel = mount.root !== '/' && cgPath.startsWith(mount.root) ? cgPath.slice(mount.root.length) : cgPath;
    const file = path.join(mount.point, rel, 'cgroup.procs');
    if (!existsSync(file)) continue;
    const required = controllers.length === 0 ? !v1 : controllers.some((c) => ['cpu', 'cpuacct', 'memory'].includes(c));
    files.push({ file, required });
  }
  if (!files.some((f) => f.required)) throw new Error(`found no cpu or memory cgroup of process ${pid} under the cgroup mounts of this host`);
  return files;
}

/** The host processes of a stress fault: tagged `gameday-stress <tag> <container id>`. */
export function stressProcesses(tag: string, containerId: string): Promise<number[]> {
  return markedProcesses(STRESS_MARK, tag, containerId);
}

function startLoad(args: string[], c: ContainerRef): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LOAD_SCRIPT, ...args], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    const done = (err?: Error): void => {
      child.stdout.destroy();
      child.unref();
      if (err) reject(err);
      else resolve();
    };
    child.on('error', (e) => done(new Error(`could not start the stress process for container ${c.name}: ${e.message}`)));
    child.on('exit', (code) => done(new GamedayError(FailureType.FaultNotInjectable, `the stress process for container ${c.name} exited (${code}): ${out.trim() || 'no output'}${/EACCES|EPERM/.test(out) ? ' (the worker must run as root on the Docker host)' : ''}`)));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('ready')) {
        child.removeAllListeners('exit');
        done();
      }
    });
  });
}

/**
 * Starts the load in the container's cgroups: `workers` busy threads, or `megabytes` of memory
 * written and held. Idempotent: a stress process already running for this fault and container is
 * left alone. If every worker dies, the process exits by itself at its deadline (the fault's
 * duration plus a margin); a revert from any worker on this host kills it by its tag.
 * @throws GamedayError FaultNotInjectable when the container is stopped or paused, or the
 *   process cannot join its cgroups (the worker is not root).
 */
export async function injectStress(deps: FaultDeps, fault: Stress, c: ContainerRef, planned: PlannedFault): Promise<void> {
  const { pid, paused } = await runningPid(deps.docker, c, 'stress needs its processes running');
  if (paused) throw new GamedayError(FailureType.FaultNotInjectable, `container ${c.name} is paused: a stress process in its cgroup would be frozen with it`);
  const tag = tagOf(planned);
  if ((await stressProcesses(tag, c.id)).length > 0) return;
  const cgroups = await cgroupFilesOf(pid);
  const [kind, amount] = fault.kind === 'docker-cpu-stress' ? ['cpu', fault.workers ?? 1] : ['memory', fault.megabytes];
  await startLoad([STRESS_MARK, tag, c.id, kind, String(amount), String(selfLimitDeadline(deps, planned)), JSON.stringify(cgroups)], c);
}

async function gone(tag: string, containerId: string): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    // A killed process not yet reaped has an empty command line: it no longer counts.
    if ((await stressProcesses(tag, containerId)).length === 0) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/**
 * Kills the fault's stress processes for this container (SIGKILL, found by tag in /proc), from
 * any worker on this host. Idempotent: none running (reverted, or past its deadline) is nothing
 * to revert.
 */
export async function revertStress(docker: Docker, fault: Stress, c: ContainerRef, planned: PlannedFault): Promise<string> {
  const tag = tagOf(planned);
  const what = fault.kind === 'docker-cpu-stress' ? 'CPU' : 'memory';
  const pids = await stressProcesses(tag, c.id);
  if (pids.length === 0) {
    // The engine is asked only for the wording: nothing runs, whether or not it answers.
    const exists = await inspectContainer(docker, c).catch(() => true);
    if (!exists) return `container ${c.name} no longer exists: nothing to revert (no ${what} stress tagged ${tag} runs)`;
    return `no ${what} stress tagged ${tag} runs for container ${c.name}`;
  }
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw new Error(`could not kill stress process ${p} of container ${c.name}: ${(e as Error).message}`);
    }
  }
  if (!(await gone(tag, c.id))) throw new Error(`stress process ${pids.join(', ')} of container ${c.name} is still there after SIGKILL`);
  return `stopped the ${what} stress in container ${c.name} (pid ${pids.join(', ')})`;
}
