import { maskUrl } from './url';

/**
 * The results store cannot be reached (refused, timed out, the server shutting down). A plain
 * Error, not a GamedayError, on purpose: activities map GamedayErrors to non-retryable failures,
 * and a store that is down is transient, so its writes must be retried.
 */
export class ResultsStoreUnreachable extends Error {
  constructor(
    readonly url: string,
    what: string,
    readonly cause: unknown,
  ) {
    super(`the results store at ${maskUrl(url)} is unreachable (${what}): ${messageOf(cause)}`);
    this.name = 'ResultsStoreUnreachable';
  }
}

/** A query of the results store failed for another reason than reachability (a bug, a constraint). */
export class ResultsStoreError extends Error {
  constructor(
    readonly url: string,
    what: string,
    readonly cause: unknown,
  ) {
    super(`the results store at ${maskUrl(url)} failed to ${what}: ${messageOf(cause)}`);
    this.name = 'ResultsStoreError';
  }
}

// SQLSTATE classes 08 (connection exception) and 57P (operator intervention: shutdown, crash),
// plus 53300 (too many connections): the server is not there for us right now.
const UNREACHABLE_SQLSTATE = /^(08|57P|53300)/;
const UNREACHABLE_CODE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);
const UNREACHABLE_MESSAGE = /timeout|terminated|Connection terminated|ended unexpectedly|not queryable/i;

/** True when an error from pg says the server could not be reached or went away. */
export function isUnreachable(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown; errors?: unknown[] } | undefined;
  if (!err) return false;
  if (Array.isArray(err.errors) && err.errors.some(isUnreachable)) return true;
  const code = typeof err.code === 'string' ? err.code : '';
  if (UNREACHABLE_CODE.has(code) || UNREACHABLE_SQLSTATE.test(code)) return true;
  // pg signals its own timeouts and lost connections by message only.
  return !code && typeof err.message === 'string' && UNREACHABLE_MESSAGE.test(err.message);
}

/** The error to throw for a failed store call: unreachable or not, naming the URL masked. */
export function storeFailure(url: string, what: string, e: unknown): Error {
  return isUnreachable(e) ? new ResultsStoreUnreachable(url, what, e) : new ResultsStoreError(url, what, e);
}

function messageOf(e: unknown): string {
  if (e instanceof AggregateError && e.errors.length) return e.errors.map(messageOf).join('; ');
  const m = e instanceof Error ? e.message : String(e);
  return m || (e as { code?: string }).code || 'unknown error';
}
