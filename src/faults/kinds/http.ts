/** The http fault kinds: a dependency speaking Gameday's fault endpoint. */
import { z } from 'zod';
import { faultDelay } from '../../spec/limits';
import type { PlannedFault } from '../../types';
import { faultKind } from './kind';
import { names, requests } from './words';

const percent = z.number().gt(0, { error: 'must be more than 0' }).max(100, { error: 'must be at most 100' });

function clearEndpoint(_f: unknown, p: PlannedFault): string {
  const spec = p.target.spec;
  return spec?.kind === 'http' ? `curl -X DELETE ${spec.url.replace(/\/$/, '')}${spec.faultPath ?? '/fault'}` : 'clear the fault endpoint';
}

export const HTTP_KINDS = [
  faultKind('http-error', { status: z.int().min(400).max(599), percent: percent.optional() }, {
    does: (f, t) => `answer ${requests(f.percent)} to ${names(t)} with ${f.status}`,
    undo: clearEndpoint,
  }),
  faultKind('http-delay', { delay: faultDelay('delay'), percent: percent.optional() }, {
    does: (f, t) => `delay ${requests(f.percent)} to ${names(t)} by ${f.delay}`,
    undo: clearEndpoint,
  }),
] as const;
