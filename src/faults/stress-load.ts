/**
 * The load of a docker-cpu-stress or docker-memory-stress fault: a host process that moves itself
 * into a container's cgroups, then burns CPU or holds memory there until its deadline, and exits.
 * Started by docker-stress.ts, detached from the worker, so it ends by itself whatever happens
 * to the worker; reverts find it by the tag on its command line.
 *
 * Usage: node stress-load.js gameday-stress <tag> <container id> cpu|memory <workers|megabytes> <deadline epoch ms> <cgroup JSON>
 * where the JSON is [{ file: ".../cgroup.procs", required: true }, ...]. It prints `ready` once it
 * is in the cgroups and loading, or one line of error and exits 1.
 *
 * A docker-memory-fill (docker-memory-fill.ts) is `... fill <megabytes> <deadline> <cgroup JSON>
 * <container pid> <file in the container>`: this process stays out of the container; a child
 * (sh, then dd, a few hundred KB) joins the container's memory cgroup and writes the file, so
 * the pages are charged to the container and, once the child has exited, held by none of its
 * processes. It prints `ready written` (every megabyte written) or `ready oom-killed` (the
 * kernel's OOM killer ended the writer: the container's limit was reached), then waits until its
 * deadline, removes the file from whichever process now runs in that cgroup, and exits.
 */
import { spawn } from 'node:child_process';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

const BURN = 'for (;;) {}';
const CHUNK_MB = 16;
/** The memory held until the process exits: referenced here so that it is never collected. */
const held: Buffer[] = [];

function fail(message: string): never {
  process.stdout.write(`error: ${message}\n`);
  process.exit(1);
}

function joinCgroups(cgroups: { file: string; required: boolean }[]): void {
  for (const { file, required } of cgroups) {
    try {
      writeFileSync(file, String(process.pid));
    } catch (e) {
      if (required) fail(`cannot join ${file}: ${(e as Error).message}`);
    }
  }
}

function holdMemory(megabytes: number): void {
  for (let left = megabytes; left > 0; left -= CHUNK_MB) {
    // Filled, not just allocated: untouched pages would not count against the cgroup.
    held.push(Buffer.allocUnsafe(Math.min(CHUNK_MB, left) * 1024 * 1024).fill(0xa5));
  }
}

/** The sh that moves itself into the cgroup ($1), then becomes dd writing $3 MB into $2. */
const WRITE = 'echo $$ > "$1" || exit 97; exec dd if=/dev/zero of="$2" bs=1M count="$3" status=none';

/** Removes the fill's file through each process now in the cgroup (the container may have restarted). */
function removeFill(cgroupProcs: string, file: string): void {
  const pids = readFileSync(cgroupProcs, 'utf8').split('\n').filter((p) => p !== '');
  for (const pid of pids) {
    try {
      unlinkSync(`/proc/${pid}/root${file}`);
      return;
    } catch {
      // Not there through this process (gone, or another mount namespace): try the next.
    }
  }
}

function fill(megabytes: number, deadline: number, cgroupProcs: string, pid: string, file: string): void {
  const writer = spawn('sh', ['-c', WRITE, 'gameday-fill', cgroupProcs, `/proc/${pid}/root${file}`, String(megabytes)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  writer.stderr.on('data', (d: Buffer) => (err += d.toString()));
  writer.on('error', (e) => fail(`could not run sh: ${e.message}`));
  writer.on('exit', (code, signal) => {
    if (code === 97) fail(`cannot join ${cgroupProcs}: ${err.trim()}`);
    if (signal === 'SIGKILL') process.stdout.write('ready oom-killed\n');
    else if (code === 0) process.stdout.write('ready written\n');
    else {
      removeFill(cgroupProcs, file);
      fail(`dd could not write ${file}: ${err.trim() || `exit ${code ?? signal}`}`);
    }
  });
  setTimeout(() => {
    removeFill(cgroupProcs, file);
    process.exit(0);
  }, Math.max(0, deadline - Date.now()));
}

function main(): void {
  const [, , , , , kind, amountText, deadlineText, cgroupsJson, pid, file] = process.argv;
  const amount = Number(amountText);
  const deadline = Number(deadlineText);
  const cgroups = JSON.parse(cgroupsJson ?? '[]') as { file: string; required: boolean }[];
  if (!(amount > 0) || !(deadline > 0) || !['cpu', 'memory', 'fill'].includes(kind)) fail(`bad arguments: ${process.argv.slice(2).join(' ')}`);
  process.stdout.on('error', () => undefined);
  if (kind === 'fill') {
    if (cgroups.length !== 1 || !/^\d+$/.test(pid ?? '') || !file?.startsWith('/')) fail(`bad arguments: ${process.argv.slice(2).join(' ')}`);
    return fill(amount, deadline, cgroups[0].file, pid, file);
  }
  // The deadline timer alone keeps the process alive: the busy threads are unref'd.
  setTimeout(() => process.exit(0), Math.max(0, deadline - Date.now()));
  joinCgroups(cgroups);
  if (kind === 'cpu') {
    for (let i = 0; i < amount; i++) new Worker(BURN, { eval: true }).unref();
  } else {
    holdMemory(amount);
  }
  process.stdout.write(`ready ${held.length}\n`);
}

main();
