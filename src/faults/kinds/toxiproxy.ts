/** The toxiproxy fault kinds: a TCP dependency behind a Toxiproxy proxy, one toxic per fault. */
import type { PlannedFault } from '../../types';
import { tagOf } from '../refs';
import { faultKind } from './kind';
import { flow, names, share } from './words';

/** Each fault is one toxic named by its tag: deleting it undoes the fault. */
const toxic = {
  undo: (_f: unknown, p: PlannedFault) => {
    const spec = p.target.spec;
    return spec?.kind === 'toxiproxy' ? `curl -X DELETE ${spec.api}/proxies/${spec.proxy}/toxics/${tagOf(p)}` : `delete toxic ${tagOf(p)}`;
  },
  check: (_f: unknown, p: PlannedFault): [string, string] | undefined => {
    const spec = p.target.spec;
    return spec?.kind === 'toxiproxy' ? [`curl ${spec.api}/proxies/${spec.proxy}/toxics`, `does not list ${tagOf(p)}`] : undefined;
  },
};

export const TOXIPROXY_KINDS = [
  faultKind('toxiproxy-latency', (k) => ({ latency: k.faultDelay('latency'), jitter: k.faultDelay('jitter').optional(), direction: k.direction.optional(), percent: k.percent.optional() }), {
    does: (f, t) => `add ${f.latency}${f.jitter ? ` ± ${f.jitter}` : ''} latency ${flow(f.direction)} on ${names(t)}${share(f.percent)}`,
    ...toxic,
  }),
  /** Data stops flowing; the connection is closed after `timeout` (or held open when 0). */
  faultKind('toxiproxy-timeout', (k) => ({ timeout: k.toxicTimeout, direction: k.direction.optional(), percent: k.percent.optional() }), {
    does: (f, t) => `stop data ${flow(f.direction)} on ${names(t)}, closing after ${f.timeout}${share(f.percent)}`,
    ...toxic,
  }),
  /** Connections are reset (TCP RST) after `timeout` (default at once). */
  faultKind('toxiproxy-reset', (k) => ({ timeout: k.toxicTimeout.optional(), direction: k.direction.optional(), percent: k.percent.optional() }), {
    does: (f, t) => `reset connections on ${names(t)}${f.timeout ? ` after ${f.timeout}` : ''}${share(f.percent)}`,
    ...toxic,
  }),
  faultKind('toxiproxy-bandwidth', (k) => ({ kbPerSecond: k.boundedInt('kbPerSecond', 1, 10_000_000), direction: k.direction.optional(), percent: k.percent.optional() }), {
    does: (f, t) => `limit ${flow(f.direction)} bandwidth on ${names(t)} to ${f.kbPerSecond} KB/s${share(f.percent)}`,
    ...toxic,
  }),
] as const;
