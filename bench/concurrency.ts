/**
 * The concurrency curve: N experiments at once on ONE worker process, each a 20 s docker-pause of
 * a busybox container of its own with a 1 s observe probe and a 1 s guardrail. Per N: how late
 * each fault is really unpaused (Docker's unpause event) against its `dueAt` (the run's
 * `gamedayFaults` memo), how spread out the injections are, how long starting all N takes, the
 * worker's CPU and RSS, and how many runs ended with the expected verdict.
 *
 * The worker is a `gameday worker` process of its own (spawnWorker), as in production: the
 * bench's own work (the Docker event stream, the HTTP endpoint the probes hit) stays off the
 * worker's event loop, and /proc/<pid> measures the worker alone.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import os from 'node:os';
import { faultsMemo, historyFacts } from './runs';
import { outcomes, withFleet, type Fleet } from './fleet';
import type { HttpTarget } from './http-target';
import { below, envNumber, progress, readResults, round, summarize, withTimeout, writeResults, type Summary, type Targeted } from './lib';
import { temporalServerPid, watchProcess, type ProcessUsage } from './proc';
import { pauseSpec } from './specs';

/** The figures of one N. */
export interface ConcurrencyPoint {
  experiments: number;
  pauseSeconds: number;
  probe: 'http' | 'docker';
  /** Where the worker kept its due-time reverts (GAMEDAY_REVERTER); points without it predate the reverter process. */
  reverter?: 'process' | 'worker';
  /** Real unpause (Docker event) − the fault's dueAt, ms. */
  revertLatenessMs: Summary;
  revertLatenessP99: Targeted;
  /** Last pause − first pause (Docker events), ms. */
  injectionSpreadMs: number;
  /** From the first start call to the last one returning, ms. */
  startAllMs: number;
  /** From the first start call to the last container paused, ms. */
  allInjectedMs: number;
  createContainersMs: number;
  worker: ProcessUsage;
  /** The Temporal dev server over the same time (shared with the other engineers' tests). */
  temporalServer: ProcessUsage | 'not found';
  verdicts: Record<string, number>;
  expectedVerdict: 'passed';
  allAsExpected: boolean;
  /** Over every run's history: workflow tasks scheduled → started, and those that timed out. */
  workflowTaskWaitMs: Summary;
  /** Workflow tasks that timed out, every kind: almost all are a sticky queue not polled within 1 s (stickyQueueScheduleToStartTimeout), whose task then goes to the normal queue, at the cost of a replay. */
  workflowTaskTimeouts: number;
  /** Those a worker took and did not finish within the workflow task timeout (2 s). */
  workflowTaskStartToCloseTimeouts?: number;
  /** Faults whose unpause or dueAt could not be found, runs that did not end, unexpected verdicts. */
  unmeasured: string[];
  /** When this N was measured, and the machine's load then (the machine is shared). */
  measuredAt: string;
  loadAverage: { start: number[]; end: number[] };
}

async function measureN(fleet: Fleet, n: number, url: string, pause: string, probe: 'http' | 'docker'): Promise<ConcurrencyPoint> {
  const load0 = os.loadavg().map(round);
  const usage = watchProcess(fleet.worker.pid);
  const serverPid = temporalServerPid();
  const serverUsage = serverPid ? watchProcess(serverPid) : undefined;
  const tag = Date.now().toString(36);
  const t0 = Date.now();
  const handles = await Promise.all(
    fleet.containers.map((c, i) => fleet.start(`bench-conc-${n}-${tag}-${i}`, pauseSpec({ id: `bench-conc-${i}`, container: c, duration: pause, url, observeInterval: '1s', guardrailInterval: '1s', probe }))),
  );
  const startAllMs = Date.now() - t0;
  progress(`N=${n}: all started in ${startAllMs} ms`);
  const done = await outcomes(handles, 120_000 + n * 1_000);
  const worker = usage.stop();
  const server = serverUsage?.stop();
  await fleet.events.waitFor('unpause', n, 5_000);
  const unmeasured: string[] = done.filter((o) => !o.result).map((o) => `${o.workflowId}: ${o.error}`);
  unmeasured.push(...done.filter((o) => o.result && o.result.verdict !== 'passed').map((o) => `${o.workflowId}: ${o.result!.verdict}: ${o.result!.reason}`));
  const lateness: number[] = [];
  const pauses: number[] = [];
  const waits: number[] = [];
  let timeouts = 0;
  let startToCloseTimeouts = 0;
  // Only what happened while the bench waited: reading the runs afterwards takes a while.
  const cutoff = Date.now();
  const seen = (action: 'pause' | 'unpause', i: number): number | undefined => {
    const e = fleet.events.first(action, fleet.containers[i], t0);
    return e && e.at <= cutoff ? e.at : undefined;
  };
  const read = async (h: WorkflowHandle, i: number): Promise<void> => {
    const facts = historyFacts(await h.fetchHistory());
    waits.push(...facts.workflowTaskWaitsMs);
    timeouts += facts.workflowTaskTimeouts;
    startToCloseTimeouts += facts.workflowTaskStartToCloseTimeouts;
    const [fault] = await faultsMemo(h).catch(() => []);
    const paused = seen('pause', i);
    const unpaused = seen('unpause', i);
    if (paused) pauses.push(paused);
    if (fault?.dueAt && unpaused) lateness.push(unpaused - Date.parse(fault.dueAt));
    else unmeasured.push(`${h.workflowId}: ${fault?.dueAt ? 'no unpause event' : 'no dueAt in the memo'}`);
  };
  for (let i = 0; i < handles.length; i += 20) await Promise.all(handles.slice(i, i + 20).map((h, j) => read(h, i + j)));
  const verdicts: Record<string, number> = {};
  for (const o of done) verdicts[o.result?.verdict ?? 'not ended'] = (verdicts[o.result?.verdict ?? 'not ended'] ?? 0) + 1;
  const revertLatenessMs = summarize(lateness.map(round));
  return {
    experiments: n,
    pauseSeconds: Number(pause.replace('s', '')),
    probe,
    reverter: process.env.GAMEDAY_REVERTER === 'worker' ? 'worker' : 'process',
    revertLatenessMs,
    revertLatenessP99: below(revertLatenessMs.p99, 1000, 'ms'),
    injectionSpreadMs: pauses.length ? round(Math.max(...pauses) - Math.min(...pauses)) : NaN,
    startAllMs,
    allInjectedMs: pauses.length ? round(Math.max(...pauses) - t0) : NaN,
    createContainersMs: Math.round(fleet.createMs),
    worker,
    temporalServer: server ?? 'not found',
    verdicts,
    expectedVerdict: 'passed',
    allAsExpected: (verdicts.passed ?? 0) === n,
    workflowTaskWaitMs: summarize(waits),
    workflowTaskTimeouts: timeouts,
    workflowTaskStartToCloseTimeouts: startToCloseTimeouts,
    unmeasured: unmeasured.slice(0, 20),
    measuredAt: new Date(t0).toISOString(),
    loadAverage: { start: load0, end: os.loadavg().map(round) },
  };
}

const reverterOf = (p: ConcurrencyPoint): string => p.reverter ?? 'worker';

/** The points of `older` whose N and reverter are not in `newer`, then `newer`, by N. */
export function mergePoints(older: ConcurrencyPoint[], newer: ConcurrencyPoint[]): ConcurrencyPoint[] {
  const same = (a: ConcurrencyPoint, b: ConcurrencyPoint): boolean => a.experiments === b.experiments && reverterOf(a) === reverterOf(b);
  return [...older.filter((o) => !newer.some((p) => same(p, o))), ...newer].sort((a, b) => a.experiments - b.experiments || reverterOf(a).localeCompare(reverterOf(b)));
}

/**
 * Writes one N's figures in results.json as soon as they are known, beside the other N's last
 * figures (a long N that fails, or a run of one N alone, keeps the rest); returns all points.
 */
async function savePoint(point: ConcurrencyPoint): Promise<ConcurrencyPoint[]> {
  const current = ((await readResults()).concurrency ?? {}) as { points?: ConcurrencyPoint[] };
  const points = mergePoints(current.points ?? [], [point]);
  await writeResults({ concurrency: { ...current, points } });
  return points;
}

/**
 * The curve for each N (BENCH_CONCURRENCY, default 10,100,500), one fresh worker and fleet per
 * N; returns every N's last figures, these and the ones results.json already held.
 */
export async function concurrencyCurve(client: Client, http: HttpTarget, sizes: number[]): Promise<ConcurrencyPoint[]> {
  const pause = `${envNumber('BENCH_CONCURRENCY_PAUSE_S', 20)}s`;
  const probe = process.env.BENCH_CONCURRENCY_PROBE === 'docker' ? 'docker' : 'http';
  let points: ConcurrencyPoint[] = [];
  for (const n of sizes) {
    const names = Array.from({ length: n }, (_, i) => `gameday-bench-c${i}`);
    progress(`N=${n}: creating ${n} containers`);
    const point = await withTimeout(`concurrency N=${n}`, 300_000 + n * 2_000, withFleet(client, `conc${n}`, names, (fleet) => measureN(fleet, n, http.url, pause, probe)));
    const l = point.revertLatenessMs;
    progress(`N=${n}: revert lateness p50 ${l.p50} p95 ${l.p95} p99 ${l.p99} max ${l.max} ms; worker ${point.worker.cpuCores} cores (waited ${point.worker.runQueueWaitSeconds} s for a CPU), RSS peak ${point.worker.rssPeakMiB} MiB; verdicts ${JSON.stringify(point.verdicts)}; workflow tasks waited p50 ${point.workflowTaskWaitMs.p50} ms, ${point.workflowTaskTimeouts} timed out (${point.workflowTaskStartToCloseTimeouts} of them over the 2 s timeout, the rest sticky queues not polled within 1 s)`);
    points = await savePoint(point);
  }
  return points;
}
