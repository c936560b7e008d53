import { ApplicationFailure, Context } from '@temporalio/activity';
import { guardUntil, observeUntil, probeOnce, recordChunk, verifyUntilHeld, type GuardSummary, type ObserveSummary, type SamplingEnv, type SamplingProgress, type VerifySummary } from '../src/observe/sampling';
import type { ProbeContext } from '../src/probes';
import { hypothesisRowsFrom } from '../src/report/digest';
import { revalidationFor } from '../src/report/revalidation';
import { writeReportFrom } from '../src/report/stream';
import type { Guardrail, ObserveCheck, SteadyStateCheck } from '../src/spec/schema';
import { deliveriesFor, type Delivery, type NotifyRule, type NotifyTrigger } from '../src/notify/rules';
import type { ResultsStore, RunKey } from '../src/store/types';
import type { StoreWriter } from '../src/store/writer';
import type { HypothesisRow, Journal, ProbeSample, ProbeWindow, Stage } from '../src/types';
import type { SamplePhase } from '../src/store/types';
import type { GamedayMetrics } from '../src/metrics/gameday';

export interface SamplingDeps {
  probe: Omit<ProbeContext, 'window'>;
  store: ResultsStore;
  writer: StoreWriter;
  reportsDir: string;
  /** The worker's own webhook, when it has one. */
  notify?: NotifyRule;
  /** The process's Gameday metrics: guardrail detection, runs ended. */
  metrics: GamedayMetrics;
}

/** How long the report waits for samples still on their way to the store before it says they are missing. */
const REPORT_WAITS_FOR_SAMPLES_MS = 60_000;

/** The sampling environment of the current activity: its heartbeats, cancellation and last progress. */
export function samplingEnv(deps: Pick<SamplingDeps, 'probe' | 'writer'>, run: RunKey, window?: ProbeWindow): SamplingEnv {
  const ctx = Context.current();
  return {
    run,
    writer: deps.writer,
    probe: { ...deps.probe, window },
    // A local activity (verification's first round) has no heartbeat: one round, seconds at most.
    heartbeat: ctx.info.isLocal ? () => undefined : (progress: SamplingProgress) => ctx.heartbeat(progress),
    signal: ctx.cancellationSignal,
    resume: ctx.info.heartbeatDetails as SamplingProgress | undefined,
  };
}

/** Ends a cancelled activity as cancelled (after its sampler has stored what it took). */
export async function endIfCancelled(): Promise<void> {
  const ctx = Context.current();
  if (ctx.cancellationSignal.aborted) await ctx.cancelled;
}

/**
 * The activities that sample for a long time inside one activity each (observe, a guardrail,
 * verification), streaming every sample to the results store, and the report rendered from it.
 */
export function createSamplingActivities(deps: SamplingDeps) {
  return {
    /** The baseline round; also records that the run started. Returns the samples (one per check). */
    async probeBaseline(args: { run: RunKey; checks: SteadyStateCheck[]; window: ProbeWindow; start: Omit<Parameters<ResultsStore['startRun']>[0], keyof RunKey> }): Promise<ProbeSample[]> {
      // Best effort and in the background: the run's row is written again, whole, by the report.
      deps.writer.startRun({ ...args.run, ...args.start }).catch(() => undefined);
      return probeOnce({ checks: args.checks, phase: 'baseline', stage: 'baseline' }, samplingEnv(deps, args.run, args.window));
    },

    /** The observe probes every `intervalMs` until `until` (epoch ms); returns aggregates. */
    async observeProbes(args: { run: RunKey; checks: ObserveCheck[]; intervalMs: number; until: number; window: ProbeWindow }): Promise<ObserveSummary> {
      const summary = await observeUntil(args, samplingEnv(deps, args.run, args.window));
      await endIfCancelled();
      return summary;
    },

    /** One guardrail at its own interval until `until`, or until it is breached. */
    async watchGuardrail(args: { run: RunKey; guardrail: Guardrail; intervalMs: number; until: number; window: ProbeWindow }): Promise<GuardSummary> {
      const summary = await guardUntil(args, samplingEnv(deps, args.run, args.window));
      await endIfCancelled();
      // Measured as the breach leaves for the run, whose halt starts the rollback at once.
      if (summary.breach) deps.metrics.guardrailBreached(args.guardrail.probe.kind, summary.breach.at);
      return summary;
    },

    /**
     * The steady state, round after round, until it holds or the recovery window ends; at most
     * `maxRounds` rounds when given. `resume`: the progress of earlier rounds to go on from (a
     * heartbeat's, when this attempt is a retry, comes first).
     */
    async verifySteadyState(args: { run: RunKey; checks: SteadyStateCheck[]; withinMs: number; intervalMs: number; window: ProbeWindow; maxRounds?: number; resume?: SamplingProgress }): Promise<VerifySummary> {
      const env = samplingEnv(deps, args.run, args.window);
      return verifyUntilHeld(args, { ...env, resume: env.resume ?? args.resume });
    },

    /** Stores a chunk of samples a host's agent took (sampleOnHost) and returns the progress for the next. */
    async recordHostChunk(args: { run: RunKey; phase: SamplePhase; source: string; stage: Stage; progress?: SamplingProgress; rounds: ProbeSample[][]; guardrail?: Guardrail }): Promise<GuardSummary> {
      const { run, ...chunk } = args;
      const summary = await recordChunk(chunk, { run, writer: deps.writer });
      if (summary.breach && args.guardrail) deps.metrics.guardrailBreached(args.guardrail.probe.kind, summary.breach.at);
      return summary;
    },

    /**
     * Records the run's outcome in the results store and renders its report from the store
     * (journal.json with every sample, report.md). While the store is down this fails and
     * Temporal retries it; the report then says how long it waited. Given the run's `trigger`,
     * it also says which webhooks want to hear of the verdict (the workflow has them told).
     */
    async reportRun(args: { journal: Journal; expectedSamples?: number; trigger?: NotifyTrigger }): Promise<{ reportDir: string; notify?: Delivery[] }> {
      const info = Context.current().info;
      const { journal } = args;
      // Streamed from the store: the worker holds a batch of samples at a time, however long the
      // run. The read starts once the outcome is written.
      const finished = deps.store.finishRun(journal);
      // The report's rows are stored while its files are written: they do not change what it says.
      let recorded: Promise<void> = Promise.resolve();
      const read = deps.store.readRun(journal.workflowId, journal.runId, async (run) => {
        const count = run.counts.observe + run.counts.guardrail + run.counts.verify;
        const waited = Date.now() - info.scheduledTimestampMs;
        const missing = args.expectedSamples !== undefined && count < args.expectedSamples ? args.expectedSamples - count : 0;
        if (missing && waited < REPORT_WAITS_FOR_SAMPLES_MS) throw ApplicationFailure.retryable(`${missing} samples are still on their way to the results store`, 'SamplesPending');
        return writeReportFrom(deps.reportsDir, run, async (stored, d) => {
          const full: Journal = {
            ...stored,
            hypothesisVsReality: stored.plan ? hypothesisRowsFrom(stored.plan, d) : journal.hypothesisVsReality,
            store: {
              ...stored.store,
              ...(info.attempt > 1 ? { waitedMs: waited, attempts: info.attempt } : {}),
              ...(missing ? { missingSamples: missing } : {}),
            },
          };
          // The report's rows, during the fault included, are what history and the next run compare
          // (finishRun, just done, wrote the workflow's: when they are the same, nothing to write).
          if (!sameRows(full.hypothesisVsReality, journal.hypothesisVsReality)) {
            recorded = deps.store.recordExpectations(journal, full.hypothesisVsReality);
            // Awaited once the files are written; never unhandled meanwhile.
            recorded.catch(() => undefined);
          }
          // The re-validation, the run before this one compared, is part of the report: waited for.
          return { ...full, revalidation: await revalidationFor(deps.store, full) };
        });
      }, { after: finished });
      // Both settle before the activity ends; a failure of either fails it, so that Temporal retries.
      const reportDir = await read.catch(async (e: unknown) => {
        await recorded.catch(() => undefined);
        throw e;
      });
      await recorded;
      if (!reportDir) throw new Error(`the results store lost run ${journal.workflowId} right after it was written`);
      deps.metrics.experimentEnded(journal);
      if (!args.trigger) return { reportDir };
      return { reportDir, notify: deliveriesFor({ specs: journal.plan?.spec.notify, worker: deps.notify, event: journal.verdict, trigger: args.trigger }) };
    },
  };
}

/** Whether two lists of hypothesis rows would be stored as the same rows. */
function sameRows(a: HypothesisRow[], b: HypothesisRow[]): boolean {
  const row = (r: HypothesisRow) => [r.expectation, r.when, r.expected, r.observed, r.ok];
  return JSON.stringify(a.map(row)) === JSON.stringify(b.map(row));
}
