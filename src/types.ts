/**
 * The data that crosses the boundary between the experiment workflow and its activities.
 * Types only: workflows/ imports this file with `import type`.
 */
import type { Scenario } from './spec/scenario';
import type { Experiment, FaultSpec, ObserveCheck, SteadyStateCheck, TargetKind, TargetSpec } from './spec/schema';

/**
 * How a run was started. A run started by a Temporal Schedule (`trigger: 'schedule'`, set by
 * `gameday schedule sync`) first checks the freeze windows, and fails its execution when its
 * verdict is failed, error or aborted, so that the schedule's pause-on-failure takes effect. Runs
 * without it (by hand, and every run recorded before schedules existed) do neither.
 */
export interface RunTrigger {
  trigger?: 'schedule';
  /** The schedule that started the run, for its report. */
  scheduleId?: string;
}

/**
 * How a run was started, as history lists it: `cli` (`gameday run`, `gameday demo`: the CLI marks
 * its runs with a memo), `schedule` (a Temporal Schedule: Gameday's, or any that sets
 * `TemporalScheduledById`), or `web-ui`: neither, so the Temporal Web UI or another Temporal
 * client. A scenario's stages take the scenario's.
 */
export type RunTriggerName = 'cli' | 'schedule' | 'web-ui';

/** What the `experiment` workflow accepts: an id from the catalog (experiments/), or a whole spec. */
export type ExperimentInput = ({ experiment: string } | { spec: unknown; source?: string }) & RunTrigger;

/** A freeze window a scheduled run fell in: why, and the window in words. */
export interface FreezeHit {
  reason: string;
  window: string;
}

/** A validated experiment with its durations in milliseconds, ready for the workflow to run. */
export interface ExperimentPlan {
  spec: Experiment;
  /** Where the spec came from: a file path, or `inline`. */
  source: string;
  timing: {
    /** Per method step, how long its fault stays in place. */
    faultMs: number[];
    observeIntervalMs: number;
    recoveryWithinMs: number;
    recoveryIntervalMs: number;
    /** How long to wait after rollback before verifying; absent when the file sets none. */
    recoveryAfterMs?: number;
    /** Per guardrail, its probing interval. */
    guardrailIntervalMs: number[];
    /** How long to wait for a busy target when the lock says `wait`. */
    lockWaitMs: number;
    /**
     * The longest one round of the steady-state checks may take (each probe's timeout, the window
     * of those that listen, and slack); absent in plans made before it was added.
     */
    steadyStateRoundMs?: number;
  };
}

/**
 * One thing a target resolved to: a container (id: the container id), a host process (id: a
 * hash of its pid and start time), or a database, proxy or HTTP endpoint (id: a hash of its
 * address). Locks and the janitor key on `id`; people read `name`.
 */
export interface TargetRef {
  id: string;
  name: string;
  /** Host processes only: the process id when the target was resolved. */
  pid?: number;
  /**
   * Containers only: the Docker networks it was connected to when resolved, with its aliases and
   * any fixed address there, so that docker-disconnect's revert connects it back as it was from
   * any worker. Absent in runs recorded before it existed.
   */
  networks?: Record<string, NetworkAttachment>;
}

/** How a container was attached to one Docker network. */
export interface NetworkAttachment {
  /** Its network-scoped aliases (a compose service name among them), without its short id. */
  aliases: string[];
  /** Addresses set explicitly (`--ip`), kept on reconnect; dynamic ones are not recorded. */
  ipv4Address?: string;
  ipv6Address?: string;
}

/** A target that is a container. */
export type ContainerRef = TargetRef;

/** A target name and what it resolved to when the experiment started. */
export interface ResolvedTarget {
  name: string;
  /** Absent in runs recorded before targets had kinds: those were all docker. */
  kind?: TargetKind;
  selector: string;
  /** What the target resolved to: containers, processes, a database, a proxy, an endpoint. */
  refs: TargetRef[];
  /**
   * The same, under the name it had when every target was a container: runs recorded before
   * `refs` (histories, journals, memos) carry it. Read both with `targetRefs`.
   */
  containers?: TargetRef[];
  /** The target as the experiment file gave it; the fault families read their addresses from it. */
  spec?: TargetSpec;
}

export type FaultStatus = 'planned' | 'injected' | 'inject-failed' | 'reverted';

/**
 * A fault the workflow decided to inject, recorded in workflow state *before* the inject activity
 * is scheduled: rollback reverts every fault that was attempted, whether or not its inject
 * activity completed.
 */
export interface PlannedFault {
  /** Unique within the run: `f1`, `f2` … in order of injection. */
  id: string;
  step: number;
  fault: FaultSpec;
  target: ResolvedTarget;
  status: FaultStatus;
  /** One line for people: "pause container demo-nats". */
  description: string;
  /**
   * Marks what the fault leaves behind (iptables rules, toxics, held connections, stress
   * processes) so that a revert from any worker, or the janitor, finds it: `gameday-<hash>-f1`.
   * Absent in runs recorded before it existed (docker faults, which need none).
   */
  tag?: string;
  /**
   * How long the fault is meant to stay in place (its method step's duration), known before the
   * inject: faults that can end by themselves (held connections, a paused process's watchdog,
   * stress processes, iptables rules) do so a margin after it, should every worker die.
   * Absent in runs recorded before it existed: a default limit applies.
   */
  durationMs?: number;
  injectedAt?: string;
  /** When the fault is due to be reverted (inject time + duration). */
  dueAt?: string;
  revertedAt?: string;
  /** Rounds of revert attempts that failed (each round is a few activity attempts). */
  revertAttempts?: number;
  lastRevertError?: string;
  error?: string;
  /**
   * A revert on another host that no agent of that host took at once (the agent died, say):
   * since when it was asked for, and once done, until when and how long it waited.
   */
  revertWaited?: RevertWait;
}

/** How long a revert waited for an agent of its target's host. */
export interface RevertWait {
  host: string;
  /** When the revert was first asked for. */
  since: string;
  until?: string;
  waitedMs?: number;
}

/**
 * When the experiment began acting on the system, for probes that count over a window
 * (docker-logs): the workflow passes it to every round of probes.
 */
export interface ProbeWindow {
  /** When the baseline stage began. */
  baselineStartedAt: string;
  /** When the first fault's injection was attempted; absent before any fault. */
  faultStartedAt?: string;
}

/** One value a probe measured; fields depend on the probe kind. */
export type Measurement = Record<string, number | string | boolean>;

/** One expectation judged against one measurement. */
export interface ExpectationResult {
  field: string;
  expected: string;
  observed: string;
  ok: boolean;
}

/** A probe run once, and its expectations judged. */
export interface ProbeSample {
  check: string;
  stage: Stage;
  at: string;
  measurement: Measurement;
  /** Empty when the probe succeeded. */
  error: string;
  expectations: ExpectationResult[];
  /**
   * True when the probe succeeded and every expectation held (or there were none). In a guardrail
   * sample (since runs with bounded histories): the probe answered and met no abort condition.
   */
  ok: boolean;
  /** Guardrail samples only: an `abortWhen` condition was met (absent in older journals). */
  breached?: boolean;
}

export type Stage = 'resolve' | 'baseline' | 'inject' | 'observe' | 'rollback' | 'verify' | 'report' | 'done';

/**
 * - passed: the hypothesis held;
 * - failed: the hypothesis was disproved (a finding, not an error);
 * - aborted: halted by the abort signal or a cancellation; rolled back;
 * - not-run: the system was not in its steady state before we started; nothing injected;
 * - error: the experiment could not be carried out (bad spec, missing target, inject failed);
 * - skipped: a scheduled run inside a freeze window; nothing resolved or injected.
 */
export type Verdict = 'passed' | 'failed' | 'aborted' | 'not-run' | 'error' | 'skipped';

export interface RollbackRecord {
  /** `complete`: every attempted fault reverted; `nothing-injected`: none was attempted. */
  status: 'complete' | 'nothing-injected' | 'incomplete';
  faults: PlannedFault[];
}

/** A row of the hypothesis-vs-reality table. */
export interface HypothesisRow {
  expectation: string;
  when: 'baseline' | 'during the fault' | 'after recovery';
  expected: string;
  observed: string;
  ok: boolean;
}

/** Everything that happened in one run; written as journal.json and rendered as report.md. */
export interface Journal {
  workflowId: string;
  runId: string;
  experimentId: string;
  title: string;
  hypothesis: string;
  source: string;
  startedAt: string;
  finishedAt: string;
  verdict: Verdict;
  reason: string;
  plan?: ExperimentPlan;
  targets: ResolvedTarget[];
  baseline: ProbeSample[];
  observations: ProbeSample[];
  verification: ProbeSample[];
  hypothesisVsReality: HypothesisRow[];
  rollback: RollbackRecord;
  abort?: { reason: string; at: string };
  /** Every guardrail sample; an expectation met in one is a breach. */
  guardrails: ProbeSample[];
  breach?: GuardrailBreach;
  /** The freeze window a scheduled run was skipped for. */
  freeze?: FreezeHit;
  events: { at: string; stage: Stage; message: string }[];
  /**
   * How the results store served the report (runs with bounded histories): how long the report
   * waited for a store that was down, samples that never reached it, and when retention pruned
   * the run's samples. Absent when all was well.
   */
  store?: { waitedMs?: number; attempts?: number; missingSamples?: number; samplesPrunedAt?: string };
  /** This run's expectations beside the previous run's of the same experiment (src/report/revalidation.ts). */
  revalidation?: Revalidation;
}

/** How an expectation changed since the previous run: met now and not then is `fixed`. */
export type RevalidationStatus = 'fixed' | 'regressed' | 'unchanged' | 'new' | 'removed';

/** One expectation in both runs; `previous` or `current` is absent for one that is `new` or `removed`. */
export interface RevalidationRow {
  expectation: string;
  when: HypothesisRow['when'];
  status: RevalidationStatus;
  expected: string;
  previous?: { observed: string; ok: boolean };
  current?: { observed: string; ok: boolean };
}

/** A run compared with the previous closed run of its experiment; `previous` absent when there is none. */
export interface Revalidation {
  previous?: { workflowId: string; runId: string; startedAt: string; verdict: Verdict | null };
  rows: RevalidationRow[];
}

/** The guardrail that stopped an experiment: which, the value that breached it, and when. */
export interface GuardrailBreach {
  guardrail: string;
  at: string;
  condition: string;
  observed: string;
}

/** What the workflow returns. */
export interface ExperimentResult {
  workflowId: string;
  experimentId: string;
  verdict: Verdict;
  reason: string;
  rollback: RollbackRecord['status'];
  reportDir: string;
}

/** What the `status` query returns. */
export interface ExperimentStatus {
  experimentId: string;
  stage: Stage;
  activeFaults: { id: string; description: string; dueAt?: string }[];
  lastProbes: Record<string, { at: string; ok: boolean; measurement: Measurement; error: string }>;
  verdict?: Verdict;
  /** Set while a revert keeps failing: the experiment cannot end until it succeeds. */
  rollbackFailing?: { faultId: string; description: string; attempts: number; error: string; since: string };
  /** Reverts that wait for an agent of their host: no agent of it polls (it died, or was never started). */
  waitingOnHost?: { host: string; faultId: string; description: string; since: string }[];
  /** The newest events (at most 20). */
  events: { at: string; stage: Stage; message: string }[];
  /** How many events there were in all. */
  eventCount: number;
}

export type { SteadyStateCheck, ObserveCheck };

/** What the `scenario` workflow accepts: an id from the catalog, or a whole spec. */
export type ScenarioInput = ({ scenario: string } | { spec: unknown; source?: string }) & RunTrigger & {
  /** Set by continue-as-new in a soak: which iteration this is, and how the earlier ones ended. */
  iteration?: number;
  previousIterations?: { iteration: number; verdict: Verdict; reason: string; reportDir: string }[];
};

/** A validated scenario, each stage's experiment input and what it waits for. */
export interface ScenarioPlan {
  spec: Scenario;
  source: string;
  stages: { name: string; input: ExperimentInput; deps: string[]; during?: string; duringDelayMs?: number }[];
}

export interface ScenarioStageRecord {
  name: string;
  status: 'pending' | 'running' | 'done' | 'skipped';
  workflowId?: string;
  startedAt?: string;
  finishedAt?: string;
  result?: ExperimentResult;
  skippedBecause?: string;
}

/** One iteration of a scenario, written as scenario.json and rendered as report.md. */
export interface ScenarioJournal {
  workflowId: string;
  runId: string;
  scenarioId: string;
  title: string;
  hypothesis: string;
  source: string;
  iteration: number;
  repeat: number;
  startedAt: string;
  finishedAt: string;
  stages: ScenarioStageRecord[];
  abort?: { reason: string; at: string };
  previousIterations: NonNullable<ScenarioInput['previousIterations']>;
  result: { workflowId: string; scenarioId: string; verdict: Verdict; reason: string; iterations: number; reportDir: string };
}
