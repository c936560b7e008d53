import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, openSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../config';
import { FailureType, GamedayError } from '../errors';
import type { ProxyInfo } from '../http-proxy/server';
import type { RuleAction, RuleBody } from '../http-proxy/rules';
import { durationMs } from '../spec/loader';
import type { TargetSpec } from '../spec/schema';
import type { PlannedFault } from '../types';
import { adminRequest } from './admin-api';
import { addressNotAllowed, selfLimitMs, tagOf, targetSpecOf, TargetUnreachable, type FaultDeps, type FaultFamily, type FaultKindOf, type PlannedOf } from './family';

/**
 * HTTP faults on any dependency, through Gameday's HTTP fault proxy (src/http-proxy) in front of
 * it. Each fault is one rule named by the fault's tag, set with its self-limit as ttl, so that it
 * ends by itself should every worker die, a revert from any worker deletes exactly it, and
 * deleting a rule that is gone succeeds.
 */

type ProxySpec = Extract<TargetSpec, { kind: 'proxy' }>;

/** The bundled proxy a worker starts when none answers at a target's admin address. */
export const PROXY_BUNDLE = path.join(PROJECT_ROOT, 'dist', 'bundle', 'http-proxy.js');

function api(spec: ProxySpec, method: string, p: string, body?: unknown): Promise<Response> {
  return adminRequest('the HTTP fault proxy', spec.admin, method, p, body);
}

/** The proxy at the target's admin address, or why it is not the target's. */
async function proxyInfo(spec: ProxySpec): Promise<ProxyInfo | string> {
  const res = await api(spec, 'GET', '/proxy');
  const info = res.ok ? ((await res.json().catch(() => undefined)) as ProxyInfo | undefined) : undefined;
  if (info?.kind !== 'gameday-http-proxy') return `${spec.admin} is not a Gameday HTTP fault proxy (GET /proxy answered ${res.status})`;
  if (new URL(info.upstream).href !== new URL(spec.upstream).href) return `the fault proxy at ${spec.admin} fronts ${info.upstream}, not ${spec.upstream}`;
  return info;
}

/**
 * Starts a fault proxy for the target on this host, detached: it outlives the worker and the run,
 * since the client pointed at its listen address depends on it. Its log is in the temp folder.
 */
async function startProxy(spec: ProxySpec): Promise<ProxyInfo> {
  if (!existsSync(PROXY_BUNDLE)) throw new Error(`the HTTP fault proxy's bundle ${PROXY_BUNDLE} is missing: run npm run build`);
  const admin = new URL(spec.admin);
  const logFile = path.join(os.tmpdir(), `gameday-http-proxy-${admin.port || 80}.log`);
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, [PROXY_BUNDLE, '--upstream', spec.upstream, '--listen', spec.listen, '--admin', `${admin.hostname}:${admin.port || 80}`], { detached: true, stdio: ['ignore', out, out] });
  let exited = false;
  child.once('exit', () => (exited = true));
  child.unref();
  const deadline = Date.now() + 5000;
  for (;;) {
    const info = await proxyInfo(spec).catch(() => undefined);
    if (info && typeof info !== 'string') return info;
    if (exited || Date.now() > deadline) {
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-2).join(' ');
      throw new Error(`the HTTP fault proxy for ${spec.upstream} did not start on ${spec.listen} (admin ${spec.admin}): ${tail || 'no output'}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Whether an admin API on this machine refused the connection: no proxy runs there. Its rules
 * lived in its memory, so there is nothing to revert, and an inject starts one. A timeout or a
 * remote address is not this: that is unreachable.
 */
function nothingListens(spec: ProxySpec, e: unknown): boolean {
  return e instanceof TargetUnreachable && /ECONNREFUSED/.test(e.message) && addressNotAllowed(new URL(spec.admin), { allowlist: [] }) === undefined;
}

/** The rule that makes a fault, as the proxy's admin API takes it. */
export function ruleFor(deps: FaultDeps, planned: PlannedOf<FaultKindOf<'proxy'>>): RuleBody {
  const f = planned.fault;
  const action: RuleAction =
    f.kind === 'proxy-error'
      ? { type: 'error', status: f.status, ...(f.retryAfter ? { retryAfterSeconds: Math.ceil(durationMs(f.retryAfter) / 1000) } : {}) }
      : f.kind === 'proxy-delay'
        ? { type: 'delay', delayMs: durationMs(f.delay) }
        : f.kind === 'proxy-drop'
          ? { type: 'drop' }
          : { type: 'truncate', bytes: f.bytes ?? 0 };
  return {
    action,
    ...(f.method ? { methods: [f.method].flat() } : {}),
    ...(f.path ? { path: f.path } : {}),
    ...(f.percent === undefined ? {} : { percent: f.percent }),
    ttlMs: selfLimitMs(deps, planned),
  };
}

export const proxyFaults: FaultFamily<'proxy'> = {
  async resolve(_deps, name, spec, policy) {
    const admin = new URL(spec.admin);
    const why = addressNotAllowed(admin, policy);
    if (why) throw new GamedayError(FailureType.TargetNotAllowed, `target '${name}': ${why}`);
    const info = await proxyInfo(spec).catch((e: Error) => {
      if (nothingListens(spec, e)) return undefined;
      throw new GamedayError(FailureType.TargetNotFound, `target '${name}': ${e.message}`);
    });
    if (typeof info === 'string') throw new GamedayError(FailureType.TargetNotFound, `target '${name}': ${info}`);
    return {
      selector: info ? `HTTP fault proxy ${info.listen} → ${info.upstream} (admin ${spec.admin})` : `HTTP fault proxy to start on ${spec.listen} → ${spec.upstream} (admin ${spec.admin})`,
      refs: [{ id: createHash('sha256').update(`proxy:${admin.origin}`).digest('hex'), name: spec.name ?? new URL(spec.upstream).host }],
    };
  },

  faults: {
    'proxy-error': { inject: (deps, planned) => setRule(deps, planned), revert: (_deps, planned) => deleteRule(planned) },
    'proxy-delay': { inject: (deps, planned) => setRule(deps, planned), revert: (_deps, planned) => deleteRule(planned) },
    'proxy-drop': { inject: (deps, planned) => setRule(deps, planned), revert: (_deps, planned) => deleteRule(planned) },
    'proxy-truncate': { inject: (deps, planned) => setRule(deps, planned), revert: (_deps, planned) => deleteRule(planned) },
  },
};

/** Sets the fault's rule (PUT by tag: an earlier attempt's rule is replaced by the same one). */
async function setRule(deps: FaultDeps, planned: PlannedOf<FaultKindOf<'proxy'>>): Promise<string[]> {
  const spec = targetSpecOf(planned, 'proxy');
  // Nothing runs at a local admin address: this worker starts the proxy in front of the dependency.
  const info = await proxyInfo(spec).catch((e: Error) => (nothingListens(spec, e) ? startProxy(spec) : Promise.reject(e)));
  if (typeof info === 'string') throw new GamedayError(FailureType.TargetNotFound, info);
  const rule = ruleFor(deps, planned);
  const res = await api(spec, 'PUT', `/rules/${encodeURIComponent(tagOf(planned))}`, rule);
  if (!res.ok) throw new Error(`the HTTP fault proxy at ${spec.admin} refused rule ${tagOf(planned)}: ${res.status} ${await res.text()}`);
  return [`rule ${tagOf(planned)} on the fault proxy ${info.listen} ends by itself within ${Math.round(rule.ttlMs / 1000)} s`];
}

/** Deletes the fault's rule by its tag; a rule or a proxy that is gone is nothing to revert. */
async function deleteRule(planned: PlannedFault): Promise<string[]> {
  const spec = targetSpecOf(planned, 'proxy');
  const tag = tagOf(planned);
  const res = await api(spec, 'DELETE', `/rules/${encodeURIComponent(tag)}`).catch((e: Error) => {
    if (nothingListens(spec, e)) return undefined;
    throw e;
  });
  if (!res) return [`no fault proxy listens at ${spec.admin} any more (its rules ended with it): nothing to revert`];
  if (res.ok) return [`removed rule ${tag} from the fault proxy at ${spec.admin}`];
  if (res.status !== 404) throw new Error(`the HTTP fault proxy at ${spec.admin} did not delete rule ${tag}: ${res.status} ${await res.text()}`);
  // Something answers without the rule: our proxy without it (ended by itself, restarted), or no proxy of ours any more.
  const info = await proxyInfo(spec);
  if (typeof info === 'string') return [`${info}: the fault proxy no longer exists, nothing to revert`];
  return [`the fault proxy at ${spec.admin} has no rule ${tag}: nothing to revert`];
}
