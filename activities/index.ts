import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { noopMetricMeter } from '@temporalio/common';
import type Docker from 'dockerode';
import { GamedayError } from '../src/errors';
import { publishEvent as publish } from '../src/events';
import { createJanitorActivities } from './janitor';
import { createNotifyActivities, notifyRollbackFailing, type RevertRun } from './notify';
import { injectFault as inject, revertFault as revert } from '../src/faults';
import { dueKey, DueReverts, type DueRevertTimers } from '../src/faults/due-reverts';
import { stillInPlace } from './due-check';
import { GamedayMetrics } from '../src/metrics/gameday';
import { runCheck } from '../src/probes';
import { writeReport as write } from '../src/report/write';
import { findExperiment, findScenario, parseExperiment, parseScenario, planExperiment as plan } from '../src/spec/loader';
import { activeFreeze, loadFreezeWindows } from '../src/spec/freeze-windows';
import { planStages } from '../src/spec/plan-scenario';
import { writeScenarioReport as writeScenario } from '../src/report/scenario';
import type { Guardrail, ObserveCheck, SteadyStateCheck } from '../src/spec/schema';
import { checkSecrets, resolveTargets as resolve } from '../src/targets';
import type { NotifyRule } from '../src/notify/rules';
import type { ResultsStore } from '../src/store/types';
import type { StoreWriter } from '../src/store/writer';
import type { ExperimentInput, ExperimentPlan, FreezeHit, Journal, PlannedFault, ProbeSample, ProbeWindow, ResolvedTarget, ScenarioInput, ScenarioJournal, ScenarioPlan, Stage } from '../src/types';
import { rollbackFailingSignal } from '../workflows/definitions';
import { createSamplingActivities } from './sampling';

export interface ActivityDeps {
  docker: Docker;
  /** For the janitor, which lists closed experiments. */
  client?: Client;
  experimentsDir: string;
  reportsDir: string;
  /** Container names allowed without the opt-in label. */
  allowedTargets: string[];
  /** Where events go; none when unset. */
  eventsNatsUrl?: string;
  /** The freeze-window file scheduled runs check; none checked when unset. */
  freezeFile?: string;
  /** A missing freeze file is an error (it was named explicitly), not "no windows". */
  freezeFileRequired?: boolean;
  /** Where secret references are resolved from. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** The results store, and the worker's queue of writes to it. */
  store: ResultsStore;
  writer: StoreWriter;
  /** The worker's due-time reverts (src/faults/due-reverts.ts); one of its own when absent. */
  dueReverts?: DueRevertTimers;
  /** The worker's own webhook (GAMEDAY_NOTIFY_URL …); none when unset. */
  notify?: NotifyRule;
  /** The Temporal Web UI's address (links in notifications); default http://127.0.0.1:8233. */
  uiUrl?: string;
  /** The namespace, for those links; default `default`. */
  namespace?: string;
  /** The process's Gameday metrics (src/metrics/gameday.ts); none recorded when absent. */
  metrics?: GamedayMetrics;
}

/**
 * The attempts of a failing revert at which the workflow is told (3, 6, 12, 24 …): a revert that
 * fails for a day adds a dozen signals to its history, not one per attempt.
 */
export function tellsWorkflowAt(attempt: number): boolean {
  if (attempt < 3) return false;
  const rounds = attempt / 3;
  return Number.isInteger(rounds) && (rounds & (rounds - 1)) === 0;
}

/** Permanent problems fail at once; anything else is left to Temporal's retries. */
async function permanent<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof GamedayError) throw ApplicationFailure.nonRetryable(e.message, e.type);
    throw e;
  }
}

/**
 * Heartbeats while `fn` runs, so that a worker that dies mid-activity is noticed within the
 * activity's heartbeat timeout (seconds), not its start-to-close timeout.
 */
async function heartbeating<T>(fn: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  ctx.heartbeat();
  const timer = setInterval(() => ctx.heartbeat(), 500);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

/**
 * The activities, thin over src/. Dependencies come in through the factory so that a test can
 * hand in others (another Docker engine, a temporary reports folder).
 */
export function createActivities(deps: ActivityDeps) {
  const dueReverts = deps.dueReverts ?? new DueReverts();
  const metrics = deps.metrics ?? new GamedayMetrics(noopMetricMeter);
  /** The current activity's run, absent outside a workflow (a test calling the function). */
  const runOf = (): { workflowId: string; runId: string } | undefined => {
    try {
      return Context.current().info.workflowExecution;
    } catch {
      return undefined;
    }
  };
  const notifyDeps = { notify: deps.notify, uiUrl: deps.uiUrl ?? 'http://127.0.0.1:8233', namespace: deps.namespace ?? 'default', env: deps.env };
  return {
    ...createSamplingActivities({ probe: { docker: deps.docker, env: deps.env }, store: deps.store, writer: deps.writer, reportsDir: deps.reportsDir, notify: deps.notify, metrics }),
    ...createNotifyActivities(notifyDeps),
    /** Validates the input (a catalog id or a whole spec) and fills in its defaults. */
    async planExperiment(input: ExperimentInput): Promise<ExperimentPlan> {
      const planned = await permanent(async () => {
        if ('experiment' in input) {
          const { spec, file } = await findExperiment(deps.experimentsDir, input.experiment);
          return plan(spec, file);
        }
        const source = input.source ?? '<input>';
        return plan(parseExperiment(input.spec, source), source);
      });
      // Running from its plan to its report (a scenario plans its stages elsewhere).
      const run = runOf();
      if (run) metrics.experimentStarted(run);
      return planned;
    },

    /**
     * Checks that this worker sets every secret the experiment references, then resolves every
     * target, enforcing opt-in and blast radius: all before anything is injected.
     */
    async resolveTargets(p: ExperimentPlan): Promise<ResolvedTarget[]> {
      return permanent(async () => {
        checkSecrets(p.spec, p.source, deps.env);
        return resolve(deps, p.spec, { allowlist: deps.allowedTargets });
      });
    },

    /**
     * Runs a round of checks in parallel; a failing probe is a sample with its error, not an
     * exception. `window` (absent in runs recorded before it existed) says when the baseline and
     * the first fault began, for probes that count since then (docker-logs).
     */
    async runChecks(args: { checks: (SteadyStateCheck | ObserveCheck)[]; stage: Stage; window?: ProbeWindow }): Promise<ProbeSample[]> {
      const ctx = { docker: deps.docker, env: deps.env, window: args.window };
      return heartbeating(() => Promise.all(args.checks.map((c) => runCheck(c, args.stage, ctx))));
    },

    /** One sample of a guardrail: its `abortWhen` conditions judged (an expectation met is a breach). */
    async probeGuardrail(g: Guardrail, window?: ProbeWindow): Promise<ProbeSample> {
      return heartbeating(() => runCheck({ name: g.name, probe: g.probe, expect: g.abortWhen }, 'observe', { docker: deps.docker, env: deps.env, window }));
    },

    /** Returns what the inject did, in lines for the run's events (may be none). */
    async injectFault(f: PlannedFault): Promise<string[]> {
      Context.current().log.info(`inject ${f.id}: ${f.description}`);
      const lines = await heartbeating(() => permanent(() => inject(deps, f)));
      const run = runOf();
      if (run) metrics.faultInjected(run, f.id, f.fault.kind);
      return lines;
    },

    /**
     * Injects, then arms the revert at the fault's due time in this worker (injected now + its
     * duration), which needs no workflow task: under load the workflow's own timer and revert
     * come later, and find the fault reverted already. Returns when it was injected and is due.
     */
    async injectFaultUntilDue(f: PlannedFault): Promise<{ lines: string[]; injectedAt: string; dueAt?: string }> {
      const ctx = Context.current();
      ctx.log.info(`inject ${f.id}: ${f.description}`);
      const lines = await heartbeating(() => permanent(() => inject(deps, f)));
      const injectedAt = Date.now();
      const run = ctx.info.workflowExecution;
      if (run) metrics.faultInjected(run, f.id, f.fault.kind);
      if (f.durationMs === undefined) return { lines, injectedAt: new Date(injectedAt).toISOString() };
      const dueAtMs = injectedAt + f.durationMs;
      const client = deps.client;
      if (client && run) {
        dueReverts.arm({
          key: dueKey(run, f.id),
          dueAtMs,
          fault: f,
          stillInPlace: () => stillInPlace(client, run, f.id),
          revert: () => revert(deps, f),
          onDone: (o) => {
            if (o.reverted) metrics.faultReverted(run, f.id, f.fault.kind, 'due-time', dueAtMs, o.at.getTime());
            else if (o.failed) metrics.revertFailed(run, f.id, f.fault.kind, 'due-time');
            else metrics.faultGone(run, f.id);
            ctx.log.info(o.reverted ? `reverted ${f.id} at its due time` : `no due-time revert of ${f.id}: ${o.why}`);
          },
        });
      }
      return { lines, injectedAt: new Date(injectedAt).toISOString(), dueAt: new Date(dueAtMs).toISOString() };
    },

    /**
     * Idempotent. Runs recorded before bounded histories retry it in rounds from the workflow;
     * newer runs give it a retry policy without limit and `tell: true`: at a few attempts
     * (tellsWorkflowAt) the activity signals the workflow that its rollback is failing, and
     * publishes the event, so a revert failing for hours costs a handful of history events.
     * With `run` (runs since notifications), it also tells the webhooks that want rollbackFailing,
     * in the background: no receiver can delay the next attempt.
     */
    async revertFault(f: PlannedFault, opts: { tell?: boolean; run?: RevertRun } = {}): Promise<string[]> {
      const ctx = Context.current();
      ctx.log.info(`revert ${f.id}: ${f.description}`);
      const due = ctx.info.workflowExecution ? await dueReverts.disarm(dueKey(ctx.info.workflowExecution, f.id)) : undefined;
      const run = ctx.info.workflowExecution;
      try {
        const lines = await heartbeating(() => revert(deps, f));
        if (run) metrics.faultReverted(run, f.id, f.fault.kind, 'workflow', f.dueAt ? Date.parse(f.dueAt) : undefined);
        // What the due-time revert did is the news; this second, idempotent one finds it done.
        return due?.reverted ? [`reverted at its due time by the worker that injected it (${due.at.toISOString()})`, ...due.lines, ...lines.map((l) => `then: ${l}`)] : lines;
      } catch (err) {
        if (run) metrics.revertFailed(run, f.id, f.fault.kind, 'workflow');
        const { attempt, workflowExecution } = ctx.info;
        if (opts.tell && workflowExecution && tellsWorkflowAt(attempt)) {
          const failing = { faultId: f.id, description: f.description, attempts: attempt, error: (err as Error).message, since: new Date(ctx.info.scheduledTimestampMs).toISOString() };
          notifyRollbackFailing(notifyDeps, opts.run, {
            ...workflowExecution,
            reason: failing.error,
            fault: { id: f.id, description: f.description, attempts: attempt, since: failing.since },
            at: new Date().toISOString(),
          });
          await Promise.allSettled([
            deps.client?.workflow.getHandle(workflowExecution.workflowId, workflowExecution.runId).signal(rollbackFailingSignal, failing),
            deps.eventsNatsUrl ? publish(deps.eventsNatsUrl, 'rollback-failing', { workflowId: workflowExecution.workflowId, ...failing }) : undefined,
          ]);
        }
        throw err;
      }
    },

    async writeReport(journal: Journal): Promise<{ reportDir: string }> {
      const reportDir = await write(deps.reportsDir, journal);
      metrics.experimentEnded(journal);
      return { reportDir };
    },

    /** Validates a scenario (an id or a whole spec) and gives each stage its experiment input. */
    async planScenario(input: ScenarioInput): Promise<ScenarioPlan> {
      return permanent(async () => {
        const { spec, file } = 'scenario' in input ? await findScenario(deps.experimentsDir, input.scenario) : { spec: parseScenario(input.spec, input.source ?? '<input>'), file: input.source ?? '<input>' };
        const plan = planStages(spec, file);
        // Every stage's secrets before the first stage injects anything. A stage that does not load
        // is left to fail as its own child run does, as before.
        for (const stage of plan.stages) {
          const stageInput = stage.input;
          const staged = await (async () => ('experiment' in stageInput ? findExperiment(deps.experimentsDir, stageInput.experiment) : { spec: parseExperiment(stageInput.spec, stageInput.source), file: stageInput.source ?? file }))().catch(() => undefined);
          if (staged) checkSecrets(staged.spec, `stage ${stage.name} of scenario ${spec.id}, ${staged.file}`, deps.env);
        }
        return plan;
      });
    },

    async writeScenarioReport(journal: ScenarioJournal): Promise<{ reportDir: string }> {
      return { reportDir: await writeScenario(deps.reportsDir, journal) };
    },

    /** Publishes an event on NATS when GAMEDAY_EVENTS_NATS_URL is set; reports whether it did. */
    async publishEvent(args: { kind: string; payload: Record<string, unknown> }): Promise<boolean> {
      if (!deps.eventsNatsUrl) return false;
      await publish(deps.eventsNatsUrl, args.kind, args.payload);
      return true;
    },

    /**
     * The freeze window this moment falls in, or null. A freeze file that does not validate fails
     * the activity for good: a scheduled run then ends with verdict error, nothing injected.
     */
    async checkFreeze(): Promise<FreezeHit | null> {
      if (!deps.freezeFile) return null;
      const file = deps.freezeFile;
      return permanent(async () => activeFreeze(await loadFreezeWindows(file, deps.freezeFileRequired), new Date()) ?? null);
    },

    // The janitor's, in a file of their own.
    ...createJanitorActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
