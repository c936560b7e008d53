import { TimeoutType } from '@temporalio/common';
import { ActivityFailure, ApplicationFailure, TimeoutFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { faultQueueOf, hostQueueOf } from '../src/task-queues';
import type { ExperimentPlan, PlannedFault, ResolvedTarget } from '../src/types';
import { patchedWhenUsed } from './patches';

/** Runs started since this marker resolve the targets that name a host on that host's agent. */
export const AGENT_HOSTS_PATCH = 'agent-hosts';

/**
 * How long work for another host waits for one of its agents to take it before the run says so.
 * An agent that is alive takes it in milliseconds; a longer wait means none polls.
 */
export const AGENT_START_WAIT = '10s';
/** The same for the run's first work on a host (resolving its targets): a run that gives up on it has injected nothing. */
const AGENT_RESOLVE_WAIT = '30s';

/** The host a target names, or undefined for the orchestrating worker's own. */
export function hostOf(target: Pick<ResolvedTarget, 'spec'>): string | undefined {
  return target.spec?.host;
}

/** The fault queue a planned fault's injects and reverts go to: its host's agents', or the run's own. */
export function faultQueueFor(f: PlannedFault, own: string): string {
  const host = hostOf(f.target);
  return host ? faultQueueOf(hostQueueOf(host)) : own;
}

/** Whether an activity failed because no worker took it within its schedule-to-start timeout. */
export function notTakenInTime(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === TimeoutType.SCHEDULE_TO_START;
}

type Resolve = (p: ExperimentPlan, scope?: { targets: string[]; onHost?: string }) => Promise<ResolvedTarget[]>;

/**
 * Resolves the targets of a run whose targets name hosts: those of each host on its agents, the
 * rest with `resolveOwn`, all at once, in the file's order. Undefined for a run that names no
 * host, which resolves as before, with the same commands.
 * @throws ApplicationFailure AgentMissing (non-retryable: nothing injected yet) when no agent of a host takes the work.
 */
export async function resolveAcrossHosts(plan: ExperimentPlan, resolveOwn: Resolve, permanent: string[]): Promise<ResolvedTarget[] | undefined> {
  const byName = Object.entries(plan.spec.targets);
  const hosts = [...new Set(byName.map(([, t]) => t.host).filter((h): h is string => h !== undefined))];
  if (hosts.length === 0) return undefined;
  // Targets name hosts only since this marker: every run that names one recorded it.
  await patchedWhenUsed(AGENT_HOSTS_PATCH);
  const namesOn = (host: string | undefined): string[] => byName.filter(([, t]) => t.host === host).map(([name]) => name);
  const onHost = async (host: string): Promise<ResolvedTarget[]> => {
    const { resolveTargets } = proxyActivities<Activities>({
      taskQueue: hostQueueOf(host),
      scheduleToStartTimeout: AGENT_RESOLVE_WAIT,
      startToCloseTimeout: '30s',
      retry: { maximumAttempts: 3, nonRetryableErrorTypes: permanent },
      summary: `resolve the targets on host ${host}`,
    });
    try {
      return await resolveTargets(plan, { targets: namesOn(host), onHost: host });
    } catch (err) {
      if (!notTakenInTime(err)) throw err;
      throw ApplicationFailure.nonRetryable(`no agent of host ${host} took the work within ${AGENT_RESOLVE_WAIT}: start 'gameday agent --host ${host}' on that host; nothing injected`, 'AgentMissing');
    }
  };
  const parts = await Promise.all([resolveOwn(plan, { targets: namesOn(undefined) }), ...hosts.map(onHost)]);
  const all = parts.flat();
  return byName.map(([name]) => all.find((t) => t.name === name)).filter((t): t is ResolvedTarget => t !== undefined);
}
