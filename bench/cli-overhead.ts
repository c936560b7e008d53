/**
 * The CLI's end-to-end overhead on a 10 s pause: `gameday run <file> --wait` against a worker
 * already running, wall time − 10 s, beside the workflow's own time (its history, start to
 * close) and how long the container was really paused (Docker events); `gameday --help`'s start
 * time; and, when Chaos Toolkit is installed (BENCH_CTK, default /tmp/ctk/bin/chaos), its
 * overhead on the same pause measured the same way. Nothing of Chaos Toolkit is committed.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { stringify } from 'yaml';
import type { ContainerEvents } from './containers';
import { withContainers, withFleet } from './fleet';
import type { HttpTarget } from './http-target';
import { below, progress, ROOT, summarize, withTimeout, type Summary, type Targeted } from './lib';
import { fetchHistory, historyFacts, type History } from './runs';
import { pauseSpec } from './specs';

const CONTAINER = 'gameday-bench-cli';
const PAUSE_MS = 10_000;
const CTK = process.env.BENCH_CTK ?? '/tmp/ctk/bin/chaos';

/** How long a command took, what it printed, and its exit code. */
async function timed(cmd: string, args: string[], env: Record<string, string>, cwd: string): Promise<{ ms: number; stdout: string; code: number; stderr: string }> {
  const t = performance.now();
  return new Promise((resolve) =>
    execFile(cmd, args, { env: { ...process.env, ...env }, cwd, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ ms: performance.now() - t, stdout, stderr, code: error ? Number((error as { code?: number }).code ?? 1) : 0 }),
    ),
  );
}

/** How long the container stayed paused in the run that began at `since` (Docker events). */
function pausedMs(events: ContainerEvents, since: number): number | undefined {
  const p = events.first('pause', CONTAINER, since);
  const u = p && events.first('unpause', CONTAINER, p.at);
  return p && u ? u.at - p.at : undefined;
}

/** Where one run's time went, in ms: the CLI before the run started and after it closed, the run before its fault's timer and after it fired. */
interface Phases {
  cliBeforeStart: number;
  runBeforeTimer: number;
  runAfterTimer: number;
  cliAfterClose: number;
}

/** A run's phases from its history, given when the CLI was spawned and when it exited (epoch ms; one machine, one clock). */
function phasesOf(history: History, spawnedAt: number, exitedAt: number): Phases | undefined {
  const events = history.events ?? [];
  const at = (e?: (typeof events)[number]): number | undefined => (e?.eventTime ? tsToMs(e.eventTime) : undefined);
  const [start, timerStarted, timerFired, close] = [at(events[0]), at(events.find((e) => e.timerStartedEventAttributes)), at(events.find((e) => e.timerFiredEventAttributes)), at(events[events.length - 1])];
  if (start === undefined || timerStarted === undefined || timerFired === undefined || close === undefined) return undefined;
  return { cliBeforeStart: start - spawnedAt, runBeforeTimer: timerStarted - start, runAfterTimer: close - timerFired, cliAfterClose: exitedAt - close };
}

/** One tool's figures on the 10 s pause. */
export interface ToolOverhead {
  /** Wall time − 10 s, ms. */
  overheadMs: Summary;
  /** Unpause − pause (Docker events), ms. */
  pausedMs: Summary;
  runs: number;
  failures: string[];
}

/** The part's figures. */
export interface CliResult {
  /** workflowOverheadMs: the run's history, start to close, − 10 s; cliOwnMs: wall time − that history time. */
  gameday: ToolOverhead & { workflowOverheadMs: Summary; cliOwnMs: Summary; phasesMs: Record<keyof Phases, Summary>; overheadP50: Targeted; how: string };
  helpStartMs: Summary & { p50Target: Targeted };
  chaosToolkit: (ToolOverhead & { version: string; helpStartMs: Summary; how: string }) | { notMeasured: string };
  /** The issue author's Chaos Toolkit figure on the same pause, the reference when ours is not measured. */
  issueReferenceMs: number;
}

async function gamedayRuns(client: Client, http: HttpTarget, runs: number, dir: string): Promise<Omit<CliResult['gameday'], 'overheadP50'>> {
  const file = path.join(dir, 'pause-10s.yaml');
  const spec = pauseSpec({ id: 'bench-cli-pause', container: CONTAINER, duration: `${PAUSE_MS / 1000}s`, url: http.url });
  await writeFile(file, stringify(spec));
  return withFleet(client, 'cli', [CONTAINER], async (fleet) => {
    const overhead: number[] = [];
    const workflow: number[] = [];
    const own: number[] = [];
    const paused: number[] = [];
    const failures: string[] = [];
    const phases: Phases[] = [];
    for (let i = 0; i < runs; i++) {
      const since = Date.now();
      const r = await timed(process.execPath, [path.join(ROOT, 'bin', 'gameday.js'), 'run', file, '--wait', '--json'], { GAMEDAY_TASK_QUEUE: fleet.taskQueue }, dir);
      const result = JSON.parse(r.stdout.trim().split('\n').pop() || '{}') as { workflowId?: string; verdict?: string };
      if (r.code !== 0 || !result.workflowId) {
        failures.push(`run ${i + 1}: exit ${r.code}, verdict ${result.verdict}: ${r.stderr.slice(-300)}`);
        continue;
      }
      const exitedAt = Date.now();
      const history = await fetchHistory(client, result.workflowId);
      const ms = historyFacts(history).workflowMs;
      const phase = phasesOf(history, since, exitedAt);
      if (phase) phases.push(phase);
      overhead.push(r.ms - PAUSE_MS);
      if (ms !== undefined) workflow.push(ms - PAUSE_MS);
      if (ms !== undefined) own.push(r.ms - ms);
      await fleet.events.waitFor('unpause', i + 1, 2_000);
      const p = pausedMs(fleet.events, since);
      if (p !== undefined) paused.push(p);
      progress(`gameday run --wait ${i + 1}/${runs}: ${Math.round(r.ms)} ms wall, workflow ${ms} ms, paused ${p === undefined ? '?' : Math.round(p)} ms`);
    }
    const phase = (k: keyof Phases): Summary => summarize(phases.map((p) => p[k]));
    return {
      overheadMs: summarize(overhead),
      workflowOverheadMs: summarize(workflow),
      cliOwnMs: summarize(own),
      phasesMs: { cliBeforeStart: phase('cliBeforeStart'), runBeforeTimer: phase('runBeforeTimer'), runAfterTimer: phase('runAfterTimer'), cliAfterClose: phase('cliAfterClose') },
      pausedMs: summarize(paused),
      runs,
      failures,
      how: '`node bin/gameday.js run <file> --wait --json` against a spawned `gameday worker`; the file pauses one busybox container for 10 s, a steady state of one http probe of the bench, no observe probes',
    };
  });
}

async function chaosToolkitRuns(runs: number, dir: string): Promise<CliResult['chaosToolkit']> {
  if (!existsSync(CTK)) return { notMeasured: `Chaos Toolkit not found at ${CTK} (python3 -m venv /tmp/ctk && /tmp/ctk/bin/pip install chaostoolkit)` };
  const version = (await timed(CTK, ['--version'], {}, dir)).stdout.trim();
  const file = path.join(dir, 'ctk-pause-10s.json');
  const docker = (verb: string): unknown => ({ type: 'action', name: `${verb} ${CONTAINER}`, provider: { type: 'process', path: 'docker', arguments: [verb, CONTAINER] } });
  const experiment = { version: '1.0.0', title: 'pause for 10 s', description: 'Gameday bench', method: [{ ...(docker('pause') as object), pauses: { after: PAUSE_MS / 1000 } }], rollbacks: [docker('unpause')] };
  await writeFile(file, JSON.stringify(experiment, null, 2));
  return withContainers([CONTAINER], async (events) => {
    const overhead: number[] = [];
    const paused: number[] = [];
    const failures: string[] = [];
    for (let i = 0; i < runs; i++) {
      const since = Date.now();
      const r = await timed(CTK, ['--no-version-check', '--log-file', path.join(dir, 'chaostoolkit.log'), 'run', '--journal-path', path.join(dir, 'journal.json'), file], {}, dir);
      await events.waitFor('unpause', i + 1, 2_000);
      const p = pausedMs(events, since);
      if (r.code !== 0 || p === undefined) failures.push(`run ${i + 1}: exit ${r.code}${p === undefined ? ', no pause/unpause seen' : ''}`);
      else {
        overhead.push(r.ms - PAUSE_MS);
        paused.push(p);
      }
      progress(`chaos run ${i + 1}/${runs}: ${Math.round(r.ms)} ms wall, paused ${p === undefined ? '?' : Math.round(p)} ms`);
    }
    const help: number[] = [];
    for (let i = 0; i < runs; i++) help.push((await timed(CTK, ['--help'], {}, dir)).ms);
    return {
      version,
      overheadMs: summarize(overhead),
      pausedMs: summarize(paused),
      helpStartMs: summarize(help),
      runs,
      failures,
      how: '`chaos --no-version-check run exp.json` (a venv in /tmp, not committed): a process action `docker pause <c>` with pauses.after 10, a rollback `docker unpause <c>`; wall time − 10 s',
    };
  });
}

/** The part: `runs` runs of each tool, and `gameday --help` started `runs` times. */
export async function cliOverhead(client: Client, http: HttpTarget, runs: number): Promise<CliResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gameday-bench-cli-'));
  try {
    return await withTimeout('cli overhead', runs * 2 * 60_000 + 120_000, (async () => {
      const gameday = await gamedayRuns(client, http, runs, dir);
      const help: number[] = [];
      for (let i = 0; i < runs; i++) help.push((await timed(process.execPath, [path.join(ROOT, 'bin', 'gameday.js'), '--help'], {}, dir)).ms);
      const helpStartMs = summarize(help);
      progress(`gameday --help: p50 ${helpStartMs.p50} ms`);
      const chaosToolkit = await chaosToolkitRuns(runs, dir);
      // Against Chaos Toolkit on this machine in the same bench run when it was measured (the same load), else the issue author's figure.
      const ctkP50 = 'overheadMs' in chaosToolkit ? chaosToolkit.overheadMs.p50 : undefined;
      const overheadP50 = ctkP50 === undefined ? below(gameday.overheadMs.p50, 250, 'ms (Chaos Toolkit on the same pause, the issue author)') : below(gameday.overheadMs.p50, ctkP50, 'ms (Chaos Toolkit on the same pause, this machine, this bench run)');
      return { gameday: { ...gameday, overheadP50 }, helpStartMs: { ...helpStartMs, p50Target: below(helpStartMs.p50, 300, 'ms') }, chaosToolkit, issueReferenceMs: 250 };
    })());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
