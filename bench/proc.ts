/**
 * What a process costs, from /proc/<pid>: its CPU time and resident memory, sampled while a part
 * of the bench runs (Linux only, as the machines the bench runs on are).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { round } from './lib';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100;

function cpuSeconds(pid: number): number {
  // Fields after the command name (which may hold spaces, hence the last ')'): utime is the 12th, stime the 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
}

/** Seconds the process's threads spent runnable but waiting for a CPU (schedstat's run_delay, summed). */
function runQueueSeconds(pid: number): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[1]);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return ns / 1e9;
}

function rssMiB(pid: number): number {
  const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib ?? 0) / 1024;
}

/** A process's CPU and memory over a stretch of time. */
export interface ProcessUsage {
  /** CPU seconds used, user and system. */
  cpuSeconds: number;
  /** CPU seconds per second of wall time: 1 is one core busy throughout. */
  cpuCores: number;
  /**
   * Seconds its threads were ready to run but waited for a CPU (the machine is shared): next to
   * cpuSeconds, how much more it would have run on an idle machine. Threads that ended meanwhile
   * are not counted.
   */
  runQueueWaitSeconds: number;
  rssStartMiB: number;
  rssPeakMiB: number;
  rssEndMiB: number;
}

/** Samples a process's RSS every `everyMs` from now until `stop()`, which returns the usage. */
export function watchProcess(pid: number, everyMs = 500): { stop(): ProcessUsage } {
  const cpu0 = cpuSeconds(pid);
  const wait0 = runQueueSeconds(pid);
  const t0 = performance.now();
  const rssStart = rssMiB(pid);
  let peak = rssStart;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssMiB(pid));
    } catch {
      // The process ended: the last sample stands.
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const end = rssMiB(pid);
      const used = cpuSeconds(pid) - cpu0;
      const wall = (performance.now() - t0) / 1000;
      return { cpuSeconds: round(used), cpuCores: Math.round((used / wall) * 100) / 100, runQueueWaitSeconds: round(runQueueSeconds(pid) - wait0), rssStartMiB: round(rssStart), rssPeakMiB: round(Math.max(peak, end)), rssEndMiB: round(end) };
    },
  };
}

/** The pid of the local Temporal dev server (`temporal server start-dev`), if one runs here. */
export function temporalServerPid(): number | undefined {
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.includes('server') && args.includes('start-dev')) return Number(entry);
    } catch {
      // The process ended meanwhile.
    }
  }
  return undefined;
}
