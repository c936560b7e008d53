import type { MetricGauge, MetricHistogram, MetricCounter, MetricMeter } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';

/** Gameday's metric names, as served at /metrics (README, "Metrics", says what each means). */
export const METRICS = {
  experimentsRunning: 'gameday_experiments_running',
  faultsInPlace: 'gameday_faults_in_place',
  rollbacksFailing: 'gameday_rollbacks_failing',
  revertFailures: 'gameday_revert_failures_total',
  revertLateness: 'gameday_revert_lateness_seconds',
  guardrailDetection: 'gameday_guardrail_detection_seconds',
} as const;

/** Bucket bounds (seconds) of Gameday's histograms: a revert or a detection is due within a second or two. */
export const HISTOGRAM_BUCKETS: Record<string, number[]> = {
  [METRICS.revertLateness]: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
  [METRICS.guardrailDetection]: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
};

/** Which revert finished: the injecting worker's timer at the due time, or the workflow's own revert. */
export type RevertPath = 'due-time' | 'workflow';

/** A run, as Temporal names it. */
export interface RunRef {
  workflowId: string;
  runId: string;
}

/** How the worker asks Temporal whether what it counts is still so (see keepReconciled). */
export interface ReconcileChecks {
  runOpen(run: RunRef): Promise<boolean>;
  faultInPlace(run: RunRef, faultId: string): Promise<boolean>;
}

interface FaultEntry {
  run: RunRef;
  faultId: string;
  kind: string;
  since: number;
}

/** How often, and after how long, counted runs and faults are checked against Temporal. */
const RECONCILE_EVERY_MS = 15_000;

/**
 * Gameday's metrics of one process, on the SDK runtime's meter. The gauges are counts of keyed
 * entries (a run, a run's fault), so that every event is idempotent: an inject retried, a revert
 * retried, the workflow's revert after the due-time one, a revert of a fault another worker
 * injected, all leave the counts right. What another worker did (a run planned here, reported
 * there) is caught up with by keepReconciled.
 */
export class GamedayMetrics {
  private readonly runs = new Map<string, { run: RunRef; since: number }>();
  /** Faults injected on this worker, not reverted yet. */
  private readonly faults = new Map<string, FaultEntry>();
  /** Faults whose last revert attempt on this worker failed (injected here or not). */
  private readonly failingReverts = new Map<string, FaultEntry>();
  private readonly running: MetricGauge;
  private readonly inPlace: MetricGauge;
  private readonly failing: MetricGauge;
  private readonly failures: MetricCounter;
  private readonly lateness: MetricHistogram;
  private readonly detection: MetricHistogram;

  constructor(meter: MetricMeter) {
    this.running = meter.createGauge(METRICS.experimentsRunning, 'int', '', 'Experiment runs this worker planned whose report is not written yet');
    this.inPlace = meter.createGauge(METRICS.faultsInPlace, 'int', '', 'Faults this worker injected that are not reverted yet, by fault kind');
    this.failing = meter.createGauge(METRICS.rollbacksFailing, 'int', '', 'Faults in place whose last revert attempt on this worker failed, by fault kind');
    this.failures = meter.createCounter(METRICS.revertFailures, '', 'Revert attempts that failed, by fault kind and path');
    this.lateness = meter.createHistogram(METRICS.revertLateness, 'float', 's', 'How long after its due time a revert finished, by fault kind and path');
    this.detection = meter.createHistogram(METRICS.guardrailDetection, 'float', 's', 'From the start of the sample that breached a guardrail to the breach handed to its run, by probe kind');
    this.running.set(0);
  }

  /** A run planned its experiment (a retried plan counts once). */
  experimentStarted(run: RunRef): void {
    if (!this.runs.has(runKey(run))) this.runs.set(runKey(run), { run, since: Date.now() });
    this.running.set(this.runs.size);
  }

  /** A run's report is written (or the run is found closed). Unknown runs are fine. */
  experimentEnded(run: RunRef): void {
    this.runs.delete(runKey(run));
    this.running.set(this.runs.size);
  }

  /** A fault's inject succeeded on this worker (a retried inject counts once). */
  faultInjected(run: RunRef, faultId: string, kind: string): void {
    const key = faultKey(run, faultId);
    if (!this.faults.has(key)) this.faults.set(key, { run, faultId, kind, since: Date.now() });
    this.showKind(kind);
  }

  /**
   * A revert of the fault succeeded: it is no longer counted anywhere here. A revert that finished
   * at or after `dueAtMs` records its lateness under its path; an earlier one (a halted run) is not
   * late and records none.
   */
  faultReverted(run: RunRef, faultId: string, kind: string, path: RevertPath, dueAtMs: number | undefined, at = Date.now()): void {
    this.forget(faultKey(run, faultId));
    this.showKind(kind);
    if (dueAtMs !== undefined && Number.isFinite(dueAtMs) && at >= dueAtMs) this.lateness.record((at - dueAtMs) / 1000, { kind, path });
  }

  /** The fault is not this worker's to count any more: its run closed, or reverted it elsewhere. */
  faultGone(run: RunRef, faultId: string): void {
    const key = faultKey(run, faultId);
    const entry = this.faults.get(key) ?? this.failingReverts.get(key);
    this.forget(key);
    if (entry) this.showKind(entry.kind);
  }

  /** One revert attempt failed; the fault counts as failing until a revert succeeds. */
  revertFailed(run: RunRef, faultId: string, kind: string, path: RevertPath): void {
    this.failures.add(1, { kind, path });
    const key = faultKey(run, faultId);
    if (!this.failingReverts.has(key)) this.failingReverts.set(key, { run, faultId, kind, since: Date.now() });
    this.showKind(kind);
  }

  /** A guardrail's activity found a breach in a sample that started at `sampleAt` and is handing it to its run now. */
  guardrailBreached(probeKind: string, sampleAt: string, at = Date.now()): void {
    const started = Date.parse(sampleAt);
    if (Number.isFinite(started)) this.detection.record(Math.max(0, at - started) / 1000, { probe: probeKind });
  }

  /**
   * Every 15 s, asks Temporal about the runs and faults counted for longer than that, and drops
   * those that ended elsewhere: a run planned on this worker and reported on another, a fault
   * injected here and reverted by another worker. An answer that does not come keeps the count.
   */
  keepReconciled(checks: ReconcileChecks, everyMs = RECONCILE_EVERY_MS): { stop(): void } {
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void this.reconcile(checks, Date.now() - everyMs).finally(() => (busy = false));
    }, everyMs);
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }

  /** One round of keepReconciled, over what was counted before `olderThan` (ms since the epoch). */
  async reconcile(checks: ReconcileChecks, olderThan = Date.now()): Promise<void> {
    for (const { run, since } of [...this.runs.values()]) {
      if (since <= olderThan && !(await checks.runOpen(run).catch(() => true))) this.experimentEnded(run);
    }
    const counted = new Map([...this.failingReverts, ...this.faults]);
    for (const f of counted.values()) {
      if (f.since <= olderThan && !(await checks.faultInPlace(f.run, f.faultId).catch(() => true))) this.faultGone(f.run, f.faultId);
    }
  }

  private forget(key: string): void {
    this.faults.delete(key);
    this.failingReverts.delete(key);
  }

  private showKind(kind: string): void {
    const count = (m: Map<string, FaultEntry>): number => [...m.values()].filter((f) => f.kind === kind).length;
    this.inPlace.set(count(this.faults), { kind });
    this.failing.set(count(this.failingReverts), { kind });
  }
}

function runKey(run: RunRef): string {
  return `${run.workflowId}/${run.runId}`;
}

function faultKey(run: RunRef, faultId: string): string {
  return `${runKey(run)}/${faultId}`;
}

let processMetrics: GamedayMetrics | undefined;

/**
 * The process's Gameday metrics, on the SDK runtime's meter: one set per process, shared by its
 * workers, as the gauges are. Install the runtime first (installRuntime): without a metrics
 * address the meter exports nothing and recording costs next to nothing.
 */
export function gamedayMetrics(): GamedayMetrics {
  processMetrics ??= new GamedayMetrics(Runtime.instance().metricMeter);
  return processMetrics;
}
