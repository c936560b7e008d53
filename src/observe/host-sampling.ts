/**
 * Probes on another host, through its agent. An agent has no results store, so it samples for a
 * bounded stretch (a chunk) and returns the rounds it took; the run hands each chunk to its own
 * worker, which stores the samples and folds them into the same progress a sampling activity
 * keeps (`recordChunk`). A chunk ends at the run's `until`, at a stop condition (a guardrail met,
 * the steady state held), after CHUNK_MS or once its samples near CHUNK_BYTES: every chunk is
 * one activity result under 256 KB, and the run's history grows by a few events per chunk.
 */
import { allHeld } from '../judge';
import { runCheck, type ProbeContext } from '../probes';
import type { ObserveCheck, SteadyStateCheck } from '../spec/schema';
import type { ProbeSample, Stage } from '../types';
import { pause } from './sampling';

/** The longest a chunk samples before it returns what it took. */
export const CHUNK_MS = 30_000;
/** Roughly the most a chunk's samples weigh as JSON: well under the 256 KB of one payload. */
export const CHUNK_BYTES = 128 * 1024;

/** When a chunk ends early: a guardrail's abort condition met, or every check held (verification). */
export type ChunkStop = 'breach' | 'held';

export interface ChunkArgs {
  checks: (SteadyStateCheck | ObserveCheck)[];
  stage: Stage;
  intervalMs: number;
  /** Epoch ms: no round starts after it; a round that ends after it is dropped (as observeUntil). */
  until: number;
  /** At most this many rounds (1 for a baseline). */
  maxRounds?: number;
  stop?: ChunkStop;
}

/** What a chunk took: its rounds in order, and whether the sampling it belongs to is over. */
export interface Chunk {
  rounds: ProbeSample[][];
  /** True when the sampling ended (until, a stop condition, the rounds asked for, cancellation); false when only the chunk did. */
  done: boolean;
}

function stopped(round: ProbeSample[], stop: ChunkStop | undefined): boolean {
  if (stop === 'breach') return round.some((s) => s.expectations.some((e) => e.ok));
  if (stop === 'held') return allHeld(round);
  return false;
}

/**
 * Rounds of the checks, one every `intervalMs`, on this host, until the chunk or the sampling
 * ends. `heartbeat` is called every second (the activity's liveness; there is nothing to resume:
 * a chunk whose agent dies is taken again whole, after the run's last stored round).
 */
export async function sampleChunk(args: ChunkArgs, env: { probe: ProbeContext; signal: AbortSignal; heartbeat: () => void }): Promise<Chunk> {
  const rounds: ProbeSample[][] = [];
  const chunkEnds = Date.now() + CHUNK_MS;
  let bytes = 0;
  env.heartbeat();
  const beat = setInterval(env.heartbeat, 1000);
  try {
    for (;;) {
      if (env.signal.aborted || Date.now() >= args.until) return { rounds, done: true };
      const started = Date.now();
      const round = await Promise.all(args.checks.map((c) => runCheck(c, args.stage, env.probe)));
      // As observeUntil: a round still running when the last fault was due measured the recovery.
      if (args.stage === 'observe' && Date.now() > args.until) return { rounds, done: true };
      rounds.push(round);
      bytes += JSON.stringify(round).length;
      if (stopped(round, args.stop) || (args.maxRounds !== undefined && rounds.length >= args.maxRounds) || env.signal.aborted) return { rounds, done: true };
      if (bytes >= CHUNK_BYTES || Date.now() >= chunkEnds) return { rounds, done: false };
      await pause(Math.min(args.until, started + args.intervalMs) - Date.now(), env.signal);
    }
  } finally {
    clearInterval(beat);
  }
}
