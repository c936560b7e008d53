/**
 * The load of a docker-cpu-stress or docker-memory-stress fault: a host process that moves itself
 * into a container's cgroups, then burns CPU or holds memory there until its deadline, and exits.
 * Started by docker-stress.ts, detached from the worker, so it ends by itself whatever happens
 * to the worker; reverts find it by the tag on its command line.
 *
 * Usage: node stress-load.js gameday-stress <tag> <container id> cpu|memory <workers|megabytes> <deadline epoch ms> <cgroup JSON>
 * where the JSON is [{ file: ".../cgroup.procs", required: true }, ...]. It prints `ready` once it
 * is in the cgroups and loading, or one line of error and exits 1.
 */
import { writeFileSync } from 'node:fs';
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

function main(): void {
  const [, , , , , kind, amountText, deadlineText, cgroupsJson] = process.argv;
  const amount = Number(amountText);
  const deadline = Number(deadlineText);
  if (!(amount > 0) || !(deadline > 0) || (kind !== 'cpu' && kind !== 'memory')) fail(`bad arguments: ${process.argv.slice(2).join(' ')}`);
  // The deadline timer alone keeps the process alive: the busy threads are unref'd.
  setTimeout(() => process.exit(0), Math.max(0, deadline - Date.now()));
  process.stdout.on('error', () => undefined);
  joinCgroups(JSON.parse(cgroupsJson) as { file: string; required: boolean }[]);
  if (kind === 'cpu') {
    for (let i = 0; i < amount; i++) new Worker(BURN, { eval: true }).unref();
  } else {
    holdMemory(amount);
  }
  process.stdout.write(`ready ${held.length}\n`);
}

main();
