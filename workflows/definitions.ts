/**
 * The signals and queries of Gameday's workflows, in one file that imports nothing but the SDK's
 * definers and types: the CLI and tests use these typed definitions instead of string names.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ExperimentStatus, ScenarioStageRecord } from '../src/types';

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
