/**
 * The failure types Gameday raises, in one place. Activities throw them as non-retryable
 * Temporal failures (`ApplicationFailure.nonRetryable(message, type)`) so that the workflow
 * can tell a permanent problem from a transient one by its `type`.
 *
 * A deviation from the steady state is not here: it is a result (verdict `failed`), not an error.
 */
export const FailureType = {
  /** An experiment file or spec does not validate. */
  InvalidExperiment: 'InvalidExperiment',
  /** No experiment with that id exists in the catalog. */
  ExperimentNotFound: 'ExperimentNotFound',
  /** A target selector matched nothing. */
  TargetNotFound: 'TargetNotFound',
  /** A target container has not opted in (label gameday.enabled=true, or the worker's allowlist). */
  TargetNotAllowed: 'TargetNotAllowed',
  /** The target is in a state the fault cannot act on (a stopped container, a worker without root). */
  FaultNotInjectable: 'FaultNotInjectable',
  /** A fault would touch more containers than its maxTargets. */
  BlastRadiusExceeded: 'BlastRadiusExceeded',
  /** The configuration (environment variables) does not validate. */
  InvalidConfig: 'InvalidConfig',
  /** The freeze-window file does not validate (or was named and cannot be read). */
  InvalidFreezeWindows: 'InvalidFreezeWindows',
  /** A schedule command names a schedule Gameday does not own (or none at all). */
  ScheduleNotOwned: 'ScheduleNotOwned',
  /** A secret reference `${env:NAME}` names a variable the worker's environment does not set. */
  SecretMissing: 'SecretMissing',
  /** No agent of a target's host (`gameday agent --host NAME`) took the run's work in time: nothing injected. */
  AgentMissing: 'AgentMissing',
  /**
   * A command (a command probe, a docker-exec fault, process-kill's restart) that no file of the
   * worker's catalog holds, on a worker without GAMEDAY_ALLOW_INLINE_COMMANDS=true.
   */
  CommandNotAllowed: 'CommandNotAllowed',
} as const;

export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** An error with a failure type, thrown by library code and mapped to a Temporal failure by activities. */
export class GamedayError extends Error {
  constructor(
    readonly type: FailureType,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

/** One problem found in an experiment file: where it is and what is wrong. */
export interface SpecProblem {
  /** The file the problem is in, or '<input>' for a spec given inline. */
  file: string;
  /** The field's path, dotted: `method.0.fault.kind`; empty for the whole document. */
  path: string;
  message: string;
}

/** Every problem found in one or more experiment files. */
export class InvalidExperimentError extends GamedayError {
  constructor(readonly problems: SpecProblem[]) {
    super(FailureType.InvalidExperiment, problems.map(formatProblem).join('\n'));
  }
}

/** `file: path: message`, the line `gameday validate` prints for each problem. */
export function formatProblem(p: SpecProblem): string {
  return p.path ? `${p.file}: ${p.path}: ${p.message}` : `${p.file}: ${p.message}`;
}
