import { Context } from '@temporalio/activity';
import { sampleChunk, type Chunk, type ChunkArgs } from '../src/observe/host-sampling';
import { sampleRounds, type GuardSummary } from '../src/observe/sampling';
import { endIfCancelled, samplingEnv } from './sampling';
import type { ProbeContext } from '../src/probes';
import type { Guardrail } from '../src/spec/schema';
import type { RunKey, SamplePhase } from '../src/store/types';
import type { StoreWriter } from '../src/store/writer';
import type { GamedayMetrics } from '../src/metrics/gameday';
import type { ProbeWindow } from '../src/types';

/** What the agent samples for a run, whole, into the results store (sampleToStore). */
export type HostSamplingArgs = ChunkArgs & { run: RunKey; phase: SamplePhase; source: string; window?: ProbeWindow; guardrail?: Guardrail };

/**
 * The probe activities of a host's agent, run on this host (its Docker engine, its network).
 * `sampleToStore` (runs since patch host-probes-store) samples as long as the run asks and writes
 * every sample straight to Gameday's results store, returning aggregates only, as a worker's
 * sampling activities do. `sampleOnHost` is the chunk path of runs started before it: a chunk of
 * rounds returned to the run, whose own worker stores them (recordHostChunk).
 */
export function createHostSamplingActivities(deps: { probe: Omit<ProbeContext, 'window'>; writer: StoreWriter; metrics?: GamedayMetrics }) {
  return {
    async sampleOnHost(args: ChunkArgs & { window?: ProbeWindow }): Promise<Chunk> {
      const ctx = Context.current();
      const { window, ...chunk } = args;
      return sampleChunk(chunk, { probe: { ...deps.probe, window }, signal: ctx.cancellationSignal, heartbeat: () => ctx.heartbeat() });
    },

    async sampleToStore(args: HostSamplingArgs): Promise<GuardSummary> {
      const { run, window, ...rounds } = args;
      const summary = await sampleRounds(rounds, samplingEnv(deps, run, window));
      await endIfCancelled();
      if (summary.breach && args.guardrail) deps.metrics?.guardrailBreached(args.guardrail.probe.kind, summary.breach.at);
      return summary;
    },
  };
}
