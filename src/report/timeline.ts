/**
 * The data of the HTML report's charts: per probe and numeric field, its values over time, the
 * expectation's bounds, the samples that missed, each fault's window and the run's marks (inject,
 * revert, abort, guardrail breach). Bounded whatever the run's length: past `maxPoints` a series
 * is downsampled in one pass to the lowest and highest value of each time bucket.
 */
import type { Tolerance } from '../spec/schema';
import type { Journal, ProbeSample } from '../types';

/** Points a chart holds at most by default: a 24 h run sampled every 10 ms stays a small file. */
export const MAX_POINTS = 4000;

/** A horizontal line on a chart: a bound of an expectation, or a guardrail's abort condition. */
export interface ChartBound {
  label: string;
  value: number;
  kind: 'expect' | 'abort';
}

/** One chart: one field of one probe over the run. Times are epoch seconds (uPlot's unit). */
export interface ChartData {
  id: string;
  group: 'steady state' | 'observe' | 'guardrail';
  check: string;
  field: string;
  x: number[];
  y: (number | null)[];
  /** When samples missed (not met, or the probe failed); one per bucket when downsampled. */
  misses: number[];
  bounds: ChartBound[];
  /** Samples the run took of this probe. */
  samples: number;
  /** Set when `x` holds fewer points than samples: the bucket width in seconds. */
  bucketSeconds?: number;
}

/** A fault's time in place, from its injection to its revert (or the run's end). */
export interface FaultWindow {
  id: string;
  label: string;
  from: number;
  to: number;
  reverted: boolean;
}

/** A point in time marked on every chart. */
export interface TimelineMark {
  at: number;
  kind: 'inject' | 'revert' | 'abort' | 'breach';
  label: string;
}

/** Everything the charts of one report draw. */
export interface Timeline {
  range: [number, number];
  charts: ChartData[];
  faults: FaultWindow[];
  marks: TimelineMark[];
}

interface Check {
  group: ChartData['group'];
  name: string;
  samples: ProbeSample[];
  tolerances: Record<string, Tolerance>;
  kind: ChartBound['kind'];
}

const seconds = (iso: string): number => Date.parse(iso) / 1000;

/**
 * The timeline of a run, every chart at most `maxPoints` points long. `counts` gives each probe's
 * true number of samples when `j` holds only the thinned ones (thin.ts, a report streamed from the
 * store), keyed by seriesKey.
 */
export function buildTimeline(j: Journal, maxPoints = MAX_POINTS, counts?: Map<string, number>): Timeline {
  const start = seconds(j.startedAt);
  const end = Math.max(start + 1, seconds(j.finishedAt));
  const charts: ChartData[] = [];
  for (const check of checksOf(j)) {
    const total = counts?.get(seriesKey(check.group, check.name)) ?? check.samples.length;
    for (const field of fieldsOf(check)) charts.push(chartOf(check, total, field, [start, end], maxPoints, `c${charts.length}`));
  }
  const faults = j.rollback.faults
    .filter((f) => f.injectedAt)
    .map((f) => ({ id: f.id, label: `${f.id}: ${f.description}`, from: seconds(f.injectedAt!), to: f.revertedAt ? seconds(f.revertedAt) : end, reverted: Boolean(f.revertedAt) }));
  const marks: TimelineMark[] = [];
  for (const f of j.rollback.faults) {
    if (f.injectedAt) marks.push({ at: seconds(f.injectedAt), kind: 'inject', label: `inject ${f.id}` });
    if (f.revertedAt) marks.push({ at: seconds(f.revertedAt), kind: 'revert', label: `revert ${f.id}` });
  }
  if (j.breach) marks.push({ at: seconds(j.breach.at), kind: 'breach', label: `breach: ${j.breach.guardrail}` });
  if (j.abort) marks.push({ at: seconds(j.abort.at), kind: 'abort', label: 'abort' });
  return { range: [start, end], charts, faults, marks: marks.sort((a, b) => a.at - b.at) };
}

/** The run's probes: the steady state (baseline and verification), the observe probes, the guardrails. */
function checksOf(j: Journal): Check[] {
  const spec = j.plan?.spec;
  const byName = (list: ProbeSample[]): Map<string, ProbeSample[]> => {
    const m = new Map<string, ProbeSample[]>();
    for (const s of list) {
      const bucket = m.get(s.check);
      if (bucket) bucket.push(s);
      else m.set(s.check, [s]);
    }
    return m;
  };
  const steady = byName([...j.baseline, ...j.verification]);
  const observed = byName(j.observations);
  const guarded = byName(j.guardrails);
  const checks: Check[] = [];
  const add = (group: Check['group'], samples: Map<string, ProbeSample[]>, specs: { name: string; expect?: Record<string, Tolerance> }[], kind: Check['kind']) => {
    const names = [...new Set([...specs.map((s) => s.name), ...samples.keys()])];
    for (const name of names) checks.push({ group, name, samples: samples.get(name) ?? [], tolerances: specs.find((s) => s.name === name)?.expect ?? {}, kind });
  };
  add('steady state', steady, spec?.steadyState ?? [], 'expect');
  add('observe', observed, spec?.observe?.probes ?? [], 'expect');
  add('guardrail', guarded, (spec?.guardrails ?? []).map((g) => ({ name: g.name, expect: g.abortWhen })), 'abort');
  return checks.filter((c) => c.samples.length > 0);
}

function numericBounds(t: Tolerance): { label: string; value: number }[] {
  const bounds: { label: string; value: number }[] = [];
  if (typeof t.equals === 'number') bounds.push({ label: `equals ${t.equals}`, value: t.equals });
  if (t.atLeast !== undefined) bounds.push({ label: `at least ${t.atLeast}`, value: t.atLeast });
  if (t.atMost !== undefined) bounds.push({ label: `at most ${t.atMost}`, value: t.atMost });
  if (t.between) bounds.push({ label: `from ${t.between[0]}`, value: t.between[0] }, { label: `to ${t.between[1]}`, value: t.between[1] });
  return bounds;
}

/**
 * The fields a probe's charts show: those its expectations bound by a number, then its latency;
 * failing both, its first numeric field; failing that, `ok` (1 met, 0 missed).
 */
function fieldsOf(c: Check): string[] {
  const bounded = Object.entries(c.tolerances).filter(([, t]) => numericBounds(t).length > 0).map(([f]) => f);
  const numeric = (f: string) => c.samples.some((s) => typeof s.measurement[f] === 'number');
  const fields = [...bounded, ...(numeric('latencyMs') && !bounded.includes('latencyMs') ? ['latencyMs'] : [])];
  if (fields.length) return fields;
  const first = Object.keys(c.samples.find((s) => Object.values(s.measurement).some((v) => typeof v === 'number'))?.measurement ?? {}).find(numeric);
  return [first ?? 'ok'];
}

function valueOf(s: ProbeSample, field: string): number | null {
  if (field === 'ok' && !(field in s.measurement)) return s.ok ? 1 : 0;
  const v = s.measurement[field];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function chartOf(c: Check, total: number, field: string, range: [number, number], maxPoints: number, id: string): ChartData {
  const tolerance = c.tolerances[field];
  const prefix = c.kind === 'abort' ? 'abort when ' : '';
  const bounds = tolerance ? numericBounds(tolerance).map((b) => ({ label: `${prefix}${field} ${b.label}`, value: b.value, kind: c.kind })) : [];
  const base = { id, group: c.group, check: c.name, field, bounds, samples: total };
  if (total <= maxPoints) {
    return { ...base, x: c.samples.map((s) => seconds(s.at)), y: c.samples.map((s) => valueOf(s, field)), misses: c.samples.filter((s) => !s.ok).map((s) => seconds(s.at)) };
  }
  return { ...base, ...downsample(c.samples, field, range, Math.max(1, Math.floor(maxPoints / 2))) };
}

/**
 * One pass over samples in time order: per bucket of equal width over `range`, its lowest and its
 * highest value at their own times (so a spike survives), a null for a bucket with samples but no
 * value (a gap in the line), and one miss per bucket where any sample missed. At most 2 × buckets points.
 */
export function downsample(samples: Iterable<ProbeSample>, field: string, range: [number, number], buckets: number): Pick<ChartData, 'x' | 'y' | 'misses' | 'bucketSeconds'> {
  const [start, end] = range;
  const width = (end - start) / buckets;
  const x: number[] = [];
  const y: (number | null)[] = [];
  const misses: number[] = [];
  let current = -1;
  let lo: [number, number] | undefined;
  let hi: [number, number] | undefined;
  let missed = false;
  let firstAt = 0;
  const flush = () => {
    if (current < 0) return;
    if (!lo || !hi) {
      x.push(firstAt);
      y.push(null);
    } else if (lo[0] === hi[0]) {
      x.push(lo[0]);
      y.push(lo[1]);
    } else {
      const [a, b] = lo[0] < hi[0] ? [lo, hi] : [hi, lo];
      x.push(a[0], b[0]);
      y.push(a[1], b[1]);
    }
    if (missed) misses.push(firstAt);
  };
  for (const s of samples) {
    const t = seconds(s.at);
    const bucket = Math.min(buckets - 1, Math.max(0, Math.floor((t - start) / width)));
    if (bucket !== current) {
      flush();
      current = bucket;
      lo = hi = undefined;
      missed = false;
      firstAt = t;
    }
    const v = valueOf(s, field);
    if (v !== null) {
      if (!lo || v < lo[1]) lo = [t, v];
      if (!hi || v > hi[1]) hi = [t, v];
    }
    if (!s.ok) missed = true;
  }
  flush();
  return { x, y, misses, bucketSeconds: width };
}

/** The key of a probe's sample count in `buildTimeline`'s counts: its chart group and its name. */
export function seriesKey(group: ChartData['group'], check: string): string {
  return `${group === 'steady state' ? 'steady' : group}\u0000${check}`;
}
