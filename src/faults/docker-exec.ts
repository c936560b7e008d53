import { spawn } from 'node:child_process';
import path from 'node:path';
import type Docker from 'dockerode';
import { commandText } from '../commands/command';
import { describeResult, runInContainer, type Command, type CommandResult } from '../commands/exec';
import { FailureType, GamedayError } from '../errors';
import { durationMs } from '../spec/loader';
import type { FaultSpec } from '../spec/schema';
import type { ContainerRef, PlannedFault } from '../types';
import { markedProcesses } from './container-host';
import { selfLimitDeadline, tagOf, type FaultDeps } from './family';

/**
 * The docker-exec fault: a command run in each container through the engine's exec, and the
 * command that undoes it run there on revert. Before the command runs, a host process is left
 * to run the revert command at the fault's self-limit (exec-self-limit.js), so that a fault whose
 * every worker died ends all the same; a revert kills it.
 */

type Exec = Extract<FaultSpec, { kind: 'docker-exec' }>;

/** How long the fault's commands may run when it sets no `timeout`. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;

const SELF_LIMIT_SCRIPT = path.join(__dirname, '..', 'commands', 'exec-self-limit.js');
/** The first word of a self-limit process's arguments, before its tag and container id. */
export const SELF_LIMIT_MARK = 'gameday-exec-limit';

function timeoutOf(fault: Exec): number {
  return fault.timeout ? durationMs(fault.timeout) : DEFAULT_COMMAND_TIMEOUT_MS;
}

/** The host processes that will run this fault's revert in this container at its self-limit. */
export function selfLimitProcesses(planned: PlannedFault, c: ContainerRef): Promise<number[]> {
  return markedProcesses(SELF_LIMIT_MARK, tagOf(planned), c.id);
}

/** Starts the self-limit process; resolves once it has its input. One per fault and container. */
async function startSelfLimit(deps: FaultDeps, planned: PlannedFault, fault: Exec, c: ContainerRef): Promise<void> {
  if ((await selfLimitProcesses(planned, c)).length > 0) return; // an earlier attempt started it
  const child = spawn(process.execPath, [SELF_LIMIT_SCRIPT, SELF_LIMIT_MARK, tagOf(planned), c.id], { detached: true, stdio: ['pipe', 'pipe', 'ignore'] });
  await new Promise<void>((resolve, reject) => {
    child.on('error', (e) => reject(new Error(`could not start the self-limit of the fault in container ${c.name}: ${e.message}`)));
    child.on('exit', (code) => reject(new Error(`the self-limit of the fault in container ${c.name} exited (${code}) before it was ready`)));
    child.stdout.on('data', (d: Buffer) => {
      if (!String(d).startsWith('ready')) return;
      child.removeAllListeners('exit');
      child.stdout.destroy();
      child.unref();
      resolve();
    });
    child.stdin.end(JSON.stringify({ deadlineMs: selfLimitDeadline(deps, planned), revert: fault.revert, timeoutMs: timeoutOf(fault) }));
  });
}

async function stopSelfLimit(planned: PlannedFault, c: ContainerRef): Promise<void> {
  for (const pid of await selfLimitProcesses(planned, c)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw new Error(`could not end the self-limit (pid ${pid}) of the fault in container ${c.name}: ${(e as Error).message}`);
    }
  }
}

/** Runs a command in the container; undefined when the container no longer exists. */
async function run(docker: Docker, c: ContainerRef, command: Command, timeoutMs: number, what: string): Promise<CommandResult | undefined> {
  try {
    return await runInContainer(docker, c.id, command, { timeoutMs });
  } catch (e) {
    const status = (e as { statusCode?: number }).statusCode;
    if (status === 404) return undefined;
    if (status === 409) throw new GamedayError(FailureType.FaultNotInjectable, `container ${c.name} does not run (stopped or paused): ${what} cannot run in it`);
    throw e;
  }
}

/**
 * Leaves the self-limit in place, then runs the fault's command in the container.
 * @throws GamedayError TargetNotFound when the container is gone, FaultNotInjectable when it does
 *   not run or the command fails (exits non-zero, or outlasts its timeout); the rollback then
 *   runs the revert command, as for any attempted fault.
 */
export async function injectExec(deps: FaultDeps, planned: PlannedFault, c: ContainerRef): Promise<string> {
  const fault = planned.fault as Exec;
  const timeoutMs = timeoutOf(fault);
  await startSelfLimit(deps, planned, fault, c);
  const r = await run(deps.docker, c, fault.command, timeoutMs, 'the command');
  if (!r) throw new GamedayError(FailureType.TargetNotFound, `container ${c.name} (${c.id.slice(0, 12)}) no longer exists`);
  if (r.exitCode !== 0 || r.timedOut) throw new GamedayError(FailureType.FaultNotInjectable, `\`${commandText(fault.command)}\` in container ${c.name} ${describeResult(r, timeoutMs)}`);
  return `ran \`${commandText(fault.command)}\` in container ${c.name}`;
}

/**
 * Runs the fault's revert command in the container, then ends its self-limit. Idempotent from
 * Gameday's side (a gone container has nothing to revert); the command itself must be safe to run
 * twice. A container that does not run, or a revert command that fails, is an error, retried:
 * the fault is not undone until the command succeeds.
 */
export async function revertExec(deps: FaultDeps, planned: PlannedFault, c: ContainerRef): Promise<string> {
  const fault = planned.fault as Exec;
  const timeoutMs = timeoutOf(fault);
  let r: CommandResult | undefined;
  try {
    r = await run(deps.docker, c, fault.revert, timeoutMs, 'the revert command');
  } catch (e) {
    // Retryable: the container may run again (a pause reverted after this fault, a restart policy).
    if (e instanceof GamedayError) throw new Error(e.message);
    throw e;
  }
  if (!r) {
    await stopSelfLimit(planned, c);
    return `container ${c.name} no longer exists: nothing to revert`;
  }
  if (r.exitCode !== 0 || r.timedOut) throw new Error(`the revert command \`${commandText(fault.revert)}\` in container ${c.name} ${describeResult(r, timeoutMs)}`);
  await stopSelfLimit(planned, c);
  return `ran \`${commandText(fault.revert)}\` in container ${c.name}`;
}
