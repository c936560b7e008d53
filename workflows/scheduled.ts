import { ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { SCHEDULED_BY, TRIGGER_MEMO } from '../src/search-attributes';
import type { FreezeHit, RunTrigger, RunTriggerName, Verdict } from '../src/types';

/**
 * What a run started by a Temporal Schedule does beyond a run by hand. Both steps happen only
 * when the input says `trigger: 'schedule'`: inputs recorded before schedules existed lack it, so
 * their histories replay unchanged.
 */

const { checkFreeze } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['InvalidFreezeWindows'] },
});

/** The freeze window a scheduled run falls in (read in an activity: it is file I/O), or undefined. */
export async function freezeFor(input: RunTrigger): Promise<FreezeHit | undefined> {
  if (input.trigger !== 'schedule') return undefined;
  return (await checkFreeze()) ?? undefined;
}

/** The reason a run skipped for a freeze window gives. */
export function frozenReason(freeze: FreezeHit): string {
  return `inside a freeze window (${freeze.window}): ${freeze.reason}; nothing resolved or injected`;
}

/** Verdicts that fail a scheduled run's execution, so that the schedule's pauseOnFailure pauses it. */
export const FAILING_VERDICTS: readonly Verdict[] = ['failed', 'error', 'aborted'];

/**
 * Returns the result, or, for a scheduled run whose verdict is in FAILING_VERDICTS, throws a
 * non-retryable `ScheduledRunFailed` carrying it as its details: Temporal only pauses a schedule
 * (pauseOnFailure) for a failed execution, and a run that returns a bad verdict does not fail.
 */
export function resultForTrigger<R extends { verdict: Verdict; reason: string }>(input: RunTrigger, result: R): R {
  if (input.trigger !== 'schedule' || !FAILING_VERDICTS.includes(result.verdict)) return result;
  throw ApplicationFailure.create({ type: 'ScheduledRunFailed', nonRetryable: true, message: `verdict ${result.verdict}: ${result.reason}`, details: [result] });
}

/**
 * Who started this run (see RunTriggerName): a schedule when the input or the search attribute a
 * schedule sets says so, else what the memo of the CLI (or of a parent scenario) says, else the
 * Web UI. Read from the workflow's start, so it is the same on every replay.
 */
export function triggerOf(input: RunTrigger): RunTriggerName {
  const info = workflowInfo();
  if (input.trigger === 'schedule' || info.typedSearchAttributes.get(SCHEDULED_BY) !== undefined) return 'schedule';
  const memo = info.memo?.[TRIGGER_MEMO];
  return memo === 'cli' || memo === 'schedule' ? memo : 'web-ui';
}
