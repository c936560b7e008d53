import type { RunKey } from './store/types';
import type { ExperimentPlan, ProbeWindow, RunTriggerName } from './types';

/** What the run's row in the results store says from the start; the baseline round writes it. */
export function startRecordOf(plan: ExperimentPlan, startedAt: string, trigger: RunTriggerName) {
  return { experimentId: plan.spec.id, title: plan.spec.title, hypothesis: plan.spec.hypothesis, source: plan.source, startedAt, trigger, spec: plan.spec };
}

/**
 * What planAndResolve needs to take the baseline round as well, in the same local activity: the
 * run, the baseline window (its start is the workflow's clock as it asks) and what the run's row
 * says from the start. The round is taken only when it is quick (`maxRoundMs`) and the lock is
 * refused rather than waited for (a wait would make the baseline stale).
 */
export interface BaselineHere {
  run: RunKey;
  window: ProbeWindow;
  startedAt: string;
  trigger: RunTriggerName;
  maxRoundMs: number;
}
