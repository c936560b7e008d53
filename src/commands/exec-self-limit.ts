/**
 * The self-limit of a docker-exec fault: a host process, detached from the worker, that runs the
 * fault's revert command in one container at the fault's deadline, should no revert come before
 * (every worker dead or stuck). A revert from any worker on this host kills it first, by the tag
 * on its command line. Started by src/faults/docker-exec.ts.
 *
 * Usage: node exec-self-limit.js gameday-exec-limit <tag> <container id>, with
 * { deadlineMs, revert, timeoutMs } as JSON on its standard input (never on its command line: the
 * revert command may hold a secret). It prints `ready` once it has read them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import type { Command } from './command';
import { runInContainer } from './exec';

/** Attempts at the deadline, a little apart: an engine that is restarting gets a second chance. */
const ATTEMPTS = 3;

async function readInput(): Promise<{ deadlineMs: number; revert: Command; timeoutMs: number }> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return JSON.parse(text) as { deadlineMs: number; revert: Command; timeoutMs: number };
}

async function main(): Promise<void> {
  const containerId = process.argv[4];
  const input = await readInput();
  process.stdout.write('ready\n');
  await sleep(Math.max(0, input.deadlineMs - Date.now()));
  const docker = new Docker();
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const r = await runInContainer(docker, containerId, input.revert, { timeoutMs: input.timeoutMs }).catch(() => undefined);
    if (r && r.exitCode === 0) return;
    await sleep(2000);
  }
}

void main().finally(() => process.exit(0));
