/**
 * Guardrail detection latency: an experiment whose guardrail probes the bench's own HTTP
 * endpoint, which the bench flips from 200 to 500 at a moment T it records. Per guardrail
 * interval: T → the breaching sample (the journal's `breach.at`), T → the workflow noting the
 * breach (its journal event), T → every fault reverted (Docker's unpause event). And the sampling
 * gaps of a fast guardrail beside an observe probe, against its interval.
 */
import type { Client } from '@temporalio/client';
import { outcomes, withFleet, type Fleet } from './fleet';
import type { HttpTarget } from './http-target';
import { below, delay, progress, round, summarize, withTimeout, type Summary, type Targeted } from './lib';
import { readJournal } from './runs';
import { pauseSpec } from './specs';

const CONTAINER = 'gameday-bench-g';

/** Detection figures for one guardrail interval. */
export interface DetectionPoint {
  intervalMs: number;
  runs: number;
  /** T → the breaching sample's `at` (when that probe began). */
  toBreachSampleMs: Summary;
  /** T → the workflow's journal event saying the guardrail breached. */
  toBreachNotedMs: Summary;
  /** T → the container unpaused (Docker event). */
  toRevertedMs: Summary;
  verdicts: Record<string, number>;
  /** No target in the issue: the bound used here is the interval + 1 s (probe time, abort and one revert). */
  revertedP99: Targeted;
  unmeasured: string[];
}

/** A guardrail's and an observe probe's gaps between samples, against their intervals. */
export interface GapResult {
  guardrailIntervalMs: number;
  observeIntervalMs: number;
  seconds: number;
  guardrailGapMs: Summary;
  observeGapMs: Summary;
  /** How long one guardrail probe took (its samples' latencyMs). */
  guardrailProbeMs: Summary;
  /** The rule, gap = interval + probe time: the median gap against interval + median probe time + 25 ms of scheduling. */
  guardrailGapP50: Targeted;
}

async function detectOnce(fleet: Fleet, http: HttpTarget, intervalMs: number, i: number, into: Record<string, number[]>, notes: string[], verdicts: Record<string, number>): Promise<void> {
  const guardPath = `/guard-${intervalMs}-${i}-${Date.now()}`;
  const id = `bench-guard-${intervalMs}-${i}-${Date.now()}`;
  const t0 = Date.now();
  const spec = pauseSpec({ id: 'bench-guard', container: CONTAINER, duration: '60s', url: http.url, observeInterval: '1s', guardrailInterval: `${intervalMs}ms`, guardrailPath: guardPath });
  const handle = await fleet.start(id, spec);
  for (let waited = 0; !fleet.events.first('pause', CONTAINER, t0) && waited < 30_000; waited += 50) await delay(50);
  // A flip at a random phase of the sampling, well into the observation.
  await delay(1000 + Math.random() * Math.max(1000, intervalMs));
  const T = http.flip(guardPath, 500);
  const [done] = await outcomes([handle], 90_000);
  const verdict = done.result?.verdict ?? `did not end: ${done.error}`;
  verdicts[verdict] = (verdicts[verdict] ?? 0) + 1;
  const journal = await readJournal(done.result?.reportDir);
  const noted = journal?.events.find((e) => e.message.startsWith("guardrail 'guard' breached"));
  const unpaused = fleet.events.first('unpause', CONTAINER, T);
  if (journal?.breach) into.sample.push(Date.parse(journal.breach.at) - T);
  if (noted) into.noted.push(Date.parse(noted.at) - T);
  if (unpaused) into.reverted.push(unpaused.at - T);
  if (!journal?.breach || !noted || !unpaused) notes.push(`${id}: ${!journal ? 'no journal' : !journal.breach ? 'no breach recorded' : !noted ? 'no breach event' : 'no unpause event after T'}`);
  progress(`guardrail ${intervalMs} ms run ${i + 1}: ${verdict}; T → breach sample ${into.sample.at(-1)} ms, → reverted ${Math.round(into.reverted.at(-1) ?? NaN)} ms`);
}

/** `runs` breaches per guardrail interval, each in a fresh run on one worker. */
export async function detectionLatency(client: Client, http: HttpTarget, intervals: number[], runs: number): Promise<DetectionPoint[]> {
  return withTimeout('guardrail detection', intervals.length * runs * 90_000 + 60_000, withFleet(client, 'guard', [CONTAINER], async (fleet) => {
    const points: DetectionPoint[] = [];
    for (const intervalMs of intervals) {
      const into: Record<string, number[]> = { sample: [], noted: [], reverted: [] };
      const notes: string[] = [];
      const verdicts: Record<string, number> = {};
      for (let i = 0; i < runs; i++) await detectOnce(fleet, http, intervalMs, i, into, notes, verdicts);
      const toRevertedMs = summarize(into.reverted.map(round));
      points.push({ intervalMs, runs, toBreachSampleMs: summarize(into.sample), toBreachNotedMs: summarize(into.noted), toRevertedMs, verdicts, revertedP99: below(toRevertedMs.p99, intervalMs + 1000, 'ms (interval + 1 s)'), unmeasured: notes });
    }
    return points;
  }));
}

function gaps(ats: string[]): number[] {
  const t = ats.map((a) => Date.parse(a)).sort((a, b) => a - b);
  return t.slice(1).map((v, i) => v - t[i]);
}

/** One run with a fast guardrail beside an observe probe; the gaps between their samples. */
export async function samplingGaps(client: Client, http: HttpTarget, guardrailIntervalMs: number, observeIntervalMs: number, seconds: number): Promise<GapResult> {
  return withTimeout('guardrail gaps', seconds * 1000 + 120_000, withFleet(client, 'gaps', [CONTAINER], async (fleet) => {
    const spec = pauseSpec({ id: 'bench-gaps', container: CONTAINER, duration: `${seconds}s`, url: http.url, observeInterval: `${observeIntervalMs}ms`, guardrailInterval: `${guardrailIntervalMs}ms` });
    const [done] = await outcomes([await fleet.start(`bench-gaps-${Date.now()}`, spec)], seconds * 1000 + 90_000);
    const journal = await readJournal(done.result?.reportDir);
    if (!journal) throw new Error(`the gaps run wrote no journal: ${done.error ?? done.result?.verdict}`);
    const guardrailGapMs = summarize(gaps(journal.guardrails.map((s) => s.at)));
    const observeGapMs = summarize(gaps(journal.observations.map((s) => s.at)));
    const guardrailProbeMs = summarize(journal.guardrails.map((s) => Number(s.measurement.latencyMs)));
    progress(`gaps: guardrail ${guardrailIntervalMs} ms sampled every ${guardrailGapMs.p50} ms (p95 ${guardrailGapMs.p95}); observe ${observeIntervalMs} ms every ${observeGapMs.p50} ms`);
    const bound = guardrailIntervalMs + guardrailProbeMs.p50 + 25;
    return { guardrailIntervalMs, observeIntervalMs, seconds, guardrailGapMs, observeGapMs, guardrailProbeMs, guardrailGapP50: below(guardrailGapMs.p50, bound, `ms (interval + probe p50 + 25 ms)`) };
  }));
}
