import {
  CancellationScope,
  condition,
  continueAsNew,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { searchAttributes, TRIGGER_MEMO } from '../src/search-attributes';
import type { ScenarioInput, ScenarioJournal, ScenarioStageRecord, Verdict } from '../src/types';
import { type experiment } from './experiment';
import { abortSignal } from './definitions';
import { freezeFor, frozenReason, resultForTrigger, triggerOf } from './scheduled';

import { abortScenarioSignal, scenarioStatusQuery } from './definitions';

export { abortScenarioSignal, scenarioStatusQuery };

const { planScenario, writeScenarioReport } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['InvalidExperiment', 'ExperimentNotFound'] },
});

const SEVERITY: Verdict[] = ['passed', 'skipped', 'not-run', 'failed', 'error', 'aborted'];

/**
 * A cascading failure: experiments run as child workflows, in series, in parallel or as a DAG,
 * a stage possibly starting while another's fault is still in place. Each stage rolls back its
 * own faults whatever happens; an abort of the scenario aborts its running stages newest first.
 * With `repeat`, each iteration continues as new, so a soak's history stays bounded.
 */
export async function scenario(input: ScenarioInput): Promise<ScenarioJournal['result']> {
  const info = workflowInfo();
  // Its stages are started by Temporal, not by whoever started the scenario: the memo tells them.
  const trigger = triggerOf(input);
  const iteration = input.iteration ?? 1;
  const startedAt = new Date().toISOString();
  const plan = await planScenario(input);
  upsertSearchAttributes([{ key: searchAttributes.experimentId, value: plan.spec.id }]);

  const stages: ScenarioStageRecord[] = plan.stages.map((s) => ({ name: s.name, status: 'pending' }));
  const children = new Map<string, ChildWorkflowHandle<typeof experiment>>();
  const started: string[] = [];
  let abort: { reason: string; at: string } | undefined;
  let changed = false;
  setHandler(abortScenarioSignal, (why) => {
    abort ??= { reason: why || 'no reason given', at: new Date().toISOString() };
    changed = true;
  });
  setHandler(scenarioStatusQuery, () => ({ iteration, stages }));
  // A scheduled scenario inside a freeze window starts no stage; only the first iteration checks.
  const freeze = iteration === 1 ? await freezeFor(input) : undefined;
  if (freeze) for (const r of stages) Object.assign(r, { status: 'skipped', skippedBecause: frozenReason(freeze) });

  const record = (name: string): ScenarioStageRecord => stages.find((s) => s.name === name)!;
  const broke = (r: ScenarioStageRecord): boolean => r.status === 'done' && r.result?.verdict !== 'passed';
  const stopOnFailure = (plan.spec.onStageFailure ?? 'stop') === 'stop';

  const start = async (name: string, index: number): Promise<void> => {
    const r = record(name);
    const workflowId = `${info.workflowId}-${iteration}-${name}`;
    // Children get a cancellation request when the scenario closes, terminated or not: their
    // rollback then runs. Started outside any cancellable scope so an abort controls them.
    const handle = await CancellationScope.nonCancellable(() =>
      startChild<typeof experiment>('experiment', { workflowId, args: [plan.stages[index].input], parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL, memo: { [TRIGGER_MEMO]: trigger } }),
    );
    children.set(name, handle);
    started.push(name);
    Object.assign(r, { status: 'running', workflowId, startedAt: new Date().toISOString() });
    void handle.result().then(
      (result) => Object.assign(r, { status: 'done', result, finishedAt: new Date().toISOString() }),
      (err: Error) => Object.assign(r, { status: 'done', finishedAt: new Date().toISOString(), result: { workflowId, experimentId: name, verdict: 'error', reason: err.message, rollback: 'incomplete', reportDir: '' } }),
    ).finally(() => (changed = true));
  };

  /** When a pending stage may start (ms since epoch), or undefined while it must still wait. */
  const readyAt = (index: number): number | undefined => {
    const s = plan.stages[index];
    const deps = s.deps.map(record);
    if (s.during) {
      const d = record(s.during);
      return d.startedAt ? Date.parse(d.startedAt) + (s.duringDelayMs ?? 0) : undefined;
    }
    return deps.every((d) => d.status === 'done' || d.status === 'skipped') ? Date.now() : undefined;
  };

  while (!freeze) {
    if (abort) break;
    const now = Date.now();
    let nextWake = Infinity;
    for (const [i, s] of plan.stages.entries()) {
      const r = record(s.name);
      if (r.status !== 'pending') continue;
      const blocker = stages.find((o) => (s.deps.includes(o.name) || o.name === s.during) && (o.status === 'skipped' || (stopOnFailure && broke(o))));
      const anyBroken = stopOnFailure ? stages.find(broke) : undefined;
      if (blocker || anyBroken) {
        const cause = blocker ?? anyBroken!;
        Object.assign(r, { status: 'skipped', skippedBecause: cause.status === 'skipped' ? `stage ${cause.name} was skipped` : `stage ${cause.name} ended ${cause.result?.verdict}: ${cause.result?.reason}` });
        changed = true;
        continue;
      }
      const at = readyAt(i);
      if (at !== undefined && at <= now) await start(s.name, i);
      else if (at !== undefined) nextWake = Math.min(nextWake, at);
    }
    if (stages.every((r) => r.status === 'done' || r.status === 'skipped')) break;
    changed = false;
    if (nextWake === Infinity) await condition(() => changed);
    else await condition(() => changed, Math.max(1, nextWake - Date.now()));
  }

  if (abort) {
    // Newest first: each running stage rolls back before the one started before it is asked to.
    for (const name of [...started].reverse()) {
      const r = record(name);
      if (r.status !== 'running') continue;
      await children.get(name)!.signal(abortSignal, `scenario aborted: ${abort.reason}`);
      await condition(() => r.status === 'done');
    }
    for (const r of stages) if (r.status === 'pending') Object.assign(r, { status: 'skipped', skippedBecause: `the scenario was aborted: ${abort.reason}` });
  }

  const verdicts = stages.map((r) => r.result?.verdict).filter((v): v is Verdict => v !== undefined);
  const verdict: Verdict = freeze ? 'skipped' : abort ? 'aborted' : verdicts.reduce<Verdict>((worst, v) => (SEVERITY.indexOf(v) > SEVERITY.indexOf(worst) ? v : worst), 'passed');
  const firstBroken = stages.find(broke);
  const reason = freeze
    ? frozenReason(freeze)
    : abort
    ? `aborted: ${abort.reason}`
    : firstBroken
      ? `stage ${firstBroken.name} ended ${firstBroken.result!.verdict}: ${firstBroken.result!.reason}`
      : 'every stage passed';
  const journal: ScenarioJournal = {
    workflowId: info.workflowId,
    runId: info.runId,
    scenarioId: plan.spec.id,
    title: plan.spec.title,
    hypothesis: plan.spec.hypothesis,
    source: plan.source,
    iteration,
    repeat: plan.spec.repeat ?? 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    stages,
    abort,
    previousIterations: input.previousIterations ?? [],
    result: { workflowId: info.workflowId, scenarioId: plan.spec.id, verdict, reason, iterations: iteration, reportDir: '' },
  };
  const { reportDir } = await writeScenarioReport(journal);
  journal.result.reportDir = reportDir;
  upsertSearchAttributes([{ key: searchAttributes.verdict, value: verdict }]);

  if (!abort && !freeze && iteration < (plan.spec.repeat ?? 1)) {
    // A soak: the next iteration starts with a fresh history, carrying a summary of this one.
    const previousIterations = [...(input.previousIterations ?? []), { iteration, verdict, reason, reportDir }].slice(-50);
    await continueAsNew<typeof scenario>({ ...input, iteration: iteration + 1, previousIterations });
  }
  return resultForTrigger(input, journal.result);
}
