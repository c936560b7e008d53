/** The http fault kinds: a dependency speaking Gameday's fault endpoint. */
import type { PlannedFault } from '../../types';
import { faultKind } from './kind';
import { names, requests } from './words';

function clearEndpoint(_f: unknown, p: PlannedFault): string {
  const spec = p.target.spec;
  return spec?.kind === 'http' ? `curl -X DELETE ${spec.url.replace(/\/$/, '')}${spec.faultPath ?? '/fault'}` : 'clear the fault endpoint';
}

export const HTTP_KINDS = [
  faultKind('http-error', (k) => ({ status: k.z.int().min(400).max(599), percent: k.percent.optional() }), {
    does: (f, t) => `answer ${requests(f.percent)} to ${names(t)} with ${f.status}`,
    undo: clearEndpoint,
  }),
  faultKind('http-delay', (k) => ({ delay: k.faultDelay('delay'), percent: k.percent.optional() }), {
    does: (f, t) => `delay ${requests(f.percent)} to ${names(t)} by ${f.delay}`,
    undo: clearEndpoint,
  }),
] as const;
