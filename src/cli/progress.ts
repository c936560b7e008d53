import type { SamplingProgress } from '../observe/sampling';
import type { RunWatch } from './run';

/**
 * What the sampling activities of a run (observe, guardrails, verify) report in their heartbeats:
 * the last value of every probe and their newest transitions. Sampling never goes through the
 * workflow's history, so this is where a person watching a long observation sees it.
 */
export async function samplingProgress(run: Pick<RunWatch, 'describe'>): Promise<SamplingProgress[]> {
  const { heartbeats } = await run.describe();
  return heartbeats.filter((p): p is SamplingProgress => typeof p === 'object' && p !== null && 'lastProbes' in p);
}

/** Prints each transition once, by its source and sequence number. */
export function transitionPrinter(print: (line: string) => void): (progress: SamplingProgress[]) => void {
  const seen = new Set<string>();
  return (progress) => {
    for (const e of progress.flatMap((p) => p.recent).sort((a, b) => a.at.localeCompare(b.at))) {
      const key = `${e.source}/${e.seq}`;
      if (seen.has(key)) continue;
      seen.add(key);
      print(`  ${e.at.slice(11, 19)} ${e.message}`);
    }
  };
}
