import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { planFault, targetRefs } from '../src/faults/describe';
import { allHeld, duringRows, steadyStateRows } from '../src/judge';
import { FAULTS_MEMO, searchAttributes } from '../src/search-attributes';
import type {
  ExperimentInput,
  ExperimentPlan,
  ExperimentResult,
  ExperimentStatus,
  FreezeHit,
  GuardrailBreach,
  Journal,
  PlannedFault,
  ProbeSample,
  ProbeWindow,
  ResolvedTarget,
  Stage,
  Verdict,
} from '../src/types';
import { experimentIdOf, failedReason, failureMessage } from './failure';
import { acquireLocks, releaseLocks } from './lock';
import { freezeFor, frozenReason, resultForTrigger } from './scheduled';

import { abortSignal, statusQuery } from './definitions';

const PERMANENT = ['InvalidExperiment', 'ExperimentNotFound', 'TargetNotFound', 'TargetNotAllowed', 'BlastRadiusExceeded'];

const { planExperiment, resolveTargets, writeReport } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: PERMANENT },
});
// Activities that touch the system heartbeat every 500 ms: a worker that dies mid-activity is
// noticed after the heartbeat timeout, and the activity retried on another worker.
const { runChecks, probeGuardrail } = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  heartbeatTimeout: '3s',
  retry: { maximumAttempts: 3, initialInterval: '200ms' },
});
const INJECT_OPTIONS = {
  startToCloseTimeout: '1m',
  heartbeatTimeout: '3s',
  retry: { maximumAttempts: 3, initialInterval: '200ms', nonRetryableErrorTypes: PERMANENT },
} as const;
// A round of revert attempts; the workflow repeats rounds, with capped backoff, until one succeeds.
const REVERT_OPTIONS = {
  startToCloseTimeout: '1m',
  heartbeatTimeout: '3s',
  retry: { maximumAttempts: 3, initialInterval: '200ms', backoffCoefficient: 2 },
} as const;
// Each inject and revert carries its fault in words as its summary, shown in the Web UI.
const injectFault = (f: PlannedFault): Promise<string[] | undefined> => proxyActivities<Activities>({ ...INJECT_OPTIONS, summary: f.description }).injectFault(f);
const revertFault = (f: PlannedFault): Promise<string[]> => proxyActivities<Activities>({ ...REVERT_OPTIONS, summary: `revert: ${f.description}` }).revertFault(f);
const { publishEvent } = proxyActivities<Activities>({ startToCloseTimeout: '10s', retry: { maximumAttempts: 2 } });

/** Backoff between failed rounds of reverts: 1 s, 2 s, 4 s … capped at 30 s. */
const REVERT_BACKOFF_CAP_MS = 30_000;

/**
 * The experiment as it ran before bounded histories: observe and guardrail rounds one activity
 * each, reverts retried in rounds by the workflow, the whole journal sent to the report. Kept
 * unchanged so that runs started before it replay (`experiment` chooses it for them with
 * `patched()`); new runs never take this path. Its history grows about 7 events a round.
 */
export async function experimentV1(input: ExperimentInput): Promise<ExperimentResult> {
  const info = workflowInfo();
  const startedAt = new Date().toISOString();
  let stage: Stage = 'resolve';
  let verdict: Verdict | undefined;
  let reason = '';
  let abort: { reason: string; at: string } | undefined;
  let breach: GuardrailBreach | undefined;
  let freeze: FreezeHit | undefined;
  let rollbackFailing: ExperimentStatus['rollbackFailing'];
  let plan: ExperimentPlan | undefined;
  let targets: ResolvedTarget[] = [];
  let observing = false;
  const faults: PlannedFault[] = [];
  const baseline: ProbeSample[] = [];
  const observations: ProbeSample[] = [];
  const guardrailSamples: ProbeSample[] = [];
  let verification: ProbeSample[] = [];
  const events: Journal['events'] = [];
  const lastProbes: ExperimentStatus['lastProbes'] = {};
  /** When the baseline and the first fault began: probes that count "since the fault" read it. */
  const probeWindow: ProbeWindow = { baselineStartedAt: startedAt };

  const note = (message: string): void => {
    events.push({ at: new Date().toISOString(), stage, message });
    log.info(message, { stage });
  };
  /** The run's current details in the Web UI: the stage and the faults in place. */
  const showDetails = (): void => {
    const faultsNow = active().map((f) => `- ${f.description}${f.dueAt ? ` (until ${f.dueAt})` : ''}`);
    setCurrentDetails([`**Stage:** ${stage}`, faultsNow.length ? `**Faults in place:**\n${faultsNow.join('\n')}` : '**Faults in place:** none', rollbackFailing ? `**ROLLBACK FAILING:** ${rollbackFailing.description}: ${rollbackFailing.error}` : ''].filter(Boolean).join('\n\n'));
  };
  const enter = (next: Stage): void => {
    stage = next;
    note(`stage ${next}`);
    upsertSearchAttributes([{ key: searchAttributes.stage, value: next }]);
    showDetails();
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
  /** Kept current before each inject and after each revert: the janitor's record of what is in place. */
  const publishFaults = (): void => {
    upsertSearchAttributes([{ key: searchAttributes.activeFaults, value: active().map((f) => f.description) }]);
    upsertMemo({ [FAULTS_MEMO]: faults });
    showDetails();
  };
  const halted = (): boolean => abort !== undefined;

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
    rollbackFailing,
    events: events.slice(-20),
    eventCount: events.length,
  }));

  /** Reverts one fault, repeating rounds of attempts until one succeeds; says so loudly meanwhile. */
  const revert = async (f: PlannedFault): Promise<void> => {
    for (let round = 1; ; round++) {
      try {
        const done = await revertFault(f);
        f.status = 'reverted';
        f.revertedAt = new Date().toISOString();
        publishFaults();
        note(`reverted ${f.id} (${f.description}): ${done.join('; ')}`);
        if (rollbackFailing) {
          rollbackFailing = undefined;
          upsertSearchAttributes([{ key: searchAttributes.rollbackFailing, value: false }]);
        }
        return;
      } catch (err) {
        f.revertAttempts = round;
        f.lastRevertError = failureMessage(err);
        rollbackFailing = { faultId: f.id, description: f.description, attempts: round, error: f.lastRevertError, since: rollbackFailing?.since ?? new Date().toISOString() };
        upsertSearchAttributes([{ key: searchAttributes.rollbackFailing, value: true }]);
        note(`ROLLBACK FAILING: revert of ${f.id} (${f.description}) failed ${round} time(s): ${f.lastRevertError}; retrying`);
        await publishEvent({ kind: 'rollback-failing', payload: { workflowId: info.workflowId, ...rollbackFailing } }).catch(() => false);
        await sleep(Math.min(REVERT_BACKOFF_CAP_MS, 1000 * 2 ** (round - 1)));
      }
    }
  };

  /** Probes one guardrail at its own interval while observing; a breach aborts at once. */
  const guard = async (p: ExperimentPlan, index: number): Promise<void> => {
    const g = p.spec.guardrails![index];
    while (observing && !halted()) {
      const sample = await probeGuardrail(g, { ...probeWindow });
      guardrailSamples.push(sample);
      lastProbes[`guardrail ${g.name}`] = { at: sample.at, ok: !sample.expectations.some((e) => e.ok), measurement: sample.measurement, error: sample.error };
      const met = sample.expectations.find((e) => e.ok);
      if (met && observing && !halted()) {
        breach = { guardrail: g.name, at: sample.at, condition: `${met.field} ${met.expected}`, observed: `${met.field} ${met.observed}` };
        abort = { reason: `guardrail '${g.name}' breached at ${sample.at}: ${met.field} ${met.observed} (abort when ${met.expected})`, at: sample.at };
        note(abort.reason);
        return;
      }
      await condition(() => !observing || halted(), p.timing.guardrailIntervalMs[index]);
    }
  };

  /** Samples the observe probes and reverts each fault when its duration is up, until none is left. */
  const observe = async (p: ExperimentPlan): Promise<void> => {
    const checks = p.spec.observe?.probes ?? [];
    const nextDue = (): number => Math.min(...active().map((f) => Date.parse(f.dueAt ?? '') || Date.now()));
    while (!halted() && active().length > 0) {
      const roundStart = Date.now();
      if (checks.length > 0) {
        // A round of probes must not delay an abort or a due revert: race them and cancel it.
        const round = new CancellationScope();
        const samples = round.run(() => runChecks({ checks, stage: 'observe', window: { ...probeWindow } }));
        const finished = await Promise.race([samples.then(() => true, () => true), condition(halted, Math.max(0, nextDue() - Date.now())).then(() => false)]);
        if (finished) record(await samples.catch(() => []), observations);
        else {
          round.cancel();
          samples.catch(() => undefined);
        }
      }
      if (halted()) break;
      const wake = checks.length > 0 ? Math.min(nextDue(), roundStart + p.timing.observeIntervalMs) : nextDue();
      if (wake > Date.now()) await condition(halted, wake - Date.now());
      if (halted()) break;
      for (const f of active().reverse()) {
        if (Date.parse(f.dueAt ?? '') <= Date.now()) await revert(f);
      }
    }
  };

  const inject = async (p: ExperimentPlan): Promise<void> => {
    for (const [step, method] of p.spec.method.entries()) {
      if (halted()) return;
      const target = targets.find((t) => t.name === method.fault.target);
      if (!target) throw ApplicationFailure.nonRetryable(`no resolved target '${method.fault.target}'`, 'TargetNotFound');
      const id = `f${faults.length + 1}`;
      const planned = planFault(workflowInfo().workflowId, id, step, method.fault, target, p.timing.faultMs[step]);
      // Recorded before the activity is scheduled: a worker that dies mid-injection leaves a
      // fault that rollback still reverts.
      faults.push(planned);
      probeWindow.faultStartedAt ??= new Date().toISOString();
      publishFaults();
      note(`injecting ${planned.id}: ${planned.description}`);
      let said: string[] | undefined;
      try {
        // Runs recorded before inject returned lines have no result: undefined.
        said = await injectFault(planned);
      } catch (err) {
        planned.status = 'inject-failed';
        planned.error = failureMessage(err);
        throw err;
      }
      planned.status = 'injected';
      planned.injectedAt = new Date().toISOString();
      planned.dueAt = new Date(Date.now() + p.timing.faultMs[step]).toISOString();
      publishFaults();
      note(`injected ${planned.id}${said?.length ? ` (${said.join('; ')})` : ''}; revert due at ${planned.dueAt}`);
    }
  };

  let locks: Awaited<ReturnType<typeof acquireLocks>>['held'] = [];
  const run = async (): Promise<void> => {
    plan = await planExperiment(input);
    const spec = plan.spec;
    upsertSearchAttributes([{ key: searchAttributes.experimentId, value: spec.id }]);
    freeze = await freezeFor(input);
    if (freeze) {
      verdict = 'skipped';
      reason = frozenReason(freeze);
      note(reason);
      return;
    }
    targets = await resolveTargets(plan);
    upsertSearchAttributes([{ key: searchAttributes.targets, value: targets.flatMap((t) => targetRefs(t).map((c) => c.name)) }]);
    note(`resolved ${targets.map((t) => `${t.name} → ${targetRefs(t).map((c) => c.name).join(', ')}`).join('; ')}`);

    const wait = spec.lock?.whenBusy === 'wait';
    const acquired = await acquireLocks(
      targets.flatMap((t) => targetRefs(t)),
      { holder: info.workflowId, waitMs: wait ? plan.timing.lockWaitMs : 0, onWait: (c) => note(`waiting for container ${c.name}: another experiment holds it`) },
    );
    if (acquired.busy) {
      verdict = 'not-run';
      reason = `container ${acquired.busy.name} is held by another experiment${wait ? ` for longer than ${plan.timing.lockWaitMs / 1000} s` : ''}; nothing injected`;
      note(reason);
      return;
    }
    locks = acquired.held;
    if (halted()) return;

    enter('baseline');
    probeWindow.baselineStartedAt = new Date().toISOString();
    record(await runChecks({ checks: spec.steadyState, stage: 'baseline', window: { ...probeWindow } }), baseline);
    if (!allHeld(baseline)) {
      verdict = 'not-run';
      reason = `steady state did not hold before the experiment: ${baseline.filter((s) => !s.ok).map((s) => s.check).join(', ')}; nothing injected`;
      note(reason);
      return;
    }
    if (halted()) return;

    enter('inject');
    await inject(plan);
    if (halted()) return;

    enter('observe');
    observing = true;
    const guards = (spec.guardrails ?? []).map((_, i) => guard(plan!, i));
    try {
      await observe(plan);
    } finally {
      observing = false;
      // Guardrail rounds in flight end on their own (each within its probe's timeout); rollback
      // does not wait for them.
      void Promise.allSettled(guards);
    }
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
      guardrails: guardrailSamples,
      breach,
      freeze,
      events,
    };
    const { reportDir } = await writeReport(journal);
    upsertSearchAttributes([{ key: searchAttributes.verdict, value: verdict }]);
    await publishEvent({ kind: 'experiment-finished', payload: { workflowId: info.workflowId, experimentId: journal.experimentId, verdict, reason, reportDir } }).catch(() => false);
    await releaseLocks(locks);
    enter('done');
    return resultForTrigger(input, { workflowId: info.workflowId, experimentId: journal.experimentId, verdict, reason, rollback: journal.rollback.status, reportDir });
  });

  /** The steady-state probes, round after round, until they all hold or the recovery window ends. */
  async function verify(p: ExperimentPlan): Promise<ProbeSample[]> {
    // Only when the file asks for it: runs without `recovery.after` schedule no timer here, as before.
    if (p.timing.recoveryAfterMs) {
      note(`waiting ${p.timing.recoveryAfterMs / 1000} s before verifying (recovery.after)`);
      await sleep(p.timing.recoveryAfterMs);
    }
    const deadline = Date.now() + p.timing.recoveryWithinMs;
    for (;;) {
      const round = await runChecks({ checks: p.spec.steadyState, stage: 'verify', window: { ...probeWindow } });
      record(round, []);
      if (allHeld(round) || Date.now() + p.timing.recoveryIntervalMs > deadline) {
        note(allHeld(round) ? 'steady state restored' : 'steady state not restored within the recovery window');
        return round;
      }
      await sleep(p.timing.recoveryIntervalMs);
    }
  }
}
