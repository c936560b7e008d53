import { createHash } from 'node:crypto';
import { FailureType, GamedayError } from '../errors';
import { durationMs } from '../spec/loader';
import type { TargetSpec } from '../spec/schema';
import type { PlannedFault } from '../types';
import { addressNotAllowed, tagOf, targetSpecOf, TargetUnreachable, type FaultFamily, type FaultKindOf, type PlannedOf } from './family';

/**
 * Failures of an HTTP dependency (error statuses, slow answers), set through its fault endpoint:
 * `PUT <url>/fault` (usually on an admin port of its own) with `{ status?, delayMs?, percent?, tag }` sets the fault,
 * `DELETE` clears it. Any stub or proxy that speaks this can be a target; the demo system's
 * scoring service does.
 */

export const DEFAULT_FAULT_PATH = '/fault';

/** What the fault endpoint receives. */
export interface HttpFaultBody {
  status?: number;
  delayMs?: number;
  percent: number;
  tag: string;
}

function endpoint(spec: Extract<TargetSpec, { kind: 'http' }>): string {
  return `${spec.url.replace(/\/$/, '')}${spec.faultPath ?? DEFAULT_FAULT_PATH}`;
}

async function call(url: string, method: 'PUT' | 'DELETE', body?: HttpFaultBody): Promise<Response> {
  try {
    return await fetch(url, {
      method,
      headers: body ? { 'content-type': 'application/json' } : undefined,
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(5000),
    });
  } catch (e) {
    throw new TargetUnreachable(`the fault endpoint ${url} (${method})`, e);
  }
}

/** The body that sets a planned http fault. */
export function httpFaultBody(planned: PlannedOf<FaultKindOf<'http'>>): HttpFaultBody {
  const f = planned.fault;
  const what = f.kind === 'http-error' ? { status: f.status } : { delayMs: durationMs(f.delay) };
  return { ...what, percent: f.percent ?? 100, tag: tagOf(planned) };
}

export const httpFaults: FaultFamily<'http'> = {
  async resolve(_deps, name, spec, policy) {
    const url = new URL(spec.url);
    const why = addressNotAllowed(url, policy);
    if (why) throw new GamedayError(FailureType.TargetNotAllowed, `target '${name}': ${why}`);
    return {
      selector: `http dependency ${spec.url} (fault endpoint ${spec.faultPath ?? DEFAULT_FAULT_PATH})`,
      refs: [{ id: createHash('sha256').update(`http:${url.origin}${url.pathname}`).digest('hex'), name: spec.name ?? url.host }],
    };
  },

  faults: {
    'http-error': { inject: (_deps, planned) => setFault(planned), revert: (_deps, planned) => clearFault(planned) },
    'http-delay': { inject: (_deps, planned) => setFault(planned), revert: (_deps, planned) => clearFault(planned) },
  },
};

/** Sets the fault at the dependency's fault endpoint. */
async function setFault(planned: PlannedOf<FaultKindOf<'http'>>): Promise<void> {
  const url = endpoint(targetSpecOf(planned, 'http'));
  const res = await call(url, 'PUT', httpFaultBody(planned));
  if (res.status === 404 || res.status === 405) throw new GamedayError(FailureType.TargetNotFound, `${url} is not a fault endpoint (${res.status}): the dependency must speak Gameday's fault endpoint`);
  if (!res.ok) throw new Error(`the fault endpoint ${url} refused the fault: ${res.status} ${await res.text()}`);
}

/** Clears the fault at the endpoint; an endpoint that no longer exists has nothing to revert. */
async function clearFault(planned: PlannedFault): Promise<string[]> {
  const url = endpoint(targetSpecOf(planned, 'http'));
  const res = await call(url, 'DELETE');
  // The dependency answers, without a fault endpoint (a new version, another service): no fault of ours can be in place.
  if (res.status === 404 || res.status === 405) return [`the fault endpoint ${url} no longer exists (${res.status}): nothing to revert`];
  if (!res.ok) throw new Error(`the fault endpoint ${url} did not clear the fault: ${res.status} ${await res.text()}`);
  return [`cleared the fault at ${url}`];
}
