/**
 * What a process costs, from /proc/<pid>: its CPU time and resident memory, sampled while a part
 * of the bench runs (Linux only, as the machines the bench runs on are).
 */
import { readFileSync } from 'node:fs';
import { round } from './lib';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100;

function cpuSeconds(pid: number): number {
  // Fields after the command name (which may hold spaces, hence the last ')'): utime is the 12th, stime the 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
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
  rssStartMiB: number;
  rssPeakMiB: number;
  rssEndMiB: number;
}

/** Samples a process's RSS every `everyMs` from now until `stop()`, which returns the usage. */
export function watchProcess(pid: number, everyMs = 500): { stop(): ProcessUsage } {
  const cpu0 = cpuSeconds(pid);
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
      return { cpuSeconds: round(used), cpuCores: Math.round((used / wall) * 100) / 100, rssStartMiB: round(rssStart), rssPeakMiB: round(Math.max(peak, end)), rssEndMiB: round(end) };
    },
  };
}
