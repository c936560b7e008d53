import {
  ApplicationFailure,
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { describeFault } from '../src/faults/describe';
import { allHeld, duringRows, steadyStateRows } from '../src/judge';
import { searchAttributes } from '../src/search-attributes';
import type {
  ExperimentInput,
  ExperimentPlan,
  ExperimentResult,
  ExperimentStatus,
  Journal,
  PlannedFault,
  ProbeSample,
  ResolvedTarget,
  Stage,
  Verdict,
} from '../src/types';

type Activities = ReturnType<typeof createActivities>;

/** Halt the experiment: skip to rollback at once. The argument is the reason, for the report. */
export const abortSignal = defineSignal<[string]>('abort');
/** Stage, active faults and the last value of every probe. */
export const statusQuery = defineQuery<ExperimentStatus>('status');

const PERMANENT = ['InvalidExperiment', 'ExperimentNotFound', 'TargetNotFound', 'InjectFailed'];

const { planExperiment, resolveTargets, writeReport } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: PERMANENT },
});
const { runChecks } = proxyActivities<Activities>({
  // A round of probes runs them in parallel, each bounded by its own timeout.
  startToCloseTimeout: '2m',
  retry: { maximumAttempts: 2 },
});
const { injectFault } = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: PERMANENT },
});
// Reverts are idempotent and must succeed eventually: retried without limit, backing off to 10 s.
const { revertFault } = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s' },
});

/**
 * One chaos experiment: baseline → inject → observe → rollback → verify → report.
 *
 * Every fault whose injection was attempted is reverted, newest first, in a non-cancellable
 * `finally`: an abort, a cancellation, a failed activity or a crashed worker all end in rollback.
 */
export async function experiment(input: ExperimentInput): Promise<ExperimentResult> {
  const info = workflowInfo();
  const startedAt = new Date().toISOString();
  let stage: Stage = 'resolve';
  let verdict: Verdict | undefined;
  let reason = '';
  let abort: { reason: string; at: string } | undefined;
  let plan: ExperimentPlan | undefined;
  let targets: ResolvedTarget[] = [];
  const faults: PlannedFault[] = [];
  const baseline: ProbeSample[] = [];
  const observations: ProbeSample[] = [];
  let verification: ProbeSample[] = [];
  const events: Journal['events'] = [];
  const lastProbes: ExperimentStatus['lastProbes'] = {};

  const note = (message: string): void => {
    events.push({ at: new Date().toISOString(), stage, message });
    log.info(message, { stage });
  };
  const enter = (next: Stage): void => {
    stage = next;
    note(`stage ${next}`);
    upsertSearchAttributes([{ key: searchAttributes.stage, value: next }]);
  };
  const record = (samples: ProbeSample[], into: ProbeSample[]): void => {
    for (const s of samples) {
      into.push(s);
      // Progress for people watching: a probe that starts or stops meeting its expectations.
      const before = lastProbes[s.check];
      if (before ? before.ok !== s.ok : !s.ok) {
        note(`probe '${s.check}' ${s.ok ? 'meets its expectations again' : `misses: ${s.error || s.expectations.filter((e) => !e.ok).map((e) => `${e.field} ${e.observed}`).join(', ')}`}`);
      }
      lastProbes[s.check] = { at: s.at, ok: s.ok, measurement: s.measurement, error: s.error };
    }
  };
  const active = (): PlannedFault[] => faults.filter((f) => f.status !== 'reverted');
  const publishActiveFaults = (): void => {
    upsertSearchAttributes([{ key: searchAttributes.activeFaults, value: active().map((f) => f.description) }]);
  };

  setHandler(abortSignal, (why) => {
    if (abort) return;
    abort = { reason: why || 'no reason given', at: new Date().toISOString() };
    note(`abort requested: ${abort.reason}`);
  });
  setHandler(statusQuery, () => ({
    experimentId: plan?.spec.id ?? '',
    stage,
    activeFaults: active().map((f) => ({ id: f.id, description: f.description, dueAt: f.dueAt })),
    lastProbes,
    verdict,
    events: events.slice(-20),
    eventCount: events.length,
  }));

  const revert = async (f: PlannedFault): Promise<void> => {
    const done = await revertFault(f);
    f.status = 'reverted';
    f.revertedAt = new Date().toISOString();
    publishActiveFaults();
    note(`reverted ${f.id} (${f.description}): ${done.join('; ')}`);
  };

  /** Samples the observe probes and reverts each fault when its duration is up, until none is left. */
  const observe = async (p: ExperimentPlan): Promise<void> => {
    const checks = p.spec.observe?.probes ?? [];
    while (!abort && active().length > 0) {
      const roundStart = Date.now();
      if (checks.length > 0) {
        // A round of probes must not delay an abort: race it and cancel the round.
        const round = new CancellationScope();
        const samples = round.run(() => runChecks({ checks, stage: 'observe' }));
        await Promise.race([samples, condition(() => abort !== undefined)]);
        if (abort) {
          round.cancel();
          samples.catch(() => undefined);
          break;
        }
        record(await samples, observations);
      }
      const now = Date.now();
      const nextDue = Math.min(...active().map((f) => Date.parse(f.dueAt ?? '') || now));
      const wake = checks.length > 0 ? Math.min(nextDue, roundStart + p.timing.observeIntervalMs) : nextDue;
      if (wake > now) await condition(() => abort !== undefined, wake - now);
      if (abort) break;
      for (const f of active().reverse()) {
        if (Date.parse(f.dueAt ?? '') <= Date.now()) await revert(f);
      }
    }
  };

  const run = async (): Promise<void> => {
    plan = await planExperiment(input);
    const spec = plan.spec;
    upsertSearchAttributes([{ key: searchAttributes.experimentId, value: spec.id }]);
    targets = await resolveTargets(plan);
    upsertSearchAttributes([{ key: searchAttributes.targets, value: targets.flatMap((t) => t.containers.map((c) => c.name)) }]);
    note(`resolved ${targets.map((t) => `${t.name} → ${t.containers.map((c) => c.name).join(', ')}`).join('; ')}`);

    enter('baseline');
    record(await runChecks({ checks: spec.steadyState, stage: 'baseline' }), baseline);
    if (!allHeld(baseline)) {
      verdict = 'not-run';
      reason = `steady state did not hold before the experiment: ${baseline.filter((s) => !s.ok).map((s) => s.check).join(', ')}; nothing injected`;
      note(reason);
      return;
    }
    if (abort) return;

    enter('inject');
    for (const [step, method] of spec.method.entries()) {
      if (abort) return;
      const target = targets.find((t) => t.name === method.fault.target);
      if (!target) throw ApplicationFailure.nonRetryable(`no resolved target '${method.fault.target}'`, 'TargetNotFound');
      const planned: PlannedFault = {
        id: `f${faults.length + 1}`,
        step,
        fault: method.fault,
        target,
        status: 'planned',
        description: describeFault(method.fault, target),
      };
      // Recorded before the activity is scheduled: a worker that dies mid-injection leaves a
      // fault that rollback still reverts.
      faults.push(planned);
      publishActiveFaults();
      note(`injecting ${planned.id}: ${planned.description}`);
      try {
        await injectFault(planned);
      } catch (err) {
        planned.status = 'inject-failed';
        planned.error = failureMessage(err);
        throw err;
      }
      planned.status = 'injected';
      planned.injectedAt = new Date().toISOString();
      planned.dueAt = new Date(Date.now() + plan.timing.faultMs[step]).toISOString();
      note(`injected ${planned.id}; revert due at ${planned.dueAt}`);
    }

    enter('observe');
    await observe(plan);
  };

  try {
    await run();
  } catch (err) {
    if (isCancellation(err)) {
      abort ??= { reason: 'the workflow was cancelled', at: new Date().toISOString() };
    } else {
      verdict = 'error';
      reason = failureMessage(err);
      note(`error: ${reason}`);
    }
  } finally {
    await CancellationScope.nonCancellable(async () => {
      const toRevert = active().reverse();
      if (toRevert.length > 0) {
        enter('rollback');
        for (const f of toRevert) await revert(f);
      }
    });
  }

  return await CancellationScope.nonCancellable(async () => {
    if (abort) {
      verdict = 'aborted';
      reason = `aborted: ${abort.reason}`;
    }
    if (!verdict && plan) {
      enter('verify');
      verification = await verify(plan);
      const during = duringRows(plan, observations);
      const recovered = allHeld(verification);
      verdict = recovered && during.every((r) => r.ok) ? 'passed' : 'failed';
      reason = verdict === 'passed' ? 'the hypothesis held' : failedReason(recovered, during.filter((r) => !r.ok).map((r) => r.expectation));
    }
    verdict ??= 'error';
    enter('report');
    const journal: Journal = {
      workflowId: info.workflowId,
      runId: info.runId,
      experimentId: plan?.spec.id ?? experimentIdOf(input),
      title: plan?.spec.title ?? '',
      hypothesis: plan?.spec.hypothesis ?? '',
      source: plan?.source ?? '',
      startedAt,
      finishedAt: new Date().toISOString(),
      verdict,
      reason,
      plan,
      targets,
      baseline,
      observations,
      verification,
      hypothesisVsReality: plan
        ? [...steadyStateRows(plan, baseline, 'baseline'), ...duringRows(plan, observations), ...(verification.length ? steadyStateRows(plan, verification, 'after recovery') : [])]
        : [],
      rollback: { status: faults.length === 0 ? 'nothing-injected' : active().length === 0 ? 'complete' : 'incomplete', faults },
      abort,
      events,
    };
    const { reportDir } = await writeReport(journal);
    upsertSearchAttributes([{ key: searchAttributes.verdict, value: verdict }]);
    enter('done');
    return { workflowId: info.workflowId, experimentId: journal.experimentId, verdict, reason, rollback: journal.rollback.status, reportDir };
  });

  /** The steady-state probes, round after round, until they all hold or the recovery window ends. */
  async function verify(p: ExperimentPlan): Promise<ProbeSample[]> {
    const deadline = Date.now() + p.timing.recoveryWithinMs;
    for (;;) {
      const round = await runChecks({ checks: p.spec.steadyState, stage: 'verify' });
      record(round, []);
      if (allHeld(round) || Date.now() + p.timing.recoveryIntervalMs > deadline) {
        note(allHeld(round) ? 'steady state restored' : 'steady state not restored within the recovery window');
        return round;
      }
      await sleep(p.timing.recoveryIntervalMs);
    }
  }
}

function failedReason(recovered: boolean, missed: string[]): string {
  const parts: string[] = [];
  if (missed.length > 0) parts.push(`during the fault, not as expected: ${missed.join(', ')}`);
  if (!recovered) parts.push('the steady state did not return within the recovery window');
  return `the hypothesis was disproved: ${parts.join('; ')}`;
}

function failureMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  // ActivityFailure wraps the activity's own ApplicationFailure: the cause says what went wrong.
  while (e?.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}

function experimentIdOf(input: ExperimentInput): string {
  if ('experiment' in input) return input.experiment;
  const id = (input.spec as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : 'unknown';
}
