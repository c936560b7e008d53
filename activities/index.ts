import { ApplicationFailure, Context } from '@temporalio/activity';
import type Docker from 'dockerode';
import { GamedayError } from '../src/errors';
import { resolveDockerTarget } from '../src/faults/docker';
import { injectFault as inject, revertFault as revert } from '../src/faults';
import { runCheck } from '../src/probes';
import { writeReport as write } from '../src/report/write';
import { findExperiment, parseExperiment, planExperiment as plan } from '../src/spec/loader';
import type { ObserveCheck, SteadyStateCheck } from '../src/spec/schema';
import type { ExperimentInput, ExperimentPlan, Journal, PlannedFault, ProbeSample, ResolvedTarget, Stage } from '../src/types';

export interface ActivityDeps {
  docker: Docker;
  experimentsDir: string;
  reportsDir: string;
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
 * The experiment's activities, thin over src/. Dependencies come in through the factory so that
 * a test can hand in others (another Docker engine, a temporary reports folder).
 */
export function createActivities(deps: ActivityDeps) {
  return {
    /** Validates the input (a catalog id or a whole spec) and fills in its defaults. */
    async planExperiment(input: ExperimentInput): Promise<ExperimentPlan> {
      return permanent(async () => {
        if ('experiment' in input) {
          const { spec, file } = await findExperiment(deps.experimentsDir, input.experiment);
          return plan(spec, file);
        }
        const source = input.source ?? '<input>';
        return plan(parseExperiment(input.spec, source), source);
      });
    },

    /** Resolves every target to the containers it names now; fails when one matches nothing. */
    async resolveTargets(p: ExperimentPlan): Promise<ResolvedTarget[]> {
      return permanent(() => Promise.all(Object.entries(p.spec.targets).map(([name, spec]) => resolveDockerTarget(deps.docker, name, spec))));
    },

    /** Runs a round of checks in parallel; a failing probe is a sample with its error, not an exception. */
    async runChecks(args: { checks: (SteadyStateCheck | ObserveCheck)[]; stage: Stage }): Promise<ProbeSample[]> {
      return Promise.all(args.checks.map((c) => runCheck(c, args.stage)));
    },

    async injectFault(f: PlannedFault): Promise<void> {
      Context.current().log.info(`inject ${f.id}: ${f.description}`);
      return permanent(() => inject(deps, f));
    },

    /** Idempotent; retried by the workflow until it succeeds. */
    async revertFault(f: PlannedFault): Promise<string[]> {
      Context.current().log.info(`revert ${f.id}: ${f.description}`);
      return revert(deps, f);
    },

    async writeReport(journal: Journal): Promise<{ reportDir: string }> {
      return { reportDir: await write(deps.reportsDir, journal) };
    },
  };
}

