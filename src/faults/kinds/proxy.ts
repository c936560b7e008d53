/** The proxy fault kinds: an HTTP dependency behind Gameday's HTTP fault proxy, one rule per fault. */
import type { FaultFieldKit } from '../../spec/fault-fields';
import type { PlannedFault, ResolvedTarget } from '../../types';
import { tagOf } from '../refs';
import { faultKind } from './kind';
import { names, requests } from './words';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** Which requests a rule acts on: a method or several, a path prefix or glob, a share. */
const matchFields = (k: FaultFieldKit) => ({
  method: k.z.union([k.z.enum(METHODS), k.z.array(k.z.enum(METHODS)).min(1).max(METHODS.length)], { error: `expected a method or a list of them: ${METHODS.join(', ')}` }).optional(),
  path: k.z.string().regex(/^\//, { error: 'expected a path starting with /, such as /score or /v1/*/score' }).max(1000).optional(),
  percent: k.percent.optional(),
});

interface Match {
  method?: string | string[];
  path?: string;
  percent?: number;
}

/** "30% of POST /score requests to scoring (through the fault proxy)". */
function matched(f: Match, t: ResolvedTarget): string {
  const method = f.method === undefined ? '' : `${[f.method].flat().join('/')} `;
  const path = f.path ?? '';
  const what = method || path ? `${method}${path} ` : '';
  return `${requests(f.percent).replace('request', `${what}request`)} to ${names(t)} (through the fault proxy)`;
}

/** Each fault is one rule named by its tag: deleting it undoes the fault. */
const rule = {
  undo: (_f: unknown, p: PlannedFault) => {
    const spec = p.target.spec;
    return spec?.kind === 'proxy' ? `curl -X DELETE ${spec.admin.replace(/\/$/, '')}/rules/${tagOf(p)}` : `delete fault proxy rule ${tagOf(p)}`;
  },
  check: (_f: unknown, p: PlannedFault): [string, string] | undefined => {
    const spec = p.target.spec;
    return spec?.kind === 'proxy' ? [`curl ${spec.admin.replace(/\/$/, '')}/rules`, `does not list ${tagOf(p)}`] : undefined;
  },
};

export const PROXY_KINDS = [
  faultKind('proxy-error', (k) => ({ status: k.boundedInt('status', 400, 599), retryAfter: k.faultDelay('retryAfter').optional(), ...matchFields(k) }), {
    does: (f, t) => `answer ${matched(f, t)} with ${f.status}${f.retryAfter ? ` and Retry-After ${f.retryAfter}` : ''}`,
    ...rule,
  }),
  faultKind('proxy-delay', (k) => ({ delay: k.faultDelay('delay'), ...matchFields(k) }), {
    does: (f, t) => `delay ${matched(f, t)} by ${f.delay}`,
    ...rule,
  }),
  /** The connection is closed without an answer. */
  faultKind('proxy-drop', (k) => matchFields(k), {
    does: (f, t) => `drop the connection of ${matched(f, t)} without an answer`,
    ...rule,
  }),
  /** The dependency's status and headers pass, then only `bytes` of the body, then the connection is cut. */
  faultKind('proxy-truncate', (k) => ({ bytes: k.boundedInt('bytes', 0, 1 << 30).optional(), ...matchFields(k) }), {
    does: (f, t) => `cut the answers of ${matched(f, t)} after ${f.bytes ?? 0} bytes of body`,
    ...rule,
  }),
] as const;
