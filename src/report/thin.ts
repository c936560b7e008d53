/**
 * The samples a run's charts need, kept in one pass over a run of any length: a probe with at most
 * `maxPoints` samples keeps them all; past that, per time bucket of the timeline (timeline.ts
 * `downsample`, same buckets), its first sample, one that missed, and the lowest and highest of
 * each numeric field. `buildTimeline` draws the same charts from these as from every sample.
 */
import type { ProbeSample } from '../types';
import { MAX_POINTS, seriesKey } from './timeline';

type Phase = 'baseline' | 'observe' | 'guardrail' | 'verify';

interface Bucket {
  first: ProbeSample;
  missed?: ProbeSample;
  lo: Map<string, [number, ProbeSample]>;
  hi: Map<string, [number, ProbeSample]>;
}

interface Series {
  count: number;
  all?: ProbeSample[];
  buckets?: Map<number, Bucket>;
}

/** A field's value as the charts read it (timeline.ts valueOf): `ok` is 1 or 0 when not measured. */
function fieldValues(s: ProbeSample): [string, number][] {
  const values = Object.entries(s.measurement).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]));
  if (!('ok' in s.measurement)) values.push(['ok', s.ok ? 1 : 0]);
  return values;
}

/** Keeps what the charts of one run need (see the module). */
export class ChartThinner {
  private readonly series = new Map<string, Series>();
  private readonly start: number;
  private readonly width: number;
  private readonly buckets: number;

  /** `range` in epoch seconds, as buildTimeline computes it from the run's start and end. */
  constructor(range: [number, number], private readonly maxPoints = MAX_POINTS) {
    this.buckets = Math.max(1, Math.floor(maxPoints / 2));
    this.start = range[0];
    this.width = (range[1] - range[0]) / this.buckets;
  }

  add(phase: Phase, s: ProbeSample): void {
    const key = seriesKey(phase === 'verify' || phase === 'baseline' ? 'steady state' : phase, s.check);
    let series = this.series.get(key);
    if (!series) this.series.set(key, (series = { count: 0, all: [] }));
    series.count++;
    if (series.all) {
      series.all.push({ ...s, phase } as ProbeSample);
      if (series.all.length <= this.maxPoints) return;
      const kept = series.all;
      series.all = undefined;
      series.buckets = new Map();
      for (const k of kept) this.bucket(series.buckets, k);
      return;
    }
    this.bucket(series.buckets!, { ...s, phase } as ProbeSample);
  }

  /** The kept samples of each phase, in time order, and each chart group's true sample count. */
  done(): { samples: Record<Phase, ProbeSample[]>; counts: Map<string, number> } {
    const samples: Record<Phase, ProbeSample[]> = { baseline: [], observe: [], guardrail: [], verify: [] };
    const counts = new Map<string, number>();
    for (const [key, series] of this.series) {
      counts.set(key, series.count);
      const kept = series.all ?? [...new Set([...series.buckets!.values()].flatMap((b) => [b.first, ...(b.missed ? [b.missed] : []), ...[...b.lo.values(), ...b.hi.values()].map(([, x]) => x)]))];
      for (const s of kept) {
        const { phase, ...sample } = s as ProbeSample & { phase: Phase };
        samples[phase].push(sample);
      }
    }
    for (const list of Object.values(samples)) list.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    return { samples, counts };
  }

  private bucket(buckets: Map<number, Bucket>, s: ProbeSample): void {
    const t = Date.parse(s.at) / 1000;
    const index = Math.min(this.buckets - 1, Math.max(0, Math.floor((t - this.start) / this.width)));
    let b = buckets.get(index);
    if (!b) buckets.set(index, (b = { first: s, lo: new Map(), hi: new Map() }));
    if (!s.ok) b.missed ??= s;
    for (const [field, v] of fieldValues(s)) {
      const lo = b.lo.get(field);
      if (!lo || v < lo[0]) b.lo.set(field, [v, s]);
      const hi = b.hi.get(field);
      if (!hi || v > hi[0]) b.hi.set(field, [v, s]);
    }
  }
}
