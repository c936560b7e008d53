import type { Client } from '@temporalio/client';
import { noopMetricMeter } from '@temporalio/common';
import type Docker from 'dockerode';
import { publishEvent as publish } from '../src/events';
import { checkCommands, commandsOfExperiment, commandsOfScenario, type CommandPolicy } from '../src/commands/policy';
import { createJanitorActivities } from './janitor';
import { createNotifyActivities } from './notify';
import type { DueRevertTimers } from '../src/faults/due-reverts';
import { GamedayMetrics } from '../src/metrics/gameday';
import { createFaultActivities, currentRun, heartbeating, notifyDepsOf, permanent } from './faults';
import { roundBudgetMs, runCheck } from '../src/probes';
import { writeReport as write } from '../src/report/write';
import { findExperiment, findScenario, parseExperiment, parseScenario, planExperiment as plan } from '../src/spec/loader';
import { activeFreeze, loadFreezeWindows } from '../src/spec/freeze-windows';
import { planStages } from '../src/spec/plan-scenario';
import { writeScenarioReport as writeScenario } from '../src/report/scenario';
import type { Guardrail, ObserveCheck, SteadyStateCheck } from '../src/spec/schema';
import { checkSecrets } from '../src/targets';
import type { NotifyRule } from '../src/notify/rules';
import type { ResultsStore } from '../src/store/types';
import type { StoreWriter } from '../src/store/writer';
import type { ExperimentInput, ExperimentPlan, FreezeHit, Journal, PlannedFault, ProbeSample, ProbeWindow, ResolvedTarget, ScenarioInput, ScenarioJournal, ScenarioPlan, Stage } from '../src/types';
import type { Experiment } from '../src/spec/schema';
import type { VerifySummary } from '../src/observe/sampling';
import { createSamplingActivities } from './sampling';
import { createHostSamplingActivities } from './host-sampling';
import { startRecordOf, type BaselineHere } from '../src/run-start';

export interface ActivityDeps {
  docker: Docker;
  /** For the janitor, which lists closed experiments. */
  client?: Client;
  experimentsDir: string;
  reportsDir: string;
  /** Container names allowed without the opt-in label. */
  allowedTargets: string[];
  /** Which commands this worker runs (src/commands/policy.ts). @default those of experimentsDir's files only */
  commandPolicy?: CommandPolicy;
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

export { tellsWorkflowAt } from './faults';

/**
 * The activities, thin over src/. Dependencies come in through the factory so that a test can
 * hand in others (another Docker engine, a temporary reports folder).
 */
export function createActivities(deps: ActivityDeps) {
  // One instance for the sampling and the fault activities: the gauges count across both.
  const metrics = deps.metrics ?? new GamedayMetrics(noopMetricMeter);
  const commandPolicy = deps.commandPolicy ?? { allowInline: false, catalogDir: deps.experimentsDir };
  const activities = {
    ...createSamplingActivities({ probe: { docker: deps.docker, env: deps.env }, store: deps.store, writer: deps.writer, reportsDir: deps.reportsDir, notify: deps.notify, metrics }),
    ...createHostSamplingActivities({ probe: { docker: deps.docker, env: deps.env }, writer: deps.writer, metrics }),
    ...createNotifyActivities(notifyDepsOf(deps)),
    ...createFaultActivities({ ...deps, commandPolicy, metrics }),
    /** Validates the input (a catalog id or a whole spec) and fills in its defaults. */
    async planExperiment(input: ExperimentInput): Promise<ExperimentPlan> {
      const planned = await permanent(async () => {
        if ('experiment' in input) {
          const { spec, file } = await findExperiment(deps.experimentsDir, input.experiment);
          return plan(spec, file);
        }
        const source = input.source ?? '<input>';
        const spec = parseExperiment(input.spec, source);
        // Given inline (its `source` is the sender's word, not proof): its commands must be the catalog's.
        await checkCommands(commandsOfExperiment(spec), source, commandPolicy);
        return plan(spec, source);
      });
      // Running from its plan to its report (a scenario plans its stages elsewhere).
      const run = currentRun();
      if (run) metrics.experimentStarted(run);
      return { ...planned, timing: { ...planned.timing, steadyStateRoundMs: roundBudgetMs(planned.spec.steadyState) } };
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

    async writeReport(journal: Journal): Promise<{ reportDir: string }> {
      const reportDir = await write(deps.reportsDir, journal);
      metrics.experimentEnded(journal);
      return { reportDir };
    },

    /** Validates a scenario (an id or a whole spec) and gives each stage its experiment input. */
    async planScenario(input: ScenarioInput): Promise<ScenarioPlan> {
      return permanent(async () => {
        const { spec, file } = 'scenario' in input ? await findScenario(deps.experimentsDir, input.scenario) : { spec: parseScenario(input.spec, input.source ?? '<input>'), file: input.source ?? '<input>' };
        if (!('scenario' in input)) await checkCommands(commandsOfScenario(spec), file, commandPolicy);
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
  return {
    ...activities,
    /**
     * revertFault, then, when asked, the first verification round (verifySteadyState of one
     * round): one local activity where a short run would make two. A round that fails is no
     * verification: the workflow verifies as it would have.
     */
    async revertThenVerify(f: PlannedFault, opts: Parameters<typeof activities.revertFault>[1], verify?: FirstRound): Promise<{ lines: string[]; verified?: VerifySummary }> {
      const lines = await activities.revertFault(f, opts);
      if (!verify) return { lines };
      return activities.verifySteadyState({ ...verify, maxRounds: 1 }).then(
        (verified) => ({ lines, verified }),
        () => ({ lines }),
      );
    },

    /**
     * reportRun, then the `experiment-finished` event: one local activity where a short run would
     * make two. The event is best effort, as everywhere (no NATS configured, or NATS down): one
     * that does not go out does not fail the report.
     */
    async reportAndPublish(args: Parameters<typeof activities.reportRun>[0] & { finished: Record<string, unknown> }): Promise<Awaited<ReturnType<typeof activities.reportRun>>> {
      const { finished, ...report } = args;
      const done = await activities.reportRun(report);
      await activities.publishEvent({ kind: 'experiment-finished', payload: { ...finished, reportDir: done.reportDir } }).catch(() => false);
      return done;
    },

    /**
     * planExperiment, then resolveTargets when nothing of the plan is on another host: one local
     * activity where a run would make two. No targets when the plan names a host, or when they do
     * not resolve (the workflow resolves them again, to fail with resolveTargets' own error).
     * Given `baseline`, and when the round is quick and the lock is not waited for, the baseline
     * round too (probeBaseline): the workflow then starts its locks knowing the steady state. A
     * round that fails to run is left to the workflow, which takes it as before.
     */
    async planAndResolve(input: ExperimentInput, baseline?: BaselineHere): Promise<{ plan: ExperimentPlan; targets?: ResolvedTarget[]; baseline?: ProbeSample[] }> {
      const plan = await activities.planExperiment(input);
      if (namesAHost(plan.spec)) return { plan };
      const targets = await activities.resolveTargets(plan).catch(() => undefined);
      if (!targets) return { plan };
      const roundMs = plan.timing.steadyStateRoundMs;
      if (!baseline || plan.spec.lock?.whenBusy === 'wait' || roundMs === undefined || roundMs > baseline.maxRoundMs) return { plan, targets };
      const { run, window, startedAt, trigger } = baseline;
      const samples = await activities.probeBaseline({ run, checks: plan.spec.steadyState, window, start: startRecordOf(plan, startedAt, trigger) }).catch(() => undefined);
      return samples ? { plan, targets, baseline: samples } : { plan, targets };
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;

/** Whether a target or a check of the experiment is on another host (an agent's work, planned by the workflow). */
function namesAHost(spec: Experiment): boolean {
  const checks = [...spec.steadyState, ...(spec.observe?.probes ?? []), ...(spec.guardrails ?? [])];
  return Object.values(spec.targets).some((t) => t.host !== undefined) || checks.some((c) => c.probe.host !== undefined);
}

/** The first verification round's arguments (verifySteadyState's, without maxRounds). */
export type FirstRound = Omit<Parameters<ReturnType<typeof createSamplingActivities>['verifySteadyState']>[0], 'maxRounds' | 'resume'>;
