import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { TargetRef } from '../types';

/** The host processes of this machine, read from /proc: found by pattern, named so that pid reuse cannot fool a revert. */

/** The environment variable a host process carries to opt in to experiments. */
export const PROCESS_OPT_IN = 'GAMEDAY_ENABLED=true';

export interface HostProcess {
  pid: number;
  /** Clock ticks after boot when the process started: with the pid, it names one process. */
  startTime: string;
  cmdline: string;
}

/** The process running as `pid` now, or undefined when none (or a kernel thread, or a zombie). */
export async function readProcess(pid: number): Promise<HostProcess | undefined> {
  try {
    const [cmd, stat] = await Promise.all([readFile(`/proc/${pid}/cmdline`, 'utf8'), readFile(`/proc/${pid}/stat`, 'utf8')]);
    const cmdline = cmd.replace(/\0+$/, '').replace(/\0/g, ' ');
    if (cmdline === '') return undefined; // a kernel thread or a zombie
    // Fields after the command name (in parentheses, which may hold spaces): state is field 3, starttime field 22.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, startTime: fields[19], cmdline };
  } catch {
    return undefined; // gone meanwhile
  }
}

/** Host processes whose command line matches `pattern`, except this process and its parent. */
export async function findProcesses(pattern: string): Promise<HostProcess[]> {
  const re = new RegExp(pattern);
  const pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d)).map(Number);
  const found = await Promise.all(pids.filter((p) => p !== process.pid && p !== process.ppid).map(readProcess));
  return found.filter((p): p is HostProcess => p !== undefined && re.test(p.cmdline)).sort((a, b) => a.pid - b.pid);
}

/** Whether the process opted in with GAMEDAY_ENABLED=true in its environment. */
export async function optedIn(pid: number): Promise<boolean> {
  const env = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
  return env.split('\0').includes(PROCESS_OPT_IN);
}

/** A process as a target reference: its id survives pid reuse (pid and start time). */
export function processRef(p: HostProcess): TargetRef {
  const short = p.cmdline.length > 60 ? `${p.cmdline.slice(0, 57)}...` : p.cmdline;
  return { id: createHash('sha256').update(`process:${p.pid}:${p.startTime}`).digest('hex'), name: `pid ${p.pid} (${short})`, pid: p.pid };
}
