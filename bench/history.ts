/**
 * History events per run against duration: the same experiment (a pause of a container, an
 * observe probe and a guardrail, both sampling fast) run for longer and longer. Per run: its
 * events, the largest payload in its history, the samples it took, and what that is worth at 1 s
 * sampling; then a full replay of the largest history against the 2 s workflow task timeout.
 */
import type { Client } from '@temporalio/client';
import type { ExperimentResult } from '../src/types';
import { outcomes, withFleet } from './fleet';
import type { HttpTarget } from './http-target';
import { below, progress, round, summarize, withTimeout, type Summary, type Targeted } from './lib';
import { fetchHistory, historyFacts, readJournal, replayMs, type HistoryFacts } from './runs';
import { pauseSpec } from './specs';

/** The figures of one run. */
export interface HistoryPoint {
  durationS: number;
  intervalMs: number;
  verdict: string;
  /** The history's facts (without the list of workflow task waits: see workflowTaskWaitMs). */
  history: HistoryFacts;
  workflowTaskWaitMs: Summary;
  samples: { observe: number; guardrail: number; source: string };
  /** The longer sampler's count × 1 s: how long a run sampling every second would observe for the same samples. */
  equivalentAt1sS: number;
  eventsPerSample: number;
  eventsUnder2000: Targeted;
  largestPayloadUnder256KB: Targeted;
}

/** What the part reports. */
export interface HistoryResult {
  runs: HistoryPoint[];
  /** events ≈ a + b × samples, fitted over the runs, at 86,400 s with an observe probe and a guardrail at 1 s. */
  projected24hAt1s: { events: number | null; fit: string; target: string; met: boolean | null };
  replayOfLargest: { events: number; ms: number | null; error?: string; underWorkflowTaskTimeout: Targeted };
}

/** The sample counts: from the journal when the run wrote one, else from the completed probe activities. */
function samplesOf(facts: HistoryFacts, journal: { observations: unknown[]; guardrails: unknown[] } | undefined): HistoryPoint['samples'] {
  if (journal) return { observe: journal.observations.length, guardrail: journal.guardrails.length, source: 'journal.json' };
  return { observe: facts.completedActivities.runChecks ?? 0, guardrail: facts.completedActivities.probeGuardrail ?? 0, source: 'completed probe activities in the history (no journal)' };
}

function fit(points: HistoryPoint[]): HistoryResult['projected24hAt1s'] {
  const xs = points.map((p) => p.samples.observe + p.samples.guardrail);
  const ys = points.map((p) => p.history.events);
  const target = '< 2000 events';
  if (points.length < 2 || Math.max(...xs) === Math.min(...xs)) return { events: null, fit: 'needs two runs of different lengths', target, met: null };
  const mx = xs.reduce((a, b) => a + b) / xs.length;
  const my = ys.reduce((a, b) => a + b) / ys.length;
  const b = xs.reduce((s, x, i) => s + (x - mx) * (ys[i] - my), 0) / xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  const a = my - b * mx;
  const events = Math.round(a + b * 2 * 86_400);
  return { events, fit: `events = ${Math.round(a)} + ${round(b)} × samples (least squares over ${points.length} runs)`, target, met: events < 2000 };
}

/** Runs the experiment once per duration (seconds), sampling every `intervalMs`. */
export async function historyPerDuration(client: Client, http: HttpTarget, durations: number[], intervalMs: number): Promise<HistoryResult> {
  const container = 'gameday-bench-h';
  const budget = durations.reduce((a, b) => a + b, 0) * 1000 + durations.length * 120_000;
  return withTimeout('history', budget, withFleet(client, 'history', [container], async (fleet) => {
    const runs: HistoryPoint[] = [];
    let largest: { id: string; history: Awaited<ReturnType<typeof fetchHistory>> } | undefined;
    for (const d of durations) {
      const id = `bench-history-${d}s-${Date.now()}`;
      const spec = pauseSpec({ id: 'bench-history', container, duration: `${d}s`, url: http.url, observeInterval: `${intervalMs}ms`, guardrailInterval: `${intervalMs}ms` });
      const [done] = await outcomes([await fleet.start(id, spec)], d * 1000 + 90_000);
      const history = await fetchHistory(client, id);
      const facts = historyFacts(history);
      const samples = samplesOf(facts, await readJournal((done.result as ExperimentResult | undefined)?.reportDir));
      const total = samples.observe + samples.guardrail;
      runs.push({
        durationS: d,
        intervalMs,
        verdict: done.result?.verdict ?? `did not end: ${done.error}`,
        history: { ...facts, workflowTaskWaitsMs: [] },
        workflowTaskWaitMs: summarize(facts.workflowTaskWaitsMs),
        samples,
        equivalentAt1sS: Math.max(samples.observe, samples.guardrail),
        eventsPerSample: total ? round(facts.events / total) : NaN,
        eventsUnder2000: below(facts.events, 2000, 'events'),
        largestPayloadUnder256KB: below(round(facts.largestPayload.bytes / 1024), 256, 'KiB'),
      });
      progress(`history ${d} s at ${intervalMs} ms: ${facts.events} events, ${total} samples, largest payload ${round(facts.largestPayload.bytes / 1024)} KiB (${facts.largestPayload.where}), ${facts.closedBy}`);
      if (!largest || (history.events?.length ?? 0) > (largest.history.events?.length ?? 0)) largest = { id, history };
    }
    const replay = largest ? await replayMs(largest.history, largest.id).then((ms) => ({ ms: Math.round(ms) }), (e: Error) => ({ ms: null, error: e.message })) : { ms: null, error: 'no run' };
    progress(`replay of the largest history (${largest?.history.events?.length} events): ${replay.ms ?? replay.error} ms`);
    return {
      runs,
      projected24hAt1s: fit(runs),
      replayOfLargest: { events: largest?.history.events?.length ?? 0, ...replay, underWorkflowTaskTimeout: below(replay.ms ?? undefined, 2000, 'ms') },
    };
  }));
}
