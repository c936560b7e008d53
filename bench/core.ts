/**
 * The bench's first part (`core`): how fast Gameday halts, how late a crashed worker's fault is
 * reverted, what an inject costs through dockerode against the docker CLI, what one inject and one
 * revert cost in each fault family, and the memory held PostgreSQL connections take. Writes the
 * keys it always wrote in bench/results.json and prints a table.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import type { ExperimentStatus } from '../src/types';
import { ensureTargetSystem } from '../src/stack';
import { familyRoundTrips, heldConnectionMemory } from './families';
import { percentile, writeResults } from './lib';
import { containerState, docker, eventually, pauseExperiment, spawnWorker, startNats, startWorker, type WorkerProcess } from '../test/helpers';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const NATS = 'gameday-bench-nats';
const PORT = 14390;
const run = promisify(execFile);

/** Polls docker inspect every 5 ms until the container is no longer paused; returns when (ms since epoch). */
async function waitUnpaused(): Promise<number> {
  for (;;) {
    if (!(await containerState(NATS)).Paused) return Date.now();
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Abort signal sent → every fault reverted (docker inspect says not paused). */
async function timeToHalt(url: string): Promise<number[]> {
  const w = await startWorker('bench-halt');
  const times: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const handle = await w.start({ spec: pauseExperiment('bench-halt', NATS, url, '5m') });
      await eventually('observe with the container paused', async () => (await handle.query<ExperimentStatus>('status')).stage === 'observe' && (await containerState(NATS)).Paused);
      const sent = Date.now();
      await handle.signal('abort', 'benchmark');
      times.push((await waitUnpaused()) - sent);
      await handle.result();
      process.stderr.write(`  time to halt ${i + 1}/${RUNS}: ${times[i]} ms\n`);
    }
  } finally {
    await w.stop();
  }
  return times;
}

/**
 * SIGKILL of the worker running the experiment during observe, a second worker running: how
 * much later than planned (inject time + duration) the survivor reverts the fault.
 */
async function crashRevertLateness(client: Client, url: string): Promise<number[]> {
  const taskQueue = `bench-crash-${Date.now()}`;
  const lateness: number[] = [];
  let current: WorkerProcess = await spawnWorker(taskQueue);
  try {
    for (let i = 0; i < RUNS; i++) {
      const handle = await client.workflow.start('experiment', { workflowTaskTimeout: '2s', taskQueue, workflowId: `bench-crash-${Date.now()}`, args: [{ spec: pauseExperiment('bench-crash', NATS, url, '6s') }] });
      const status = await eventually('observe with the container paused', async () => {
        const s = await handle.query<ExperimentStatus>('status');
        return s.stage === 'observe' && (await containerState(NATS)).Paused && s;
      });
      const dueAt = Date.parse(status.activeFaults[0].dueAt!);
      const survivor = await spawnWorker(taskQueue);
      if (Date.now() > dueAt - 500) throw new Error('the survivor took too long to start: raise the fault duration');
      await current.kill('SIGKILL');
      lateness.push((await waitUnpaused()) - dueAt);
      await handle.result();
      current = survivor;
      process.stderr.write(`  revert lateness after a crash ${i + 1}/${RUNS}: ${lateness[i]} ms\n`);
    }
  } finally {
    await current.kill('SIGTERM');
  }
  return lateness;
}

/** One pause through dockerode and one through `docker pause`, alternately, unpausing between. */
async function injectLatency(): Promise<{ dockerode: number[]; cli: number[] }> {
  const container = docker.getContainer(NATS);
  const dockerode: number[] = [];
  const cli: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    let t = performance.now();
    await container.pause();
    dockerode.push(performance.now() - t);
    await container.unpause();
    t = performance.now();
    await run('docker', ['pause', NATS]);
    cli.push(performance.now() - t);
    await container.unpause();
  }
  return { dockerode, cli };
}

/** The `core` part: BENCH_RUNS (default 20) runs per measurement. */
export async function core(client: Client): Promise<void> {
  const nats = await startNats(NATS, PORT);
  try {
    process.stderr.write(`bench: ${RUNS} runs per measurement\n`);
    const halt = await timeToHalt(nats.url);
    const crash = await crashRevertLateness(client, nats.url);
    const inject = await injectLatency();
    await ensureTargetSystem(docker);
    const families = await familyRoundTrips(RUNS, NATS);
    const memory = await heldConnectionMemory();
    const dockerVersion = (await run('docker', ['version', '--format', '{{.Server.Version}}'])).stdout.trim();
    const results = {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), os: `${os.type()} ${os.release()}`, node: process.version, docker: dockerVersion },
      timeToHaltMs: { p50: percentile(halt, 50), p99: percentile(halt, 99), runs: halt.length },
      crashRevertLatenessMs: { p50: percentile(crash, 50), p99: percentile(crash, 99), runs: crash.length },
      injectLatencyMs: {
        dockerode: { p50: percentile(inject.dockerode, 50) },
        dockerCli: { p50: percentile(inject.cli, 50) },
        ratio: Math.round((percentile(inject.cli, 50) / percentile(inject.dockerode, 50)) * 100) / 100,
      },
      faultRoundTripMs: Object.fromEntries(
        families.map((f) => [f.fault, { injectP50: percentile(f.injectMs, 50), injectP99: percentile(f.injectMs, 99), revertP50: percentile(f.revertMs, 50), revertP99: percentile(f.revertMs, 99), runs: f.injectMs.length }]),
      ),
      heldPostgresConnections: memory,
      targets: { timeToHaltP99Ms: 500, crashRevertLatenessP99Ms: 3000 },
      samples: { timeToHaltMs: halt, crashRevertLatenessMs: crash, dockerodeMs: inject.dockerode.map((v) => Math.round(v * 10) / 10), dockerCliMs: inject.cli.map((v) => Math.round(v * 10) / 10) },
    };
    await writeResults(results);
    const row = (name: string, p50: number, p99: number | string, target: string): string => `| ${name} | ${p50} | ${p99} | ${target} |`;
    console.log(
      [
        '| measurement | p50 ms | p99 ms | target |',
        '|---|---|---|---|',
        row('time to halt (abort → reverted)', results.timeToHaltMs.p50, results.timeToHaltMs.p99, `p99 < 500: ${results.timeToHaltMs.p99 < 500 ? 'met' : 'MISSED'}`),
        row('revert lateness after SIGKILL', results.crashRevertLatenessMs.p50, results.crashRevertLatenessMs.p99, `p99 < 3000: ${results.crashRevertLatenessMs.p99 < 3000 ? 'met' : 'MISSED'}`),
        row('inject: pause via dockerode', results.injectLatencyMs.dockerode.p50, '', ''),
        row('inject: docker pause (CLI)', results.injectLatencyMs.dockerCli.p50, '', `CLI/dockerode = ${results.injectLatencyMs.ratio}`),
        ...Object.entries(results.faultRoundTripMs).flatMap(([kind, r]) => [row(`${kind}: inject`, r.injectP50, r.injectP99, ''), row(`${kind}: revert`, r.revertP50, r.revertP99, '')]),
        '',
        `holding ${memory.connections} PostgreSQL connections: worker heap and buffers +${memory.heapDeltaMiB} MiB (about ${memory.perConnectionKiB} KiB each), RSS ${memory.rssDeltaMiB >= 0 ? "+" : ""}${memory.rssDeltaMiB} MiB`,
        '',
        `written to bench/results.json (${RUNS} runs each)`,
      ].join('\n'),
    );
  } finally {
    await nats.remove();
  }
}
