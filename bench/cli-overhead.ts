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
import { withFleet } from './fleet';
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

/** `gameday run --wait`'s figures: wall time, the workflow's own part and where the rest went. */
type GamedayOverhead = ToolOverhead & { workflowOverheadMs: Summary; cliOwnMs: Summary; phasesMs: Record<keyof Phases, Summary>; how: string };

/** The part's figures. */
export interface CliResult {
  /** workflowOverheadMs: the run's history, start to close, − 10 s; cliOwnMs: wall time − that history time. */
  gameday: GamedayOverhead & { overheadP50: Targeted };
  /** The same command from the plain build (tsc's output, ~450 modules, no code cache), in the same rounds: what the bundle saves. */
  gamedayPlainBuild: GamedayOverhead;
  helpStartMs: Summary & { p50Target: Targeted };
  helpStartPlainBuildMs: Summary;
  /**
   * `node -e 0` in the same rounds: node's own start, which every command pays; with this
   * machine's NODE_EXTRA_CA_CERTS and, when that is set, without it (what bin/gameday spares `run`).
   */
  nodeStartMs: { asIs: Summary; withoutExtraCaCerts?: Summary; extraCaCerts?: string };
  chaosToolkit: (ToolOverhead & { version: string; helpStartMs: Summary; how: string }) | { notMeasured: string };
  /** Chaos Toolkit on the same pause with the steady state of Gameday's file checked before and after (not the target's reference: the issue's figure is the bare pause). */
  chaosToolkitWithSteadyState?: ToolOverhead & { how: string };
  /**
   * The round before the measured ones, not counted: wall time − 10 s of each tool's first run.
   * Gameday's is the first run of a worker just started (its protobuf codecs built, the workflow
   * code's first activations, its first connections), which a worker that runs for days pays once.
   */
  warmUpMs: { gameday?: number; gamedayPlainBuild?: number; chaosToolkit?: number; chaosToolkitWithSteadyState?: number };
  /** The issue author's Chaos Toolkit figure on the same pause, the reference when ours is not measured. */
  issueReferenceMs: number;
  how: string;
}

/** One tool's samples, summarized by `overheadOf`. */
class Samples {
  overhead: number[] = [];
  workflow: number[] = [];
  own: number[] = [];
  paused: number[] = [];
  phases: Phases[] = [];
  failures: string[] = [];

  gameday(runs: number, how: string): GamedayOverhead {
    const phase = (k: keyof Phases): Summary => summarize(this.phases.map((p) => p[k]));
    return {
      overheadMs: summarize(this.overhead),
      workflowOverheadMs: summarize(this.workflow),
      cliOwnMs: summarize(this.own),
      phasesMs: { cliBeforeStart: phase('cliBeforeStart'), runBeforeTimer: phase('runBeforeTimer'), runAfterTimer: phase('runAfterTimer'), cliAfterClose: phase('cliAfterClose') },
      pausedMs: summarize(this.paused),
      runs,
      failures: this.failures,
      how,
    };
  }
}

/** The pauses and unpauses so far, shared by every tool pausing the one container. */
interface Round {
  events: ContainerEvents;
  unpauses: number;
}

/** One `gameday run <file> --wait --json` through `cli` (bin/gameday as a user's shell starts it, or node and the plain build), into `into`. */
async function gamedayRun(client: Client, taskQueue: string, round: Round, cli: string[], file: string, dir: string, into: Samples, label: string): Promise<void> {
  const since = Date.now();
  const r = await timed(cli[0], [...cli.slice(1), 'run', file, '--wait', '--json'], { GAMEDAY_TASK_QUEUE: taskQueue }, dir);
  const exitedAt = Date.now();
  const result = JSON.parse(r.stdout.trim().split('\n').pop() || '{}') as { workflowId?: string; verdict?: string };
  if (r.code !== 0 || !result.workflowId) {
    into.failures.push(`${label}: exit ${r.code}, verdict ${result.verdict}: ${r.stderr.slice(-300)}`);
    return;
  }
  const history = await fetchHistory(client, result.workflowId);
  const ms = historyFacts(history).workflowMs;
  const phase = phasesOf(history, since, exitedAt);
  if (phase) into.phases.push(phase);
  into.overhead.push(r.ms - PAUSE_MS);
  if (ms !== undefined) into.workflow.push(ms - PAUSE_MS);
  if (ms !== undefined) into.own.push(r.ms - ms);
  await round.events.waitFor('unpause', ++round.unpauses, 2_000);
  const p = pausedMs(round.events, since);
  if (p !== undefined) into.paused.push(p);
  progress(`${label}: ${Math.round(r.ms)} ms wall, workflow ${ms} ms, paused ${p === undefined ? '?' : Math.round(p)} ms`);
}

/**
 * The Chaos Toolkit experiment of the same pause, written to `dir`. With `steadyUrl`, it also
 * checks a steady-state hypothesis of the same http probe as Gameday's file (status 200) before
 * and after the method, as Chaos Toolkit does: the same work as ours before and after the fault.
 */
async function chaosToolkitFile(dir: string, steadyUrl?: string): Promise<string> {
  const file = path.join(dir, steadyUrl ? 'ctk-pause-10s-steady.json' : 'ctk-pause-10s.json');
  const docker = (verb: string): unknown => ({ type: 'action', name: `${verb} ${CONTAINER}`, provider: { type: 'process', path: 'docker', arguments: [verb, CONTAINER] } });
  const steady = steadyUrl
    ? { 'steady-state-hypothesis': { title: 'endpoint answers', probes: [{ type: 'probe', name: 'endpoint answers', tolerance: 200, provider: { type: 'http', url: steadyUrl, timeout: 2 } }] } }
    : {};
  const experiment = { version: '1.0.0', title: 'pause for 10 s', description: 'Gameday bench', ...steady, method: [{ ...(docker('pause') as object), pauses: { after: PAUSE_MS / 1000 } }], rollbacks: [docker('unpause')] };
  await writeFile(file, JSON.stringify(experiment, null, 2));
  return file;
}

/** One `chaos run` of the same pause, into `into`. */
async function chaosToolkitRun(round: Round, file: string, dir: string, into: Samples, label: string): Promise<void> {
  const since = Date.now();
  const r = await timed(CTK, ['--no-version-check', '--log-file', path.join(dir, 'chaostoolkit.log'), 'run', '--journal-path', path.join(dir, 'journal.json'), file], {}, dir);
  await round.events.waitFor('unpause', ++round.unpauses, 2_000);
  const p = pausedMs(round.events, since);
  if (r.code !== 0 || p === undefined) into.failures.push(`${label}: exit ${r.code}${p === undefined ? ', no pause/unpause seen' : ''}`);
  else {
    into.overhead.push(r.ms - PAUSE_MS);
    into.paused.push(p);
  }
  progress(`${label}: ${Math.round(r.ms)} ms wall, paused ${p === undefined ? '?' : Math.round(p)} ms`);
}

/**
 * The part: `runs` rounds, each of them `gameday run --wait` (bin/gameday.js: the bundle), the same
 * from the plain build, `chaos run`, then `--help` of each: interleaved, so that every tool meets
 * the same load on this shared machine.
 */
export async function cliOverhead(client: Client, http: HttpTarget, runs: number): Promise<CliResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gameday-bench-cli-'));
  try {
    return await withTimeout('cli overhead', (runs + 1) * 3 * 60_000 + 120_000, (async () => {
      const file = path.join(dir, 'pause-10s.yaml');
      await writeFile(file, stringify(pauseSpec({ id: 'bench-cli-pause', container: CONTAINER, duration: `${PAUSE_MS / 1000}s`, url: http.url })));
      // The plain build as bin/gameday.js ran it before the bundle.
      const plain = path.join(dir, 'plain-build.js');
      await writeFile(plain, `require(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'cli', 'main.js'))}).main();\n`);
      // The command as npm installs it (node_modules/.bin/gameday, package.json's bin): the launcher.
      const bin = path.join(ROOT, 'bin', 'gameday');
      const ctk = existsSync(CTK);
      const version = ctk ? (await timed(CTK, ['--version'], {}, dir)).stdout.trim() : '';
      const ctkFile = await chaosToolkitFile(dir);
      const ctkSteadyFile = await chaosToolkitFile(dir, `${http.url}/steady`);
      const [bundled, fromPlain, chaos, chaosSteady] = [new Samples(), new Samples(), new Samples(), new Samples()];
      const [help, helpPlain, helpCtk, nodeStart, nodeStartBare]: number[][] = [[], [], [], [], []];
      const extraCa = process.env.NODE_EXTRA_CA_CERTS;
      const warm = { bundled: new Samples(), plain: new Samples(), chaos: new Samples(), chaosSteady: new Samples() };
      await withFleet(client, 'cli', [CONTAINER], async (fleet) => {
        const round: Round = { events: fleet.events, unpauses: 0 };
        await gamedayRun(client, fleet.taskQueue, round, [bin], file, dir, warm.bundled, 'warm-up (not counted): gameday run --wait, the first run of the worker');
        await gamedayRun(client, fleet.taskQueue, round, [process.execPath, plain], file, dir, warm.plain, 'warm-up (not counted): plain build run --wait');
        if (ctk) await chaosToolkitRun(round, ctkFile, dir, warm.chaos, 'warm-up (not counted): chaos run');
        if (ctk) await chaosToolkitRun(round, ctkSteadyFile, dir, warm.chaosSteady, 'warm-up (not counted): chaos run with the steady state');
        for (let i = 1; i <= runs; i++) {
          await gamedayRun(client, fleet.taskQueue, round, [bin], file, dir, bundled, `gameday run --wait ${i}/${runs}`);
          await gamedayRun(client, fleet.taskQueue, round, [process.execPath, plain], file, dir, fromPlain, `plain build run --wait ${i}/${runs}`);
          if (ctk) await chaosToolkitRun(round, ctkFile, dir, chaos, `chaos run ${i}/${runs}`);
          if (ctk) await chaosToolkitRun(round, ctkSteadyFile, dir, chaosSteady, `chaos run with the steady state ${i}/${runs}`);
          help.push((await timed(bin, ['--help'], {}, dir)).ms);
          nodeStart.push((await timed(process.execPath, ['-e', '0'], {}, dir)).ms);
          if (extraCa) nodeStartBare.push((await timed(process.execPath, ['-e', '0'], { NODE_EXTRA_CA_CERTS: '' }, dir)).ms);
          helpPlain.push((await timed(process.execPath, [plain, '--help'], {}, dir)).ms);
          if (ctk) helpCtk.push((await timed(CTK, ['--help'], {}, dir)).ms);
        }
      });
      const how = '`bin/gameday run <file> --wait --json` (the installed command) against a spawned `gameday worker`; the file pauses one busybox container for 10 s, a steady state of one http probe of the bench, no observe probes';
      const gameday = bundled.gameday(runs, how);
      const helpStartMs = summarize(help);
      progress(`gameday --help: p50 ${helpStartMs.p50} ms (plain build ${summarize(helpPlain).p50} ms)`);
      const chaosToolkit: CliResult['chaosToolkit'] = ctk
        ? {
            version,
            overheadMs: summarize(chaos.overhead),
            pausedMs: summarize(chaos.paused),
            helpStartMs: summarize(helpCtk),
            runs,
            failures: chaos.failures,
            how: '`chaos --no-version-check run exp.json` (a venv in /tmp, not committed): a process action `docker pause <c>` with pauses.after 10, a rollback `docker unpause <c>`; wall time − 10 s',
          }
        : { notMeasured: `Chaos Toolkit not found at ${CTK} (python3 -m venv /tmp/ctk && /tmp/ctk/bin/pip install chaostoolkit)` };
      // Against Chaos Toolkit on this machine in the same rounds when it was measured (the same load), else the issue author's figure.
      const ctkP50 = 'overheadMs' in chaosToolkit ? chaosToolkit.overheadMs.p50 : undefined;
      const overheadP50 = ctkP50 === undefined ? below(gameday.overheadMs.p50, 250, 'ms (Chaos Toolkit on the same pause, the issue author)') : below(gameday.overheadMs.p50, ctkP50, 'ms (Chaos Toolkit on the same pause, this machine, the same rounds)');
      return {
        gameday: { ...gameday, overheadP50 },
        gamedayPlainBuild: fromPlain.gameday(runs, 'the same, through `require(dist/src/cli/main.js).main()`: the plain build, as bin/gameday.js ran every command before the bundle'),
        helpStartMs: { ...helpStartMs, p50Target: below(helpStartMs.p50, 300, 'ms') },
        helpStartPlainBuildMs: summarize(helpPlain),
        nodeStartMs: { asIs: summarize(nodeStart), ...(extraCa ? { withoutExtraCaCerts: summarize(nodeStartBare), extraCaCerts: extraCa } : {}) },
        chaosToolkit,
        ...(ctk
          ? {
              chaosToolkitWithSteadyState: {
                overheadMs: summarize(chaosSteady.overhead),
                pausedMs: summarize(chaosSteady.paused),
                runs,
                failures: chaosSteady.failures,
                how: 'the same pause with a steady-state-hypothesis of one http probe of the bench (tolerance 200), which Chaos Toolkit checks before and after the method: the work of the steady state in our file',
              },
            }
          : {}),
        warmUpMs: { gameday: warm.bundled.overhead[0], gamedayPlainBuild: warm.plain.overhead[0], chaosToolkit: warm.chaos.overhead[0], chaosToolkitWithSteadyState: warm.chaosSteady.overhead[0] },
        issueReferenceMs: 250,
        how: `a warm-up round of each tool's run (not counted: warmUpMs), then ${runs} rounds, each: gameday run --wait (bundle), the same from the plain build, chaos run, chaos run with the steady state, then --help of each; one container, one worker`,
      };
    })());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
