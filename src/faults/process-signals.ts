import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FailureType, GamedayError } from '../errors';
import type { FaultSpec } from '../spec/schema';
import type { PlannedFault, TargetRef } from '../types';
import { selfLimitMs, tagOf, targetSpecOf, type FaultDeps } from './family';
import { findProcesses, processRef, readProcess } from './host-processes';
import { targetRefs } from './refs';

/**
 * Signals to host processes: pause (SIGSTOP / SIGCONT) and kill (a signal, then a restart
 * command on revert). A target is the process resolved at the start of the run: before any
 * signal, its pid must still name the same process (same start time), never one that reused it.
 */

type Kill = Extract<FaultSpec, { kind: 'process-kill' }>;

/** How long a revert waits for the restarted process to show up. */
export const RESTART_WAIT_MS = 30_000;

/** The pid of a target when it still is the process resolved at the start, else undefined. */
async function stillThere(ref: TargetRef): Promise<number | undefined> {
  if (ref.pid === undefined) return undefined;
  const now = await readProcess(ref.pid);
  return now && processRef(now).id === ref.id ? ref.pid : undefined;
}

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false; // exited meanwhile
    throw new Error(`cannot send ${sig} to pid ${pid}: ${(e as Error).message}`);
  }
}

/** The watchdog's name on its command line: `gameday-watchdog-<tag>`. */
function watchdogName(planned: PlannedFault): string {
  return `gameday-watchdog-${tagOf(planned)}`;
}

/**
 * A detached shell that sends SIGCONT to the paused pids when the fault's self-limit is up, so a
 * process never stays stopped because every worker died. It is not a child of the worker's fate:
 * it runs in its own process group and outlives the worker; revert ends it.
 */
async function startWatchdog(deps: FaultDeps, planned: PlannedFault, pids: number[]): Promise<string | undefined> {
  const limit = selfLimitMs(deps, planned);
  const name = watchdogName(planned);
  if ((await findProcesses(name)).length > 0) return undefined; // an earlier attempt started it
  const child = spawn('sh', ['-c', 'sleep "$1"; shift; kill -CONT "$@" 2>/dev/null', name, (limit / 1000).toFixed(1), ...pids.map(String)], { detached: true, stdio: 'ignore' });
  child.unref();
  return `a watchdog (pid ${child.pid}) resumes them after ${Math.round(limit / 1000)} s should no revert come`;
}

/** Ends the watchdog's process group (the shell and its sleep); none running is fine. */
async function stopWatchdog(planned: PlannedFault): Promise<void> {
  for (const w of await findProcesses(watchdogName(planned))) {
    try {
      process.kill(-w.pid, 'SIGTERM');
    } catch {
      signal(w.pid, 'SIGTERM');
    }
  }
}

/**
 * SIGSTOP to every target still running as resolved; a watchdog resumes them after the fault's
 * self-limit. Idempotent: stopping a stopped process changes nothing, and the watchdog starts once.
 * If every worker dies, the watchdog resumes them (and the janitor reverts from the memo).
 * @throws GamedayError TargetNotFound when no target is left to pause.
 */
export async function pauseProcesses(deps: FaultDeps, planned: PlannedFault): Promise<string[]> {
  const paused: number[] = [];
  const lines: string[] = [];
  for (const ref of targetRefs(planned.target)) {
    const pid = await stillThere(ref);
    if (pid !== undefined && signal(pid, 'SIGSTOP')) paused.push(pid);
    else lines.push(`${ref.name} is gone: not paused`);
  }
  if (paused.length === 0) throw new GamedayError(FailureType.TargetNotFound, `target '${planned.target.name}': none of its processes runs any more (${targetRefs(planned.target).map((c) => c.name).join(', ')})`);
  const watchdog = await startWatchdog(deps, planned, paused);
  return [`stopped pid ${paused.join(', ')}${watchdog ? `; ${watchdog}` : ''}`, ...lines];
}

/** SIGCONT to every target still running as resolved, and the watchdog ended. Idempotent. */
export async function resumeProcesses(planned: PlannedFault): Promise<string[]> {
  const lines: string[] = [];
  for (const ref of targetRefs(planned.target)) {
    const pid = await stillThere(ref);
    lines.push(pid !== undefined && signal(pid, 'SIGCONT') ? `resumed (SIGCONT) ${ref.name}` : `${ref.name} no longer exists: nothing to revert`);
  }
  await stopWatchdog(planned);
  return lines;
}

/**
 * Sends the fault's signal (default SIGKILL) to every target still running as resolved.
 * Idempotent: a gone target is done. One-shot: nothing stays in place on the worker, so a worker's
 * death changes nothing; the restart happens on revert, from any worker or the janitor.
 */
export async function killProcesses(planned: PlannedFault): Promise<string[]> {
  const fault = planned.fault as Kill;
  const sig = (fault.signal?.startsWith('SIG') ? fault.signal : `SIG${fault.signal ?? 'KILL'}`) as NodeJS.Signals;
  if (!(sig in os.constants.signals)) throw new GamedayError(FailureType.InvalidExperiment, `fault ${planned.id}: ${sig} is not a signal this host knows`);
  const lines: string[] = [];
  for (const ref of targetRefs(planned.target)) {
    const pid = await stillThere(ref);
    lines.push(pid !== undefined && signal(pid, sig) ? `sent ${sig} to ${ref.name}` : `${ref.name} is gone already`);
  }
  return lines;
}

/**
 * When no process matches the target's pattern any more and the fault has a `restart` command,
 * runs it (a detached shell, with GAMEDAY_ENABLED=true so that the new process stays a possible
 * target, its output appended to a log file in the temporary folder) and waits for a matching
 * process. Idempotent: a matching process already running means nothing to do.
 */
export async function restartProcesses(planned: PlannedFault): Promise<string[]> {
  const { pattern } = targetSpecOf(planned, 'process');
  const fault = planned.fault as Kill;
  const running = await findProcesses(pattern);
  if (running.length > 0) return [`a process matching /${pattern}/ runs (pid ${running.map((p) => p.pid).join(', ')}): nothing to restart`];
  if (!fault.restart) return [`no process matches /${pattern}/ and the fault has no restart command: start it by hand`];
  const log = path.join(os.tmpdir(), `${tagOf(planned)}-restart.log`);
  const fd = openSync(log, 'a');
  const shell = spawn('sh', ['-c', fault.restart], { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, GAMEDAY_ENABLED: 'true' } });
  closeSync(fd);
  let exit: number | null | undefined;
  shell.on('exit', (code) => (exit = code));
  shell.on('error', () => (exit = -1));
  shell.unref();
  const shellLine = `sh -c ${fault.restart}`;
  for (const deadline = Date.now() + RESTART_WAIT_MS; Date.now() < deadline; await sleep(200)) {
    // The shell's own command line holds the restart command, which may match the pattern: it does not count.
    const found = (await findProcesses(pattern)).filter((p) => !(p.pid === shell.pid && p.cmdline === shellLine));
    if (found.length > 0) return [`ran \`${fault.restart}\`: pid ${found.map((p) => p.pid).join(', ')} matches /${pattern}/ (output in ${log})`];
    if (exit !== undefined && exit !== 0) throw new Error(`the restart command \`${fault.restart}\` exited with ${exit} and no process matches /${pattern}/: see ${log}`);
  }
  throw new Error(`the restart command \`${fault.restart}\` ran, but no process matched /${pattern}/ within ${RESTART_WAIT_MS / 1000} s: see ${log}`);
}
