import { ApplicationFailure, CancellationScope, isCancellation, patched, proxyActivities, proxyLocalActivities, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities, FirstRound } from '../activities';
import { planFault, targetRefs } from '../src/faults/describe';
import { allHeld, duringRowsFrom, steadyStateRows } from '../src/judge';
import type { VerifySummary } from '../src/observe/sampling';
import { startRecordOf } from '../src/run-start';
import { searchAttributes } from '../src/search-attributes';
import type { ExperimentInput, ExperimentPlan, ExperimentResult, FreezeHit, Journal, PlannedFault, ProbeSample } from '../src/types';
import { abortSignal, statusQuery } from './definitions';
import { experimentV1 } from './experiment-v1';
import { acquireLocks, releaseLocks } from './lock';
import { observeWhileFaulted, type Observed } from './observation';
import { PERMANENT, experimentIdOf, failedReason, failureMessage } from './failure';
import { faultQueue, rollBack } from './rollback';
import { AGENT_START_WAIT, faultQueueFor, hostOf, resolveAcrossHosts } from './hosts';
import { byHost, lastRoundOf, mergeSummaries, probesOnHosts, sampleOnHost } from './host-probes';
import { tellFinished } from './notify';
import { RunState } from './run-state';
import { freezeFor, frozenReason, resultForTrigger, triggerOf } from './scheduled';

export { abortSignal, statusQuery };

/** Runs started since this marker sample in long activities; older ones replay as experimentV1. */
export const BOUNDED_HISTORY_PATCH = 'bounded-history';
/** Runs started since this marker plan and resolve their targets in local activities. */
export const LOCAL_START_PATCH = 'local-start';
/** Runs that reach the report since this marker release their locks while it is written and publish their end locally. */
export const QUICK_END_PATCH = 'quick-end';
/**
 * Runs started since this marker take the baseline while their locks are being taken (when a busy
 * target is refused rather than waited for), and confirm a due-time revert in a local activity
 * (workflows/rollback.ts): each saves a workflow task and a round trip through the server.
 */
export const QUICK_STEPS_PATCH = 'quick-steps';
/**
 * Runs started since this marker take their first verification round in a local activity, in the
 * workflow task of the revert: a steady state that holds at once (the usual case) costs no
 * activity round trip and no workflow task of its own. Further rounds go on in the activity.
 */
export const QUICK_VERIFY_PATCH = 'quick-verify';
/**
 * Runs started since this marker write the report of a short run in a local activity, in the
 * workflow task of the revert and the first verification round, and leave their locks to the
 * parent close policy (TERMINATE), which ends them as the run closes: no activity round trip, and
 * no workflow tasks for the lock's release, before the run can close. The next run on a target
 * ends a lock whose holder has closed itself, should it come before the server does.
 */
export const QUICK_REPORT_PATCH = 'quick-report';
/**
 * Runs started since this marker take a quick baseline round in the local activity that plans and
 * resolves, before their locks are started: the lock child's start no longer runs beside the
 * baseline activity, whose completion waited for the workflow task of the child's start.
 */
export const BASELINE_HERE_PATCH = 'baseline-here';
/** The samples a report may hold to be written in the local activity; a longer run's goes as before. */
const QUICK_REPORT_MAX_SAMPLES = 2000;
/** A first verification round that may take longer than this (slow probes) runs in the activity, as before. */
const QUICK_ROUND_MAX_MS = 3000;

const START_OPTIONS = { startToCloseTimeout: '30s', retry: { maximumAttempts: 3, nonRetryableErrorTypes: PERMANENT } } as const;
const { planExperiment, resolveTargets } = proxyActivities<Activities>(START_OPTIONS);
// Short and before any fault: run inside the workflow task, each saves an activity task's round
// trip through the server and the workflow task that would follow it.
const { planExperiment: planHere, resolveTargets: resolveHere, planAndResolve: planAndResolveHere } = proxyLocalActivities<Activities>(START_OPTIONS);
const { probeBaseline } = proxyActivities<Activities>({ startToCloseTimeout: '2m', heartbeatTimeout: '5s', retry: { maximumAttempts: 3, initialInterval: '200ms' } });
const injectActivities = (f: PlannedFault) =>
  proxyActivities<Activities>({
    taskQueue: faultQueueFor(f, faultQueue()),
    // On another host: an inject no agent takes fails the run (rollback then waits for the host).
    ...(hostOf(f.target) ? { scheduleToStartTimeout: AGENT_START_WAIT } : {}),
    startToCloseTimeout: '1m',
    heartbeatTimeout: '3s',
    retry: { maximumAttempts: 3, initialInterval: '200ms', nonRetryableErrorTypes: PERMANENT },
    summary: f.description,
  });

/**
 * Runs started since this marker inject through `injectFaultUntilDue`: the worker that injects
 * also reverts at the due time it returns, without waiting for this workflow's timer.
 */
export const REVERT_AT_DUE_PATCH = 'revert-at-due';

/** Injects one fault; records when it was injected and is due (the worker's clock, at the inject). */
async function injectOne(planned: PlannedFault, durationMs: number): Promise<string[]> {
  if (patched(REVERT_AT_DUE_PATCH)) {
    const r = await injectActivities(planned).injectFaultUntilDue(planned);
    planned.injectedAt = r.injectedAt;
    planned.dueAt = r.dueAt ?? new Date(Date.parse(r.injectedAt) + durationMs).toISOString();
    return r.lines;
  }
  const lines = await injectActivities(planned).injectFault(planned);
  planned.injectedAt = new Date().toISOString();
  planned.dueAt = new Date(Date.now() + durationMs).toISOString();
  return lines;
}
// The report waits for the results store as long as it is down: retried without limit.
const { reportRun } = proxyActivities<Activities>({ startToCloseTimeout: '2m', retry: { initialInterval: '1s', maximumInterval: '10s' } });
// Once; should it fail (the store down, samples still on their way), the activity above takes over.
const { reportAndPublish: reportHere } = proxyLocalActivities<Activities>({ startToCloseTimeout: '10s', retry: { maximumAttempts: 1 } });
const { freeLeftOverLock } = proxyLocalActivities<Activities>({ startToCloseTimeout: '10s', retry: { maximumAttempts: 2 } });
const { publishEvent } = proxyActivities<Activities>({ startToCloseTimeout: '10s', retry: { maximumAttempts: 2 } });
// Best effort and quick (false at once without NATS): run inside the workflow task, it costs no
// activity round trip and no workflow task of its own before the run can close.
const { publishEvent: publishEventHere } = proxyLocalActivities<Activities>({ startToCloseTimeout: '10s', retry: { maximumAttempts: 2 } });

/**
 * One chaos experiment: resolve → baseline → inject → observe → rollback → verify → report.
 *
 * Every fault whose injection was attempted is reverted, newest first, in a non-cancellable
 * `finally`: an abort, a guardrail breach, a cancellation, a failed activity or a crashed worker
 * all end in rollback, and the run does not end while a fault is still in place. Its history
 * does not grow with the length of the run: sampling happens inside activities that stream
 * samples to the results store and return aggregates.
 */
export async function experiment(input: ExperimentInput): Promise<ExperimentResult> {
  if (!patched(BOUNDED_HISTORY_PATCH)) return experimentV1(input);
  const local = patched(LOCAL_START_PATCH);
  // Asked before the first local activity: its marker is always in the first workflow task.
  const quick = patched(QUICK_STEPS_PATCH);
  const quickVerify = patched(QUICK_VERIFY_PATCH);
  const quickReport = patched(QUICK_REPORT_PATCH);
  const baselineHere = patched(BASELINE_HERE_PATCH);
  const state = new RunState();
  state.revertDueHere = quick;
  state.verifyFirstHere = quickVerify;
  state.trigger = triggerOf(input);
  let locks: Awaited<ReturnType<typeof acquireLocks>>['held'] = [];
  let observed: Observed | undefined;
  let freeze: FreezeHit | undefined;
  let baseline: ProbeSample[] = [];

  const carryOut = async (): Promise<void> => {
    // A run no freeze window can stop plans and resolves in one local activity (since quick-report),
    // and takes its baseline round there too when it is quick (since baseline-here).
    const startHere = quickReport && state.trigger !== 'schedule';
    if (startHere && baselineHere) state.window.baselineStartedAt = new Date().toISOString();
    const first = startHere ? await planAndResolveHere(input, baselineHere ? { run: state.run, window: { ...state.window }, startedAt: state.startedAt, trigger: state.trigger, maxRoundMs: QUICK_ROUND_MAX_MS } : undefined) : undefined;
    const plan = (state.plan = first?.plan ?? (await (local ? planHere : planExperiment)(input)));
    upsertSearchAttributes([{ key: searchAttributes.experimentId, value: plan.spec.id }]);
    if ((freeze = await freezeFor(input))) return conclude('skipped', frozenReason(freeze));
    state.probesOnHosts = await probesOnHosts(plan);

    const resolveOwn = local ? resolveHere : resolveTargets;
    state.targets = first?.targets ?? (await resolveAcrossHosts(plan, resolveOwn, PERMANENT)) ?? (await resolveOwn(plan));
    upsertSearchAttributes([{ key: searchAttributes.targets, value: state.targets.flatMap((t) => targetRefs(t).map((c) => c.name)) }]);
    state.note(`resolved ${state.targets.map((t) => `${t.name} → ${targetRefs(t).map((c) => c.name).join(', ')}`).join('; ')}`);
    const wait = plan.spec.lock?.whenBusy === 'wait';
    const held = (samples: ProbeSample[]): boolean => {
      baseline = samples;
      state.saw(baseline);
      if (allHeld(baseline)) return true;
      conclude('not-run', `steady state did not hold before the experiment: ${baseline.filter((s) => !s.ok).map((s) => s.check).join(', ')}; nothing injected`);
      return false;
    };
    if (first?.baseline) state.enter('baseline');
    const takeBaseline = (): Promise<ProbeSample[]> => {
      state.enter('baseline');
      state.window.baselineStartedAt = new Date().toISOString();
      return baselineOf(state, plan, input);
    };
    // A lock that is refused at once, not waited for, is taken while the baseline round runs: a
    // probe injects nothing, and a busy target still ends the run before any fault.
    const early = quick && !wait && !first?.baseline ? takeBaseline() : undefined;
    // Awaited below; handled here too, so that a baseline failing while the locks are taken is not an unhandled rejection.
    early?.catch(() => undefined);
    const acquired = await acquireLocks(
      state.targets.flatMap((t) => targetRefs(t)),
      {
        holder: state.run.workflowId,
        waitMs: wait ? plan.timing.lockWaitMs : 0,
        onWait: (c) => state.note(`waiting for ${kindOf(state, c) === 'docker' ? 'container ' : ''}${c.name}: another experiment holds it`),
        ...(quickReport ? { freeLeftOver: (lockId: string) => freeLeftOverLock({ lockId }) } : {}),
      },
    );
    // A run that ends here lets the baseline round finish first: its record of the run's start must not land after the report's.
    if (acquired.busy || state.halted()) await early?.catch(() => undefined);
    if (acquired.busy) return conclude('not-run', `${kindOf(state, acquired.busy) === 'docker' ? 'container ' : ''}${acquired.busy.name} is held by another experiment${wait ? ` for longer than ${plan.timing.lockWaitMs / 1000} s` : ''}; nothing injected`);
    locks = acquired.held;
    if (state.halted()) return;

    // A busy target is told before a steady state it may be why it does not hold.
    if (!held(first?.baseline ?? (await (early ?? takeBaseline())))) return;
    if (state.halted()) return;

    state.enter('inject');
    await inject(state, plan);
    if (state.halted()) return;

    state.enter('observe');
    // The last due-time revert may take the first verification round too (since quick-report).
    if (quickReport) state.firstRound = firstRoundHere(state, plan);
    observed = await observeWhileFaulted(state, plan);
    if (observed.failure) throw observed.failure;
  };
  const conclude = (verdict: 'skipped' | 'not-run', reason: string): void => {
    state.verdict = verdict;
    state.reason = reason;
    state.note(reason);
  };

  try {
    await carryOut();
  } catch (err) {
    if (isCancellation(err)) state.halt('the workflow was cancelled');
    else {
      state.verdict = 'error';
      state.reason = failureMessage(err);
      state.note(`error: ${state.reason}`);
    }
  } finally {
    await rollBack(state);
  }

  return await CancellationScope.nonCancellable(async () => {
    let verification: VerifySummary | undefined;
    if (state.abort) {
      state.verdict = 'aborted';
      state.reason = `aborted: ${state.abort.reason}`;
    }
    if (!state.verdict && state.plan) {
      state.enter('verify');
      verification = await verify(state, state.plan);
      const during = duringRowsFrom(state.plan, observed?.observe?.aggregates ?? {});
      state.verdict = verification.held && during.every((r) => r.ok) ? 'passed' : 'failed';
      state.reason = state.verdict === 'passed' ? 'the hypothesis held' : failedReason(verification.held, during.filter((r) => !r.ok).map((r) => r.expectation));
    }
    const verdict = (state.verdict ??= 'error');
    state.enter('report');
    const journal = journalOf(state, input, baseline, verification, freeze);
    const report = { journal, expectedSamples: expectedSamples(state.plan, observed, verification), trigger: state.trigger };
    // A short run's report in this workflow task; its locks end as it closes (the parent close policy).
    const here = quickReport && report.expectedSamples !== undefined && report.expectedSamples <= QUICK_REPORT_MAX_SAMPLES;
    // Rolled back and verified: the targets are free for other experiments while the report is written.
    const quickEnd = patched(QUICK_END_PATCH);
    const released = quickEnd && !here ? releaseLocks(locks) : undefined;
    const finished = { workflowId: state.run.workflowId, experimentId: journal.experimentId, verdict, reason: state.reason };
    // Reported and the event published in one local activity; should it fail, the activity, then the event.
    const quickly = here ? await reportHere({ ...report, finished }).catch(() => undefined) : undefined;
    const { reportDir, notify } = quickly ?? (await reportRun(report));
    upsertSearchAttributes([{ key: searchAttributes.verdict, value: verdict }]);
    if (!quickly) await (quickEnd ? publishEventHere : publishEvent)({ kind: 'experiment-finished', payload: { ...finished, reportDir } }).catch(() => false);
    await tellFinished(
      { event: verdict, experimentId: journal.experimentId, title: journal.title, workflowId: state.run.workflowId, runId: state.run.runId, trigger: state.trigger, reason: state.reason, reportDir, rollback: journal.rollback.status, at: journal.finishedAt },
      notify,
    );
    if (!here) await (released ?? releaseLocks(locks));
    state.enter('done');
    return resultForTrigger(input, { workflowId: state.run.workflowId, experimentId: journal.experimentId, verdict, reason: state.reason, rollback: journal.rollback.status, reportDir });
  });
}

/** Injects the method's faults in order, each recorded before its activity is scheduled. */
async function inject(state: RunState, p: ExperimentPlan): Promise<void> {
  for (const [step, method] of p.spec.method.entries()) {
    if (state.halted()) return;
    const target = state.targets.find((t) => t.name === method.fault.target);
    if (!target) throw ApplicationFailure.nonRetryable(`no resolved target '${method.fault.target}'`, 'TargetNotFound');
    const planned = planFault(state.run.workflowId, `f${state.faults.length + 1}`, step, method.fault, target, p.timing.faultMs[step]);
    // Recorded before the activity is scheduled: a worker that dies mid-injection leaves a fault
    // that rollback still reverts.
    state.faults.push(planned);
    state.window.faultStartedAt ??= new Date().toISOString();
    state.publishFaults();
    state.note(`injecting ${planned.id}: ${planned.description}`);
    let said: string[];
    try {
      said = await injectOne(planned, p.timing.faultMs[step]);
    } catch (err) {
      planned.status = 'inject-failed';
      planned.error = failureMessage(err);
      throw err;
    }
    planned.status = 'injected';
    state.publishFaults();
    state.note(`injected ${planned.id}${said.length ? ` (${said.join('; ')})` : ''}; revert due at ${planned.dueAt}`);
  }
}

/** Waits `recovery.after` if the file asks, then verifies in one activity until the steady state holds. */
async function verify(state: RunState, p: ExperimentPlan): Promise<VerifySummary> {
  if (p.timing.recoveryAfterMs) {
    state.note(`waiting ${p.timing.recoveryAfterMs / 1000} s before verifying (recovery.after)`);
    await sleep(p.timing.recoveryAfterMs);
  }
  const { verifySteadyState } = proxyActivities<Activities>({
    startToCloseTimeout: p.timing.recoveryWithinMs + 2 * 60_000,
    heartbeatTimeout: '5s',
    retry: { maximumAttempts: 10, initialInterval: '200ms', maximumInterval: '5s' },
    summary: `verify the steady state within ${p.timing.recoveryWithinMs / 1000} s`,
  });
  const { own, hosts } = byHost(p.spec.steadyState, state.probesOnHosts);
  const args = { run: state.run, withinMs: p.timing.recoveryWithinMs, intervalMs: p.timing.recoveryIntervalMs, window: { ...state.window } };
  const until = Date.now() + args.withinMs;
  const roundMs = p.timing.steadyStateRoundMs ?? 0;
  const firstHere = firstRoundHere(state, p) !== undefined;
  const verifyOwn = async (): Promise<VerifySummary> => {
    if (!firstHere) return verifySteadyState({ ...args, checks: own });
    // Taken with the last revert already, when nothing else sampled (workflows/observation.ts).
    let first = state.verifiedAtRevert;
    if (!first) {
      try {
        const { verifySteadyState: verifyHere } = proxyLocalActivities<Activities>({ startToCloseTimeout: roundMs + 5000, retry: { maximumAttempts: 1 } });
        first = await verifyHere({ ...args, checks: own, maxRounds: 1 });
      } catch {
        // Its samples, if any were stored, are written again under the same numbers.
        return verifySteadyState({ ...args, checks: own });
      }
    }
    if (!first.more) return first;
    const { unstored: _unstored, lastRound: _lastRound, held: _held, more: _more, ...progress } = first;
    return verifySteadyState({ ...args, checks: own, resume: progress });
  };
  // Each host verifies on its own until its checks hold: restored when every host's last round held.
  const parts = await Promise.all([
    own.length ? verifyOwn() : undefined,
    ...hosts.map(async ([host, checks]): Promise<VerifySummary> => {
      const s = await sampleOnHost(host, { run: state.run, phase: 'verify', stage: 'verify', checks, intervalMs: args.intervalMs, until, window: args.window, stop: 'held' });
      const lastRound = lastRoundOf(s, checks);
      return { ...s, lastRound, held: allHeld(lastRound) };
    }),
  ]);
  const v = { ...mergeSummaries(parts)!, lastRound: inOrder(p.spec.steadyState, parts.flatMap((x) => x?.lastRound ?? [])), held: parts.every((x) => x?.held !== false) };
  state.saw(v.lastRound);
  state.note(v.held ? 'steady state restored' : 'steady state not restored within the recovery window');
  return v;
}

/**
 * The first verification round's arguments when it may be taken in a local activity, right after
 * the revert: the round is quick, and nothing else waits (no `recovery.after`, no check on another host).
 */
function firstRoundHere(state: RunState, p: ExperimentPlan): FirstRound | undefined {
  const { own, hosts } = byHost(p.spec.steadyState, state.probesOnHosts);
  const roundMs = p.timing.steadyStateRoundMs;
  if (!state.verifyFirstHere || p.timing.recoveryAfterMs || hosts.length > 0 || own.length === 0 || roundMs === undefined || roundMs > QUICK_ROUND_MAX_MS) return undefined;
  return { run: state.run, checks: own, withinMs: p.timing.recoveryWithinMs, intervalMs: p.timing.recoveryIntervalMs, window: { ...state.window } };
}

/**
 * The baseline round: on this worker (which also records that the run started), and the checks
 * that name a host on that host's agent at the same time.
 */
async function baselineOf(state: RunState, plan: ExperimentPlan, input: ExperimentInput): Promise<ProbeSample[]> {
  const { own, hosts } = byHost(plan.spec.steadyState, state.probesOnHosts);
  const window = { ...state.window };
  const parts = await Promise.all([
    probeBaseline({ run: state.run, checks: own, window, start: startRecordOf(plan, state.startedAt, triggerOf(input)) }),
    ...hosts.map(async ([host, checks]) => lastRoundOf(await sampleOnHost(host, { run: state.run, phase: 'baseline', stage: 'baseline', checks, intervalMs: 0, until: Date.now() + 2 * 60_000, window, maxRounds: 1 }), checks)),
  ]);
  return inOrder(plan.spec.steadyState, parts.flat());
}

/** Samples in the order of their checks in the file. */
function inOrder(checks: { name: string }[], samples: ProbeSample[]): ProbeSample[] {
  return checks.map((c) => samples.find((s) => s.check === c.name)).filter((s): s is ProbeSample => s !== undefined);
}

/** The kind of the target a resolved ref belongs to (docker for records without kinds). */
function kindOf(state: RunState, ref: { id: string }): string {
  return state.targets.find((t) => targetRefs(t).some((r) => r.id === ref.id))?.kind ?? 'docker';
}

/** The journal without its samples (they are in the store): small whatever the run's length. */
function journalOf(state: RunState, input: ExperimentInput, baseline: ProbeSample[], verification: VerifySummary | undefined, freeze: FreezeHit | undefined): Journal {
  const plan = state.plan;
  return {
    workflowId: state.run.workflowId,
    runId: state.run.runId,
    experimentId: plan?.spec.id ?? experimentIdOf(input),
    title: plan?.spec.title ?? '',
    hypothesis: plan?.spec.hypothesis ?? '',
    source: plan?.source ?? '',
    startedAt: state.startedAt,
    finishedAt: new Date().toISOString(),
    verdict: state.verdict ?? 'error',
    reason: state.reason,
    plan,
    targets: state.targets,
    baseline,
    observations: [],
    verification: verification?.lastRound ?? [],
    hypothesisVsReality: plan ? [...steadyStateRows(plan, baseline, 'baseline'), ...(verification ? steadyStateRows(plan, verification.lastRound, 'after recovery') : [])] : [],
    rollback: { status: state.faults.length === 0 ? 'nothing-injected' : state.active().length === 0 ? 'complete' : 'incomplete', faults: state.faults },
    abort: state.abort,
    guardrails: [],
    breach: state.breach,
    freeze,
    events: state.events,
  };
}

/** How many samples the store should hold for the report, when every sampler told us. */
function expectedSamples(plan: ExperimentPlan | undefined, observed: Observed | undefined, verification: VerifySummary | undefined): number | undefined {
  const count = (s?: { aggregates: Record<string, { count: number }> }): number => Object.values(s?.aggregates ?? {}).reduce((n, a) => n + a.count, 0);
  // A halted run cancelled its samplers: their counts are unknown, and the report takes what the store has.
  if (!plan || !observed || observed.failure) return undefined;
  if ((plan.spec.observe?.probes?.length && !observed.observe) || observed.guards.length < (plan.spec.guardrails?.length ?? 0)) return undefined;
  return count(observed.observe) + observed.guards.reduce((n, g) => n + count(g), 0) + count(verification);
}
