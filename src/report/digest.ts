/**
 * What the Markdown report needs of a run's samples, kept in one pass over them and of a size
 * fixed by the number of checks, not by how long the run sampled: per-probe counts, errors and
 * latency range, the aggregates the hypothesis rows are judged from, the first and the last
 * samples the report lists, guardrail counts, and the first and last verification of each check.
 */
import { addSample, duringRowsFrom, steadyStateRows, type Aggregates } from '../judge';
import type { ExperimentPlan, HypothesisRow, Journal, ProbeSample } from '../types';

/** Samples the report lists from the start and from the end of a long observation. */
export const SAMPLES_SHOWN = 200;
/** Distinct errors the report names per probe. */
const ERRORS_SHOWN = 3;

/** One observe probe's figures, as the report's "during the fault" table shows them. */
export interface ProbeDigest {
  samples: number;
  errors: number;
  latencyMin?: number;
  latencyMax?: number;
  /** The first distinct errors, in the order they were seen. */
  errorsSeen: string[];
}

/** A run's samples in brief (see the module). */
export interface SampleDigest {
  /** The baseline: one round, one sample per steady-state check, kept whole. */
  baseline: ProbeSample[];
  observations: {
    count: number;
    /** By probe, in the order each was first seen. */
    byCheck: Map<string, ProbeDigest>;
    aggregates: Aggregates;
    /** The first SAMPLES_SHOWN samples, and up to SAMPLES_SHOWN of the last ones after them. */
    head: ProbeSample[];
    tail: ProbeSample[];
  };
  guardrails: Map<string, number>;
  verification: { count: number; first: Map<string, ProbeSample>; last: Map<string, ProbeSample> };
}

/** Builds a SampleDigest one sample at a time. */
export class DigestBuilder {
  readonly digest: SampleDigest = {
    baseline: [],
    observations: { count: 0, byCheck: new Map(), aggregates: {}, head: [], tail: [] },
    guardrails: new Map(),
    verification: { count: 0, first: new Map(), last: new Map() },
  };
  private tailStart = 0;

  baseline(s: ProbeSample): void {
    this.digest.baseline.push(s);
  }

  observation(s: ProbeSample): void {
    const o = this.digest.observations;
    o.count++;
    addSample(o.aggregates, s);
    let p = o.byCheck.get(s.check);
    if (!p) o.byCheck.set(s.check, (p = { samples: 0, errors: 0, errorsSeen: [] }));
    p.samples++;
    if (s.error) {
      p.errors++;
      if (p.errorsSeen.length < ERRORS_SHOWN && !p.errorsSeen.includes(s.error)) p.errorsSeen.push(s.error);
    }
    const latency = Number(s.measurement.latencyMs);
    if (Number.isFinite(latency)) {
      p.latencyMin = p.latencyMin === undefined ? latency : Math.min(p.latencyMin, latency);
      p.latencyMax = p.latencyMax === undefined ? latency : Math.max(p.latencyMax, latency);
    }
    if (o.head.length < SAMPLES_SHOWN) o.head.push(s);
    else if (o.tail.length < SAMPLES_SHOWN) o.tail.push(s);
    else {
      // A ring: the oldest of the last ones is overwritten.
      o.tail[this.tailStart] = s;
      this.tailStart = (this.tailStart + 1) % SAMPLES_SHOWN;
    }
  }

  guardrail(s: ProbeSample): void {
    this.digest.guardrails.set(s.check, (this.digest.guardrails.get(s.check) ?? 0) + 1);
  }

  verification(s: ProbeSample): void {
    const v = this.digest.verification;
    v.count++;
    if (!v.first.has(s.check)) v.first.set(s.check, s);
    v.last.set(s.check, s);
  }

  /** The digest, its tail in order. */
  done(): SampleDigest {
    const o = this.digest.observations;
    o.tail = [...o.tail.slice(this.tailStart), ...o.tail.slice(0, this.tailStart)];
    this.tailStart = 0;
    return this.digest;
  }
}

/** The digest of a journal held in memory whole. */
export function digestOf(j: Pick<Journal, 'baseline' | 'observations' | 'guardrails' | 'verification'>): SampleDigest {
  const b = new DigestBuilder();
  for (const s of j.baseline) b.baseline(s);
  for (const s of j.observations) b.observation(s);
  for (const s of j.guardrails) b.guardrail(s);
  for (const s of j.verification) b.verification(s);
  return b.done();
}

/**
 * The hypothesis-vs-reality rows the report shows, judged from a digest of every sample: the
 * baseline, during the fault (from the aggregates of every observation) and, once verified, after
 * recovery (each check's last verification). The worker's streamed report and a journal read
 * whole both take their rows from here.
 */
export function hypothesisRowsFrom(plan: ExperimentPlan, d: SampleDigest): HypothesisRow[] {
  return [
    ...steadyStateRows(plan, d.baseline, 'baseline'),
    ...duringRowsFrom(plan, d.observations.aggregates),
    ...(d.verification.count ? steadyStateRows(plan, [...d.verification.last.values()], 'after recovery') : []),
  ];
}
