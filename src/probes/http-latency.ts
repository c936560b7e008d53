import type { z } from 'zod';
import { durationMs } from '../spec/loader';
import type { httpLatencyProbeSchema } from '../spec/schema';
import type { Measurement } from '../types';

export type HttpLatencyProbe = z.infer<typeof httpLatencyProbeSchema>;

const DEFAULT_REQUESTS = 10;
const DEFAULT_WINDOW = '1s';

/** The time one http-latency sample may take: its window, then the last request's timeout. */
export function httpLatencyBudgetMs(probe: HttpLatencyProbe, timeoutMs: number): number {
  return durationMs(probe.window ?? DEFAULT_WINDOW) + timeoutMs;
}

/** The nearest-rank percentile (0 < p ≤ 100) of values sorted ascending; undefined when empty. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
}

interface Outcome {
  /** Milliseconds to the end of the answer's body; undefined when no answer came. */
  ms?: number;
  ok: boolean;
}

async function timedRequest(probe: HttpLatencyProbe, timeoutMs: number): Promise<Outcome> {
  const started = performance.now();
  try {
    const response = await fetch(probe.url, { method: probe.method ?? 'GET', signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return { ms: performance.now() - started, ok: response.status < 400 };
  } catch {
    return { ok: false };
  }
}

const round = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : Math.round(ms * 10) / 10);

/**
 * Sends `requests` requests (default 10) spread evenly over `window` (default 1s), each started
 * on schedule whether or not the previous one has answered (a slow server does not slow the
 * load), each limited by the probe's timeout. Measures `ok` (answered with a status below 400),
 * `errors` (everything else: 4xx, 5xx, no answer), `errorRate` (errors / requests) and, over the
 * requests that were answered (any status), `p50Ms`, `p95Ms`, `p99Ms`, `maxMs`; those four are
 * absent when no request was answered.
 */
export async function probeHttpLatency(probe: HttpLatencyProbe, timeoutMs: number): Promise<Measurement> {
  const requests = probe.requests ?? DEFAULT_REQUESTS;
  const spacingMs = durationMs(probe.window ?? DEFAULT_WINDOW) / requests;
  const started = performance.now();
  const pending: Promise<Outcome>[] = [];
  for (let i = 0; i < requests; i++) {
    const wait = started + i * spacingMs - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(timedRequest(probe, timeoutMs));
  }
  const outcomes = await Promise.all(pending);
  const answered = outcomes.flatMap((o) => (o.ms === undefined ? [] : [o.ms])).sort((a, b) => a - b);
  const ok = outcomes.filter((o) => o.ok).length;
  const m: Measurement = { ok, errors: requests - ok, errorRate: (requests - ok) / requests };
  const fields = { p50Ms: percentile(answered, 50), p95Ms: percentile(answered, 95), p99Ms: percentile(answered, 99), maxMs: answered.at(-1) };
  for (const [field, value] of Object.entries(fields)) if (value !== undefined) m[field] = round(value)!;
  return m;
}
