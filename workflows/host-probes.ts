import { ActivityCancellationType, ApplicationFailure, patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { GuardSummary, ObserveSummary, SamplingProgress } from '../src/observe/sampling';
import type { Chunk, ChunkStop } from '../src/observe/host-sampling';
import type { Guardrail, ObserveCheck, SteadyStateCheck } from '../src/spec/schema';
import type { SamplePhase, RunKey } from '../src/store/types';
import { hostQueueOf } from '../src/task-queues';
import type { ExperimentPlan, ProbeSample, ProbeWindow, Stage } from '../src/types';
import { AGENT_START_WAIT, notTakenInTime } from './hosts';
import { patchedWhenUsed } from './patches';

/** Runs started since this marker take the probes that name a host on that host's agent. */
export const HOST_PROBES_PATCH = 'host-probes';
/**
 * Runs started since this marker have the agent write a host's samples to the results store and
 * return aggregates only (sampleToStore): the history stays bounded however long the run. Before
 * it, chunks of samples came back through the history (sampleOnHost, recordHostChunk).
 */
export const HOST_PROBES_STORE_PATCH = 'host-probes-store';

/** A host's sampling runs as long as the faults: its timeout is that plus this margin (as a worker's). */
const SAMPLING_MARGIN_MS = 2 * 60_000;

/**
 * Whether this run sends the probes that name a host to their agents. Asked (and the marker
 * written) only for a plan with such a probe: runs without one replay unchanged. Probes name
 * hosts only since the marker, so every run with such a probe recorded it (see patchedWhenUsed).
 */
export async function probesOnHosts(p: ExperimentPlan): Promise<boolean> {
  const checks = [...p.spec.steadyState, ...(p.spec.observe?.probes ?? []), ...(p.spec.guardrails ?? [])];
  if (!checks.some((c) => c.probe.host !== undefined)) return false;
  await patchedWhenUsed(HOST_PROBES_PATCH);
  return true;
}

/** The checks of this worker's own host, and those of each other host, in the file's order. */
export function byHost<C extends { probe: { host?: string } }>(checks: C[], routed: boolean): { own: C[]; hosts: [string, C[]][] } {
  if (!routed) return { own: checks, hosts: [] };
  const hosts = new Map<string, C[]>();
  for (const c of checks) if (c.probe.host) hosts.set(c.probe.host, [...(hosts.get(c.probe.host) ?? []), c]);
  return { own: checks.filter((c) => !c.probe.host), hosts: [...hosts] };
}

/** A guardrail as a check: its `abortWhen` conditions are the expectations (met = breached). */
export function guardrailCheck(g: Guardrail): ObserveCheck {
  return { name: g.name, probe: g.probe, expect: g.abortWhen };
}

// Stores a chunk on this worker, inside the workflow task that received it: the chunk's samples
// enter the history once (the agent's result), the local activity's marker holds only progress.
const { recordHostChunk } = proxyLocalActivities<Activities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 5, initialInterval: '200ms' } });

export interface HostSampling {
  run: RunKey;
  phase: SamplePhase;
  stage: Stage;
  checks: (SteadyStateCheck | ObserveCheck)[];
  intervalMs: number;
  /** Epoch ms (workflow time): no round starts after it. */
  until: number;
  window: ProbeWindow;
  maxRounds?: number;
  stop?: ChunkStop;
  /** For a guardrail: its samples are judged as a guardrail's, and a breach ends the sampling. */
  guardrail?: Guardrail;
  /** Told the progress after each chunk is stored (the run's status shows its last probes). */
  stored?: (progress: SamplingProgress) => void;
}

/**
 * Samples on `host`'s agent. Since HOST_PROBES_STORE_PATCH in one activity that stores every
 * sample itself; before, chunk after chunk (src/observe/host-sampling.ts), each stored by this
 * run's worker as it came back. Returns the same summary as a sampling activity on this worker.
 * A chunk no agent of the host takes within AGENT_START_WAIT fails the sampling, as a failed
 * sampling activity does; a chunk whose agent dies is taken again, whole, by another.
 */
export async function sampleOnHost(host: string, s: HostSampling): Promise<GuardSummary> {
  const { sampleOnHost: sample } = proxyActivities<Activities>({
    taskQueue: hostQueueOf(host),
    scheduleToStartTimeout: AGENT_START_WAIT,
    // A chunk is at most 30 s of rounds plus one round, whose probe may take a minute (http-latency).
    startToCloseTimeout: '3m',
    heartbeatTimeout: '5s',
    cancellationType: ActivityCancellationType.TRY_CANCEL,
    retry: { maximumAttempts: 10, initialInterval: '200ms', maximumInterval: '5s' },
    summary: `${s.guardrail ? `guardrail ${s.guardrail.name}` : `${s.phase} ${s.checks.length} probe(s)`} on host ${host}`,
  });
  const source = s.guardrail ? `guardrail ${s.guardrail.name}` : `${s.phase} on ${host}`;
  const missing = (err: unknown): never => {
    if (!notTakenInTime(err)) throw err;
    throw ApplicationFailure.nonRetryable(`no agent of host ${host} took its probes within ${AGENT_START_WAIT}: start 'gameday agent --host ${host}' on that host`, 'AgentMissing');
  };
  if (patched(HOST_PROBES_STORE_PATCH)) {
    // One activity for the whole sampling, as on a worker: the agent stores every sample and its
    // heartbeats carry what is stored, so the retry on another agent resumes after it.
    const { sampleToStore } = proxyActivities<Activities>({
      taskQueue: hostQueueOf(host),
      scheduleToStartTimeout: AGENT_START_WAIT,
      startToCloseTimeout: Math.max(0, s.until - Date.now()) + SAMPLING_MARGIN_MS,
      heartbeatTimeout: '5s',
      cancellationType: ActivityCancellationType.TRY_CANCEL,
      retry: { maximumAttempts: 10, initialInterval: '200ms', maximumInterval: '5s' },
      summary: `${s.guardrail ? `guardrail ${s.guardrail.name}` : `${s.phase} ${s.checks.length} probe(s)`} on host ${host}`,
    });
    const summary = await sampleToStore({ run: s.run, phase: s.phase, source, checks: s.checks, stage: s.stage, intervalMs: s.intervalMs, until: s.until, maxRounds: s.maxRounds, stop: s.stop, window: s.window, guardrail: s.guardrail }).catch(missing);
    s.stored?.(summary);
    return summary;
  }
  let progress: GuardSummary | undefined;
  const take = (): Promise<Chunk> =>
    sample({ checks: s.checks, stage: s.stage, intervalMs: s.intervalMs, until: s.until, maxRounds: s.maxRounds, stop: s.stop, window: s.window }).catch(missing);
  for (;;) {
    const chunk = await take();
    progress = await recordHostChunk({ run: s.run, phase: s.phase, source, stage: s.stage, progress, rounds: chunk.rounds, guardrail: s.guardrail });
    s.stored?.(progress);
    if (chunk.done || progress.breach) return progress;
  }
}

/** The last sample of each check, in the checks' order: a host's last round. */
export function lastRoundOf(progress: SamplingProgress | undefined, checks: { name: string }[]): ProbeSample[] {
  return checks.map((c) => progress?.aggregates[c.name]?.last).filter((s): s is ProbeSample => s !== undefined);
}

/** One summary of the samplers of several hosts (their checks are distinct): what the verdict reads. */
export function mergeSummaries<S extends ObserveSummary>(parts: (S | undefined)[]): S | undefined {
  const present = parts.filter((p): p is S => p !== undefined);
  if (present.length === 0) return undefined;
  return present.reduce((a, b) => ({
    ...a,
    nextSeq: Math.max(a.nextSeq, b.nextSeq),
    aggregates: { ...a.aggregates, ...b.aggregates },
    lastProbes: { ...a.lastProbes, ...b.lastProbes },
    recent: [...a.recent, ...b.recent].slice(-10),
    eventCount: a.eventCount + b.eventCount,
    lost: a.lost + b.lost,
    unstored: a.unstored + b.unstored,
  }));
}
