import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { argvOf, commandText, type Command } from './command';

export { argvOf, commandText, type Command } from './command';

/**
 * Running a command, in a container (through the Docker engine's exec, whatever the image holds)
 * or on the host, with a timeout at which it is killed and its output capped: what the command
 * probe and the docker-exec fault share. A non-zero exit is an answer, not an error.
 */

/** What a command did. */
export interface CommandResult {
  /** Its exit status; -1 when none was known (killed at its timeout and never reaped). */
  exitCode: number;
  /** Its standard output and error, interleaved, at most `maxOutputBytes` (the rest is dropped). */
  output: string;
  /** True when the output was longer than the cap. */
  truncated: boolean;
  /** True when it ran past its timeout and was killed. */
  timedOut: boolean;
}

export interface RunOptions {
  timeoutMs: number;
  /** @default 64 KiB */
  maxOutputBytes?: number;
}

const DEFAULT_MAX_OUTPUT = 64 * 1024;

/** Collects output up to a cap; what comes after is counted and dropped. */
class CappedOutput {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly max: number) {}
  add(chunk: Buffer): void {
    const room = this.max - this.size;
    if (room <= 0) {
      this.truncated ||= chunk.length > 0;
      return;
    }
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (kept.length < chunk.length) this.truncated = true;
    this.chunks.push(kept);
    this.size += kept.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** Every descendant of a host process, from /proc (the children first found, then theirs). */
async function descendantsOf(pid: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // The command name, in parentheses, may hold spaces: the fields after its last ')' are fixed.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!Number.isFinite(ppid)) continue;
    parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  for (let queue = [pid]; queue.length > 0; ) {
    const next = queue.shift()!;
    for (const child of parents.get(next) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/**
 * SIGKILL to a host process and everything it started. A process of an exec has its pid on the
 * Docker host; a worker on another machine than the engine cannot see it and says so.
 */
async function killTree(pid: number): Promise<boolean> {
  const tree = [pid, ...(await descendantsOf(pid))];
  let any = false;
  for (const p of tree) {
    try {
      process.kill(p, 'SIGKILL');
      any = true;
    } catch {
      // Gone already, or not on this host.
    }
  }
  return any;
}

/**
 * Runs a command in a running container with the engine's exec (as the container's own user),
 * and waits for it. At `timeoutMs` it is killed (the exec's process and what it started, on the
 * Docker host) and the result says `timedOut`.
 * @throws the engine's error when the container does not exist (statusCode 404) or does not run
 *   (409: stopped, paused).
 */
export async function runInContainer(docker: Docker, container: string, command: Command, opts: RunOptions): Promise<CommandResult> {
  const exec = await docker.getContainer(container).exec({ Cmd: argvOf(command), AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out = new CappedOutput(opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT);
  const sink = new PassThrough();
  sink.on('data', (d: Buffer) => out.add(d));
  docker.modem.demuxStream(stream, sink, sink);
  let timedOut = false;
  const ended = new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', resolve);
  });
  const timer = setTimeout(() => {
    timedOut = true;
    void exec
      .inspect()
      .then((i) => (i.Running && i.Pid > 0 ? killTree(i.Pid) : false))
      .catch(() => false)
      .finally(() => stream.destroy());
  }, opts.timeoutMs);
  try {
    await ended;
  } finally {
    clearTimeout(timer);
  }
  const info = await exec.inspect().catch(() => undefined);
  const exitCode = info && !info.Running && typeof info.ExitCode === 'number' ? info.ExitCode : -1;
  return { exitCode, output: out.text(), truncated: out.truncated, timedOut };
}

/**
 * Runs a command on this host, in a process group of its own, with `env` added to the worker's
 * environment; at `timeoutMs` the whole group is killed.
 */
export function runOnHost(command: Command, opts: RunOptions & { env?: NodeJS.ProcessEnv }): Promise<CommandResult> {
  const [file, ...args] = argvOf(command);
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
    const out = new CappedOutput(opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT);
    child.stdout.on('data', (d: Buffer) => out.add(d));
    child.stderr.on('data', (d: Buffer) => out.add(d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, opts.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`the command \`${commandText(command)}\` could not start: ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code ?? -1, output: out.text(), truncated: out.truncated, timedOut });
    });
  });
}

/** "exited with 1: <output>" or "ran longer than 5 s and was killed", for errors and events. */
export function describeResult(r: CommandResult, timeoutMs: number, outputChars = 300): string {
  const output = r.output.trim();
  const shown = output.length > outputChars ? `${output.slice(0, outputChars)}…` : output;
  const what = r.timedOut ? `ran longer than its timeout (${timeoutMs / 1000} s) and was killed` : `exited with ${r.exitCode}`;
  return shown ? `${what}: ${shown}` : what;
}
