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

/** Rows for the observe checks that carry expectations: all samples (or any) must meet them. */
export function duringRows(plan: ExperimentPlan, samples: ProbeSample[]): HypothesisRow[] {
  return (plan.spec.observe?.probes ?? [])
    .filter((check) => check.expect && Object.keys(check.expect).length > 0)
    .map((check) => {
      const mine = samples.filter((s) => s.check === check.name);
      const mode = check.samples ?? 'all';
      const passing = mine.filter((s) => s.ok).length;
      const ok = mine.length > 0 && (mode === 'all' ? passing === mine.length : passing > 0);
      const firstFailure = mine.find((s) => !s.ok);
      const observed =
        mine.length === 0
          ? 'no sample taken'
          : `${passing} of ${mine.length} samples met it` + (firstFailure ? `; first miss at ${firstFailure.at}: ${summarise(firstFailure)}` : '');
      return {
        expectation: check.name,
        when: 'during the fault' as const,
        expected: `${mode === 'all' ? 'every sample' : 'at least one sample'}: ${expectedText(mine[0], 'no error')}`,
        observed,
        ok,
      };
    });
}

/** True when every steady-state check of this round held. */
export function allHeld(samples: ProbeSample[]): boolean {
  return samples.length > 0 && samples.every((s) => s.ok);
}
