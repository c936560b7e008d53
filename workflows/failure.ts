import type { ExperimentInput } from '../src/types';

/** The activity failures that retrying cannot mend: bad input, targets missing or refused. */
export const PERMANENT = ['InvalidExperiment', 'ExperimentNotFound', 'TargetNotFound', 'TargetNotAllowed', 'BlastRadiusExceeded'];

/** The message of a failure, from its innermost cause: ActivityFailure wraps the activity's own error. */
export function failureMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e?.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}

/** Why a run's hypothesis was disproved, in one line. */
export function failedReason(recovered: boolean, missed: string[]): string {
  const parts: string[] = [];
  if (missed.length > 0) parts.push(`during the fault, not as expected: ${missed.join(', ')}`);
  if (!recovered) parts.push('the steady state did not return within the recovery window');
  return `the hypothesis was disproved: ${parts.join('; ')}`;
}

/** The experiment id an input names, before it is planned (for runs that fail before that). */
export function experimentIdOf(input: ExperimentInput): string {
  if ('experiment' in input) return input.experiment;
  const id = (input.spec as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : 'unknown';
}
