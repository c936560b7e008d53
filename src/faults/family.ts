import type Docker from 'dockerode';
import { GamedayError, type FailureType } from '../errors';
import type { FaultSpec, TargetKind, TargetSpec } from '../spec/schema';
import type { PlannedFault, TargetRef } from '../types';
import type { FaultKindName } from './kinds';

export { tagOf } from './refs';

/** What the fault families need from the worker. */
export interface FaultDeps {
  docker: Docker;
  /**
   * How long after its planned duration a self-limiting fault ends on its own when no revert came
   * (every worker dead or stuck).
   * @default half the duration, at least 10 s and at most 60 s (see selfLimitMs)
   */
  selfLimitGraceMs?: number;
  /** Where `${env:NAME}` references in targets and faults are resolved from. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** How long a fault without a recorded duration (a run recorded before durations were) may last. */
export const DEFAULT_SELF_LIMIT_MS = 10 * 60_000;

/**
 * How long, from inject, a self-limiting fault lasts when no revert comes (every worker dead or
 * stuck): its duration plus a grace of half of it again, at least 10 s and at most 60 s, so that
 * it outlasts a revert that comes a little late but never the experiment by much. One rule for
 * every family: iptables rules, stress processes, held connections, a paused process's watchdog.
 */
export function selfLimitMs(deps: FaultDeps, planned: PlannedFault): number {
  const duration = planned.durationMs ?? DEFAULT_SELF_LIMIT_MS;
  return duration + (deps.selfLimitGraceMs ?? Math.min(60_000, Math.max(10_000, duration / 2)));
}

/** When a self-limiting fault injected `now` ends by itself (ms since the epoch). */
export function selfLimitDeadline(deps: FaultDeps, planned: PlannedFault, now = Date.now()): number {
  return now + selfLimitMs(deps, planned);
}

/** Who may be a target without opting in: the worker's GAMEDAY_ALLOWED_TARGETS. */
export interface TargetPolicy {
  /** Container names, process patterns or addresses (host:port, URLs) allowed without opting in. */
  allowlist: string[];
}

/** What one target resolved to, before the blast-radius check. */
export interface Resolution {
  /** The selector in words: "container demo-nats", "postgres 127.0.0.1:15432/app". */
  selector: string;
  refs: TargetRef[];
}

/** A planned fault of kind N. */
export type PlannedOf<N extends FaultKindName> = PlannedFault & { fault: Extract<FaultSpec, { kind: N }> };

/**
 * What one fault kind does to the world. `revert` is idempotent (reverting twice, or reverting a
 * fault whose inject never happened, succeeds) and returns one line per thing it looked at, for
 * the rollback record.
 */
export interface FaultAction<N extends FaultKindName> {
  /** Returns nothing, or lines for the run's events (e.g. how many backends it terminated). */
  inject(deps: FaultDeps, planned: PlannedOf<N>): Promise<string[] | void>;
  revert(deps: FaultDeps, planned: PlannedOf<N>): Promise<string[]>;
}

/** The fault kinds of target kind K: those named `K-…` in src/faults/kinds. */
export type FaultKindOf<K extends TargetKind> = Extract<FaultKindName, `${K}-${string}`>;

/** The actions of every fault kind of a family: one missing does not compile. */
export type FaultActions<K extends TargetKind> = { [N in FaultKindOf<K>]: FaultAction<N> };

/**
 * One family of faults (docker, postgres, toxiproxy, process, http): how its targets resolve, and
 * what each of its fault kinds does (their schemas and words are in src/faults/kinds/).
 */
export interface FaultFamily<K extends TargetKind = TargetKind> {
  /**
   * @throws GamedayError TargetNotFound when nothing matches, TargetNotAllowed when a match has
   *   not opted in.
   */
  resolve(deps: FaultDeps, name: string, spec: Extract<TargetSpec, { kind: K }>, policy: TargetPolicy): Promise<Resolution>;
  faults: FaultActions<K>;
}

/** The target spec a planned fault acts on, checked to be of the family's kind. */
export function targetSpecOf<K extends TargetKind>(planned: PlannedFault, kind: K): Extract<TargetSpec, { kind: K }> {
  const spec = planned.target.spec;
  if (!spec || spec.kind !== kind) throw new Error(`fault ${planned.id} (${planned.fault.kind}) has no ${kind} target recorded`);
  return spec as Extract<TargetSpec, { kind: K }>;
}


/**
 * A refusal that is about one field of the experiment file (a compose service that matches several
 * containers: `targets.nats.compose`). resolveTargets names the file and the field in the message.
 */
export class SpecFieldError extends GamedayError {
  constructor(
    type: FailureType,
    readonly field: string,
    message: string,
  ) {
    super(type, message);
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * Addresses on this machine are fair game for a local game day; anything else must be named in
 * the allowlist (as host, host:port or the whole URL).
 * @returns undefined when allowed, else why not.
 */
export function addressNotAllowed(url: URL, policy: TargetPolicy): string | undefined {
  if (LOOPBACK.has(url.hostname)) return undefined;
  const candidates = [url.hostname, url.host, url.href, url.origin];
  if (candidates.some((c) => policy.allowlist.includes(c))) return undefined;
  return `${url.host} is not on this machine: add ${url.host} to GAMEDAY_ALLOWED_TARGETS on the worker to allow it`;
}

/**
 * A revert (or inject) that could not reach what it acts on: the Docker engine, a Toxiproxy API,
 * a database server, a fault endpoint. Retryable (a plain error to Temporal, of type
 * `TargetUnreachable`), and its message says "unreachable". Something that answered and no longer
 * has the target is not this: that is "gone", nothing to revert.
 */
export class TargetUnreachable extends Error {
  constructor(what: string, cause: unknown) {
    super(`${what} is unreachable: ${causeMessage(cause)}`);
    this.name = 'TargetUnreachable';
  }
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);

/** The innermost message of an error (fetch hides the socket's error in `cause`). */
export function causeMessage(e: unknown): string {
  const err = e as Error & { cause?: unknown };
  return err?.cause instanceof Error ? causeMessage(err.cause) : (err?.message ?? String(e));
}

/** Whether an error is a failure to connect or a connection lost, not an answer. */
export function isConnectionError(e: unknown): boolean {
  for (let err = e as (Error & { code?: string; cause?: unknown }) | undefined; err; err = err.cause as typeof err) {
    if (err.code && CONNECTION_CODES.has(err.code)) return true;
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return true;
    if (/connect ECONNREFUSED|connect ENOENT|socket hang up|Connection terminated|timeout expired/i.test(err.message ?? '')) return true;
    if (!(err.cause instanceof Error)) break;
  }
  return false;
}
