import { ActivityCancellationType, CancellationScope, condition, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ExperimentPlan, GuardrailBreach } from '../src/types';
import type { GuardSummary, ObserveSummary, SamplingProgress } from '../src/observe/sampling';
import { failureMessage } from './failure';
import { byHost, guardrailCheck, mergeSummaries, sampleOnHost } from './host-probes';
import { revertWhenDue } from './rollback';
import type { RunState } from './run-state';

/** Sampling activities run as long as the faults: their timeout is that plus this margin. */
const SAMPLING_MARGIN_MS = 2 * 60_000;

/**
 * Sampling for as long as the faults last, in one activity per purpose: the history holds a few
 * events per activity, not per round. A worker that dies mid-activity stops heartbeating; the
 * activity is retried on another worker and resumes from its last heartbeat. TRY_CANCEL: a
 * halted run cancels them and moves on to rollback without waiting for them.
 */
function samplingActivities(untilMs: number, summary: string) {
  return proxyActivities<Activities>({
    startToCloseTimeout: Math.max(0, untilMs - Date.now()) + SAMPLING_MARGIN_MS,
    heartbeatTimeout: '5s',
    cancellationType: ActivityCancellationType.TRY_CANCEL,
    retry: { maximumAttempts: 10, initialInterval: '200ms', maximumInterval: '5s' },
    summary,
  });
}

/** What observation leaves for the verdict: the observe probes' aggregates and the samples counted. */
export interface Observed {
  /** Absent when the run halted before the observation ended (its samples are in the store all the same). */
  observe?: ObserveSummary;
  guards: GuardSummary[];
  /** An activity that failed for good: the run's verdict is then `error`. */
  failure?: unknown;
}

/**
 * Observes while the faults are in place and reverts each when its duration is up (a timer per
 * fault), newest first when due together. The observe probes and each guardrail sample in
 * activities of their own (those that name a host on its agent, which stores their samples too); a guardrail breach halts the run, and so does an abort signal: then
 * this returns at once and rollback reverts what is left.
 */
export async function observeWhileFaulted(state: RunState, p: ExperimentPlan): Promise<Observed> {
  const dueOf = (f: { dueAt?: string }): number => Date.parse(f.dueAt ?? '') || Date.now();
  const until = Math.max(...state.active().map(dueOf));
  const { own: checks, hosts } = byHost(p.spec.observe?.probes ?? [], state.probesOnHosts);
  const run = state.run;
  const window = { ...state.window };
  const observed: Observed = { guards: [] };
  const failed = (what: string) => (err: unknown): undefined => {
    // Cancelled because the run halted: not a failure.
    if (isCancellation(err)) return undefined;
    observed.failure ??= err;
    state.halt(`${what} failed: ${failureMessage(err)}`);
    return undefined;
  };

  const sampling = new CancellationScope();
  const intervalMs = p.timing.observeIntervalMs;
  // Told a host's progress when its sampling (or, on the old chunk path, each chunk) is stored; the CLI reads the agent's heartbeats meanwhile.
  const stored = (progress: SamplingProgress): void => void Object.assign(state.lastProbes, progress.lastProbes);
  const ownObservation = checks.length
    ? sampling.run(() => samplingActivities(until, `observe ${checks.length} probe(s) every ${intervalMs} ms`).observeProbes({ run, checks, intervalMs, until, window }))
    : Promise.resolve(undefined);
  const observation = hosts.length
    ? Promise.all([ownObservation, ...hosts.map(([host, cs]) => sampling.run(() => sampleOnHost(host, { run, phase: 'observe', stage: 'observe', checks: cs, intervalMs, until, window, stored })))]).then(mergeSummaries)
    : ownObservation;
  let guardsDone = 0;
  const guards = (p.spec.guardrails ?? []).map((g, i) =>
    sampling
      .run(() => {
        const every = p.timing.guardrailIntervalMs[i];
        const host = state.probesOnHosts ? g.probe.host : undefined;
        if (host) return sampleOnHost(host, { run, phase: 'guardrail', stage: 'observe', checks: [guardrailCheck(g)], intervalMs: every, until, window, stop: 'breach', guardrail: g, stored });
        return samplingActivities(until, `guardrail ${g.name} every ${every} ms`).watchGuardrail({ run, guardrail: g, intervalMs: every, until, window });
      })
      .then((summary) => {
        observed.guards.push(summary);
        if (summary.breach) breached(state, summary.breach, summary.reason);
        return summary;
      }, failed(`guardrail '${g.name}'`))
      .finally(() => guardsDone++),
  );
  const observing = observation.then((summary) => (observed.observe = summary), failed('observation'));

  // A timer per fault, raced against a halt: condition() cancels the timer it did not need.
  const byDue = state.active().sort((a, b) => dueOf(a) - dueOf(b) || b.id.localeCompare(a.id, 'en', { numeric: true }));
  // Nothing else samples: the last revert takes the first verification round too, when the run may.
  const alone = checks.length === 0 && hosts.length === 0 && guards.length === 0;
  for (const [i, f] of byDue.entries()) {
    const wait = dueOf(f) - Date.now();
    if (wait > 0) await condition(() => state.halted(), wait);
    if (state.halted()) break;
    await revertWhenDue(state, f, alone && i === byDue.length - 1 ? state.firstRound : undefined);
  }

  if (state.halted()) {
    sampling.cancel();
    return observed;
  }
  await observing;
  // Guardrails end at the same moment on their own; one that does not (its worker died) is not waited for long.
  if (!(await condition(() => guardsDone === guards.length, '30s'))) sampling.cancel();
  return observed;
}

function breached(state: RunState, b: GuardrailBreach, reason = `guardrail '${b.guardrail}' breached at ${b.at}: ${b.observed} (abort when ${b.condition})`): void {
  if (state.halted()) return;
  state.breach = b;
  state.halt(reason, b.at);
}
