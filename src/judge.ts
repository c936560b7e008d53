/**
 * Judging samples against the hypothesis. Pure code without I/O: the experiment workflow
 * imports it to reach its verdict, the report renders the same rows.
 */
import type { ExperimentPlan, HypothesisRow, ProbeSample } from './types';

function summarise(sample: ProbeSample | undefined): string {
  if (!sample) return 'not measured';
  if (sample.expectations.length === 0) return sample.error ? `error: ${sample.error}` : 'ok';
  return sample.expectations.map((e) => `${e.field} ${e.observed}`).join(', ');
}

function expectedText(sample: ProbeSample | undefined, fallback: string): string {
  return sample?.expectations.map((e) => `${e.field} ${e.expected}`).join(', ') || fallback;
}

/** The newest sample of each check, by check name. */
function latest(samples: ProbeSample[]): Map<string, ProbeSample> {
  const byCheck = new Map<string, ProbeSample>();
  for (const s of samples) byCheck.set(s.check, s);
  return byCheck;
}

/** Rows for the steady-state checks at one moment (baseline, or after recovery). */
export function steadyStateRows(plan: ExperimentPlan, samples: ProbeSample[], when: 'baseline' | 'after recovery'): HypothesisRow[] {
  const byCheck = latest(samples);
  return plan.spec.steadyState.map((check) => {
    const sample = byCheck.get(check.name);
    return { expectation: check.name, when, expected: expectedText(sample, 'steady state'), observed: summarise(sample), ok: sample?.ok ?? false };
  });
}

/**
 * What the verdict needs of one check's samples, kept while sampling instead of the samples
 * themselves: how many, how many met their expectations, the first, the first miss and the last.
 * Small and of fixed size however long a run samples, so it fits in a heartbeat and a result.
 */
export interface CheckAggregate {
  count: number;
  passing: number;
  first?: ProbeSample;
  firstFailure?: ProbeSample;
  last?: ProbeSample;
}

/** Aggregates by check name. */
export type Aggregates = Record<string, CheckAggregate>;

/** Adds one sample to the aggregates (mutates them). */
export function addSample(into: Aggregates, s: ProbeSample): void {
  const a = (into[s.check] ??= { count: 0, passing: 0 });
  a.count++;
  if (s.ok) a.passing++;
  a.first ??= s;
  if (!s.ok) a.firstFailure ??= s;
  a.last = s;
}

/** The aggregates of a list of samples. */
export function aggregateSamples(samples: ProbeSample[]): Aggregates {
  const into: Aggregates = {};
  for (const s of samples) addSample(into, s);
  return into;
}

/** Rows for the observe checks that carry expectations: all samples (or any) must meet them. */
export function duringRows(plan: ExperimentPlan, samples: ProbeSample[]): HypothesisRow[] {
  return duringRowsFrom(plan, aggregateSamples(samples));
}

/** The same rows as `duringRows`, from aggregates. */
export function duringRowsFrom(plan: ExperimentPlan, aggregates: Aggregates): HypothesisRow[] {
  return (plan.spec.observe?.probes ?? [])
    .filter((check) => check.expect && Object.keys(check.expect).length > 0)
    .map((check) => {
      const a = aggregates[check.name] ?? { count: 0, passing: 0 };
      const mode = check.samples ?? 'all';
      const ok = a.count > 0 && (mode === 'all' ? a.passing === a.count : a.passing > 0);
      const observed =
        a.count === 0
          ? 'no sample taken'
          : `${a.passing} of ${a.count} samples met it` + (a.firstFailure ? `; first miss at ${a.firstFailure.at}: ${summarise(a.firstFailure)}` : '');
      return {
        expectation: check.name,
        when: 'during the fault' as const,
        expected: `${mode === 'all' ? 'every sample' : 'at least one sample'}: ${expectedText(a.first, 'no error')}`,
        observed,
        ok,
      };
    });
}

/** True when every steady-state check of this round held. */
export function allHeld(samples: ProbeSample[]): boolean {
  return samples.length > 0 && samples.every((s) => s.ok);
}
