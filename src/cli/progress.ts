import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { SamplingProgress } from '../observe/sampling';

/**
 * What the sampling activities of a run (observe, guardrails, verify) report in their heartbeats:
 * the last value of every probe and their newest transitions. Sampling never goes through the
 * workflow's history, so this is where a person watching a long observation sees it.
 */
export async function samplingProgress(handle: WorkflowHandle): Promise<SamplingProgress[]> {
  const desc = await handle.describe();
  const out: SamplingProgress[] = [];
  for (const a of desc.raw.pendingActivities ?? []) {
    const payload = a.heartbeatDetails?.payloads?.[0];
    if (!payload) continue;
    try {
      const p = defaultPayloadConverter.fromPayload<SamplingProgress>(payload);
      if (p && typeof p === 'object' && 'lastProbes' in p) out.push(p);
    } catch {
      // Not a sampler's heartbeat (an inject or a revert): nothing to show.
    }
  }
  return out;
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
