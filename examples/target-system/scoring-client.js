'use strict';
// The resilient build's scoring client (DEMO_BUILD=resilient; worker.js uses it instead of its
// own): the remediations chaos-006 recommends.
// - 429 is "later", not "never": the wait is the answer's Retry-After (seconds or a date), else a
//   backoff of 1 s, 2 s, … capped at MAX_WAIT_MS.
// - A circuit breaker (opossum) around the call opens after repeated 5xx or timeouts, and lets one
//   trial call through every RESET_MS: while it is open no call is made at all.
// - A message that still has no score after its attempts, or meets the open circuit, is deferred
//   (the worker naks it with the delay, JetStream redelivers it) instead of being marked failed.
//   Only a 4xx other than 429, or MAX_DELIVERIES deliveries, fails it.
const CircuitBreaker = require('opossum');
const { config, log, sleep } = require('./lib');

const MAX_WAIT_MS = 5000;
const RESET_MS = 5000;
const MAX_DELIVERIES = 20;

/** An error that says when to try the message again: the worker naks it with `deferMs`. */
class Deferred extends Error {
  constructor(message, deferMs, attempts) {
    super(message);
    this.deferMs = deferMs;
    this.attempts = attempts;
  }
}

/** Retry-After in ms (delta-seconds or an HTTP date), or undefined when absent or unreadable. */
function retryAfterMs(header) {
  if (header === null || header === undefined || header === '') return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}

async function callScoring(text) {
  const res = await fetch(`${config.scoringUrl}/score`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
    signal: AbortSignal.timeout(config.scoringTimeoutMs),
  });
  if (!res.ok) {
    const error = new Error(`scoring answered ${res.status}`);
    error.status = res.status;
    error.retryAfterMs = retryAfterMs(res.headers.get('retry-after'));
    throw error;
  }
  return (await res.json()).score;
}

const breaker = new CircuitBreaker(callScoring, {
  timeout: false, // the call has its own (SCORING_TIMEOUT_MS)
  resetTimeout: RESET_MS,
  volumeThreshold: 3,
  errorThresholdPercentage: 50,
  // Only 5xx and timeouts say the dependency is down; a 429 or another 4xx does not open the circuit.
  errorFilter: (e) => e.status !== undefined && e.status < 500,
});
breaker.on('open', () => log('circuit-open', { resetMs: RESET_MS }));
breaker.on('halfOpen', () => log('circuit-half-open'));
breaker.on('close', () => log('circuit-closed'));

/**
 * The text's score: `{ score, attempts }`. Throws a `Deferred` (with `deferMs`) when the message
 * should be tried again later, or an error with `attempts` when it has failed for good.
 */
async function score(text, delivery = 1) {
  let last;
  for (let attempt = 1; attempt <= config.scoringAttempts; attempt++) {
    try {
      return { score: await breaker.fire(text), attempts: attempt };
    } catch (e) {
      last = e;
      if (e.code === 'EOPENBREAKER') throw new Deferred('the scoring circuit is open', RESET_MS, attempt);
      if (e.status !== undefined && e.status < 500 && e.status !== 429) break; // refused for good
      const wait = Math.min(MAX_WAIT_MS, e.retryAfterMs ?? (e.status === 429 ? 1000 * 2 ** (attempt - 1) : 200 * 2 ** (attempt - 1)));
      if (attempt === config.scoringAttempts) {
        if (delivery < MAX_DELIVERIES) throw new Deferred(e.message, Math.max(wait, 1000), attempt);
        break;
      }
      await sleep(wait);
    }
  }
  const error = new Error(last.name === 'TimeoutError' ? `timed out after ${config.scoringTimeoutMs} ms` : last.message);
  error.attempts = config.scoringAttempts;
  throw error;
}

module.exports = { score, Deferred, retryAfterMs };
