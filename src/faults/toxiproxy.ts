import { createHash } from 'node:crypto';
import { FailureType, GamedayError } from '../errors';
import { durationMs } from '../spec/loader';
import type { FaultSpec } from '../spec/schema';
import type { PlannedFault } from '../types';
import { adminRequest } from './admin-api';
import { addressNotAllowed, tagOf, targetSpecOf, type FaultFamily, type FaultKindOf, type PlannedOf } from './family';

/**
 * Network faults on a TCP dependency, as toxics on a Toxiproxy proxy (there is no netem here).
 * Each fault is one toxic named by the fault's tag, so that a revert from any worker deletes
 * exactly it, and deleting a toxic that is gone succeeds.
 */

type ToxiproxyFault = Extract<FaultSpec, { kind: `toxiproxy-${string}` }>;

interface Toxic {
  name: string;
  type: 'latency' | 'timeout' | 'reset_peer' | 'bandwidth';
  stream: 'downstream' | 'upstream';
  toxicity: number;
  attributes: Record<string, number>;
}

/** The toxic that makes a fault, named by its tag. */
export function toxicFor(fault: ToxiproxyFault, tag: string): Toxic {
  const base = { name: tag, stream: fault.direction ?? 'downstream', toxicity: (fault.percent ?? 100) / 100 } as const;
  switch (fault.kind) {
    case 'toxiproxy-latency':
      return { ...base, type: 'latency', attributes: { latency: durationMs(fault.latency), jitter: fault.jitter ? durationMs(fault.jitter) : 0 } };
    case 'toxiproxy-timeout':
      return { ...base, type: 'timeout', attributes: { timeout: durationMs(fault.timeout) } };
    case 'toxiproxy-reset':
      return { ...base, type: 'reset_peer', attributes: { timeout: fault.timeout ? durationMs(fault.timeout) : 0 } };
    case 'toxiproxy-bandwidth':
      return { ...base, type: 'bandwidth', attributes: { rate: fault.kbPerSecond } };
  }
}

function api(base: string, method: string, path: string, body?: unknown): Promise<Response> {
  return adminRequest('Toxiproxy', base, method, path, body);
}

export const toxiproxyFaults: FaultFamily<'toxiproxy'> = {
  async resolve(_deps, name, spec, policy) {
    const why = addressNotAllowed(new URL(spec.api), policy);
    if (why) throw new GamedayError(FailureType.TargetNotAllowed, `target '${name}': ${why}`);
    const res = await api(spec.api, 'GET', `/proxies/${encodeURIComponent(spec.proxy)}`).catch((e: Error) => {
      throw new GamedayError(FailureType.TargetNotFound, `target '${name}': ${e.message}`);
    });
    if (res.status === 404) throw new GamedayError(FailureType.TargetNotFound, `target '${name}': Toxiproxy at ${spec.api} has no proxy named '${spec.proxy}'`);
    if (!res.ok) throw new Error(`target '${name}': Toxiproxy answered ${res.status}: ${await res.text()}`);
    const proxy = (await res.json()) as { listen: string; upstream: string };
    return {
      selector: `toxiproxy proxy ${spec.proxy} (${proxy.listen} → ${proxy.upstream})`,
      refs: [{ id: createHash('sha256').update(`toxiproxy:${spec.api}/${spec.proxy}`).digest('hex'), name: `proxy ${spec.proxy} → ${proxy.upstream}` }],
    };
  },

  faults: {
    'toxiproxy-latency': { inject: (_deps, planned) => addToxic(planned), revert: (_deps, planned) => deleteToxic(planned) },
    'toxiproxy-timeout': { inject: (_deps, planned) => addToxic(planned), revert: (_deps, planned) => deleteToxic(planned) },
    'toxiproxy-reset': { inject: (_deps, planned) => addToxic(planned), revert: (_deps, planned) => deleteToxic(planned) },
    'toxiproxy-bandwidth': { inject: (_deps, planned) => addToxic(planned), revert: (_deps, planned) => deleteToxic(planned) },
  },
};

/** Adds the fault's toxic; an earlier attempt's toxic (409) is this one already. */
async function addToxic(planned: PlannedOf<FaultKindOf<'toxiproxy'>>): Promise<void> {
  const spec = targetSpecOf(planned, 'toxiproxy');
  const toxic = toxicFor(planned.fault, tagOf(planned));
  const res = await api(spec.api, 'POST', `/proxies/${encodeURIComponent(spec.proxy)}/toxics`, toxic);
  // 409: an earlier attempt of this activity already added it.
  if (res.ok || res.status === 409) return;
  const text = await res.text();
  if (res.status === 404) throw new GamedayError(FailureType.TargetNotFound, `Toxiproxy at ${spec.api} has no proxy named '${spec.proxy}'`);
  throw new Error(`Toxiproxy refused toxic ${toxic.name}: ${res.status} ${text}`);
}

/** Deletes the fault's toxic by its tag; a toxic or a proxy that is gone is nothing to revert. */
async function deleteToxic(planned: PlannedFault): Promise<string[]> {
  const spec = targetSpecOf(planned, 'toxiproxy');
  const tag = tagOf(planned);
  const res = await api(spec.api, 'DELETE', `/proxies/${encodeURIComponent(spec.proxy)}/toxics/${encodeURIComponent(tag)}`);
  if (res.status === 404) {
    // Toxiproxy answers 404 both for a proxy and for a toxic that is not there: ask which.
    const proxy = await api(spec.api, 'GET', `/proxies/${encodeURIComponent(spec.proxy)}`);
    if (proxy.status === 404) return [`proxy ${spec.proxy} no longer exists: nothing to revert`];
    return [`proxy ${spec.proxy} has no toxic ${tag}: nothing to revert`];
  }
  if (!res.ok) throw new Error(`Toxiproxy did not delete toxic ${tag}: ${res.status} ${await res.text()}`);
  return [`removed toxic ${tag} from proxy ${spec.proxy}`];
}
