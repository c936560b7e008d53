/**
 * The signals and queries of Gameday's workflows, in one file that imports nothing but types: the
 * CLI and tests use these typed definitions instead of string names, and `gameday run` imports
 * them without loading @temporalio/workflow (what its defineSignal and defineQuery return is
 * just this: a kind and a name).
 */
import type { QueryDefinition, SignalDefinition } from '@temporalio/common';
import type { ExperimentStatus, ScenarioStageRecord } from '../src/types';

const defineSignal = <Args extends unknown[]>(name: string): SignalDefinition<Args> => ({ type: 'signal', name }) as SignalDefinition<Args>;
const defineQuery = <Ret>(name: string): QueryDefinition<Ret> => ({ type: 'query', name }) as QueryDefinition<Ret>;

/** Halt the experiment: skip to rollback at once. The argument is the reason, for the report. */
export const abortSignal = defineSignal<[string]>('abort');
/** Stage, active faults, a failing rollback, and the last value of every probe. */
export const statusQuery = defineQuery<ExperimentStatus>('status');

/** Abort a scenario: its running stages are aborted newest first. */
export const abortScenarioSignal = defineSignal<[string]>('abort');
/** A scenario's iteration and its stages. */
export const scenarioStatusQuery = defineQuery<{ iteration: number; stages: ScenarioStageRecord[] }>('status');

/**
 * Sent by a revert activity that keeps failing (at attempts 3, 6, 12, 24 …): the workflow shows
 * the rollback as failing in its status, details and `GamedayRollbackFailing`.
 */
export const rollbackFailingSignal = defineSignal<[NonNullable<ExperimentStatus['rollbackFailing']>]>('rollbackFailing');
