/** The toxiproxy fault kinds: a TCP dependency behind a Toxiproxy proxy, one toxic per fault. */
import { z } from 'zod';
import { boundedInt, faultDelay, toxicTimeout } from '../../spec/limits';
import type { PlannedFault } from '../../types';
import { faultKind } from './kind';
import { flow, names, share } from './words';

const percent = z.number().gt(0, { error: 'must be more than 0' }).max(100, { error: 'must be at most 100' });
const direction = z.enum(['downstream', 'upstream']);

/** Each fault is one toxic named by its tag: deleting it undoes the fault. */
const toxic = {
  undo: (_f: unknown, p: PlannedFault) => {
    const spec = p.target.spec;
    return spec?.kind === 'toxiproxy' ? `curl -X DELETE ${spec.api}/proxies/${spec.proxy}/toxics/${p.tag ?? p.id}` : `delete toxic ${p.tag ?? p.id}`;
  },
  check: (_f: unknown, p: PlannedFault): [string, string] | undefined => {
    const spec = p.target.spec;
    return spec?.kind === 'toxiproxy' ? [`curl ${spec.api}/proxies/${spec.proxy}/toxics`, `does not list ${p.tag ?? p.id}`] : undefined;
  },
};

export const TOXIPROXY_KINDS = [
  faultKind('toxiproxy-latency', { latency: faultDelay('latency'), jitter: faultDelay('jitter').optional(), direction: direction.optional(), percent: percent.optional() }, {
    does: (f, t) => `add ${f.latency}${f.jitter ? ` ± ${f.jitter}` : ''} latency ${flow(f.direction)} on ${names(t)}${share(f.percent)}`,
    ...toxic,
  }),
  /** Data stops flowing; the connection is closed after `timeout` (or held open when 0). */
  faultKind('toxiproxy-timeout', { timeout: toxicTimeout, direction: direction.optional(), percent: percent.optional() }, {
    does: (f, t) => `stop data ${flow(f.direction)} on ${names(t)}, closing after ${f.timeout}${share(f.percent)}`,
    ...toxic,
  }),
  /** Connections are reset (TCP RST) after `timeout` (default at once). */
  faultKind('toxiproxy-reset', { timeout: toxicTimeout.optional(), direction: direction.optional(), percent: percent.optional() }, {
    does: (f, t) => `reset connections on ${names(t)}${f.timeout ? ` after ${f.timeout}` : ''}${share(f.percent)}`,
    ...toxic,
  }),
  faultKind('toxiproxy-bandwidth', { kbPerSecond: boundedInt('kbPerSecond', 1, 10_000_000), direction: direction.optional(), percent: percent.optional() }, {
    does: (f, t) => `limit ${flow(f.direction)} bandwidth on ${names(t)} to ${f.kbPerSecond} KB/s${share(f.percent)}`,
    ...toxic,
  }),
] as const;
