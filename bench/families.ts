/**
 * What each fault family costs: the time of one inject and one revert, called as the activities
 * call them, against real targets (a NATS container of the bench's own, the demo target system's
 * Toxiproxy, scoring service and PostgreSQL, a host process the bench spawns); and the worker
 * memory that holding PostgreSQL connections takes.
 */
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { injectFault, revertFault } from '../src/faults';
import { planFault } from '../src/faults/describe';
import type { Experiment, FaultSpec, TargetSpec } from '../src/spec/schema';
import { TARGET_SYSTEM } from '../src/stack';
import { resolveTargets } from '../src/targets';
import type { PlannedFault } from '../src/types';
import { docker } from '../test/helpers';

const run = promisify(execFile);

export interface RoundTrip {
  fault: string;
  injectMs: number[];
  revertMs: number[];
}

async function planned(target: TargetSpec, fault: FaultSpec, i: number): Promise<PlannedFault> {
  const spec = { id: 'bench', title: 'bench', hypothesis: 'bench', targets: { t: target }, steadyState: [], method: [{ fault, duration: '10s' }] } as unknown as Experiment;
  const [resolved] = await resolveTargets({ docker }, spec, { allowlist: [] });
  return planFault(`bench-${fault.kind}-${i}`, 'f1', 0, fault, resolved, 10_000);
}

async function roundTrips(runs: number, target: TargetSpec, fault: FaultSpec): Promise<RoundTrip> {
  const injectMs: number[] = [];
  const revertMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const p = await planned(target, fault, i);
    let t = performance.now();
    await injectFault({ docker }, p);
    injectMs.push(performance.now() - t);
    t = performance.now();
    await revertFault({ docker }, p);
    revertMs.push(performance.now() - t);
  }
  process.stderr.write(`  ${fault.kind}: ${runs} round trips\n`);
  return { fault: fault.kind, injectMs, revertMs };
}

/** One round trip per family, `runs` times each. */
export async function familyRoundTrips(runs: number, natsContainer: string): Promise<RoundTrip[]> {
  const nats: TargetSpec = { kind: 'docker', container: natsContainer };
  const proxy: TargetSpec = { kind: 'toxiproxy', api: TARGET_SYSTEM.toxiproxyUrl, proxy: 'scoring' };
  const scoring: TargetSpec = { kind: 'http', url: TARGET_SYSTEM.scoringAdminUrl, name: 'scoring' };
  const db: TargetSpec = { kind: 'postgres', connectionString: TARGET_SYSTEM.postgresUrl };
  const sleeper = spawn('sleep', ['600'], { env: { ...process.env, GAMEDAY_ENABLED: 'true' }, stdio: 'ignore' });
  const proc: TargetSpec = { kind: 'process', pattern: `^sleep 600$` };
  try {
    return [
      await roundTrips(runs, nats, { kind: 'docker-pause', target: 't' }),
      await roundTrips(runs, nats, { kind: 'docker-packet-loss', target: 't', percent: 100 }),
      await roundTrips(runs, nats, { kind: 'docker-cpu-stress', target: 't' }),
      await roundTrips(runs, proxy, { kind: 'toxiproxy-latency', target: 't', latency: '1s' }),
      await roundTrips(runs, scoring, { kind: 'http-error', target: 't', status: 503 }),
      await roundTrips(runs, db, { kind: 'postgres-lock-table', target: 't', table: 'messages' }),
      await roundTrips(runs, proc, { kind: 'process-pause', target: 't' }),
    ];
  } finally {
    sleeper.kill('SIGKILL');
  }
}

/**
 * The memory a worker process takes to hold every free connection of the demo PostgreSQL
 * (postgres-exhaust-connections), measured in a fresh process (bench/held-connections.ts) so that
 * the other measurements' garbage does not blur it.
 */
export async function heldConnectionMemory(): Promise<HeldConnections> {
  const { stdout } = await run(process.execPath, ['--expose-gc', path.join(__dirname, 'held-connections.js')]);
  return JSON.parse(stdout) as HeldConnections;
}

export interface HeldConnections {
  connections: number;
  rssDeltaMiB: number;
  heapDeltaMiB: number;
  perConnectionKiB: number;
}

/** Run in a process of its own: inject, measure, revert. */
export async function measureHeldConnections(): Promise<HeldConnections> {
  const db: TargetSpec = { kind: 'postgres', connectionString: TARGET_SYSTEM.postgresUrl };
  const p = await planned(db, { kind: 'postgres-exhaust-connections', target: 't' }, 0);
  global.gc?.();
  const before = process.memoryUsage();
  const lines = await injectFault({ docker }, p);
  global.gc?.();
  const during = process.memoryUsage();
  await revertFault({ docker }, p);
  const connections = Number(/holding (\d+) connections/.exec(lines.join(' '))?.[1] ?? 0);
  const heap = during.heapUsed + during.external - (before.heapUsed + before.external);
  const rss = during.rss - before.rss;
  const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;
  return { connections, rssDeltaMiB: mib(rss), heapDeltaMiB: mib(heap), perConnectionKiB: connections ? Math.round(heap / connections / 1024) : 0 };
}
