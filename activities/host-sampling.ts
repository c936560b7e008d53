import { Context } from '@temporalio/activity';
import { sampleChunk, type Chunk, type ChunkArgs } from '../src/observe/host-sampling';
import type { ProbeContext } from '../src/probes';
import type { ProbeWindow } from '../src/types';

/**
 * The probe activity of a host's agent: a chunk of rounds on this host (its Docker engine, its
 * network), returned to the run, whose own worker stores them (recordHostChunk). Needs no store.
 */
export function createHostSamplingActivities(deps: { probe: Omit<ProbeContext, 'window'> }) {
  return {
    async sampleOnHost(args: ChunkArgs & { window?: ProbeWindow }): Promise<Chunk> {
      const ctx = Context.current();
      const { window, ...chunk } = args;
      return sampleChunk(chunk, { probe: { ...deps.probe, window }, signal: ctx.cancellationSignal, heartbeat: () => ctx.heartbeat() });
    },
  };
}
