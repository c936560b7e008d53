/**
 * HTTP faults on any dependency: a real HTTP server behind Gameday's real fault proxy (the bundle a
 * worker starts, dist/bundle/http-proxy.js), faults injected and reverted through the proxy family
 * as a worker does. Asserts what a client of the dependency sees.
 */
import assert from 'node:assert/strict';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { injectFault, revertFault } from '../../src/faults';
import { planFault } from '../../src/faults/describe';
import { proxyFaults } from '../../src/faults/proxy';
import type { ProxyInfo } from '../../src/http-proxy/server';
import type { FaultSpec, TargetSpec } from '../../src/spec/schema';
import type { PlannedFault } from '../../src/types';
import { docker, eventually } from '../helpers';
import { freePort } from '../prometheus';

type ProxySpec = Extract<TargetSpec, { kind: 'proxy' }>;

let upstream: Server;
let upstreamUrl: string;
let spec: ProxySpec;
let client: string;
const started = new Set<number>();
const deps = { docker };

async function planned(fault: Omit<FaultSpec, 'target'>, durationMs = 60_000, target: ProxySpec = spec, id = `f${Math.random().toString(36).slice(2, 8)}`): Promise<PlannedFault> {
  const resolution = await proxyFaults.resolve(deps, 'scoring', target, { allowlist: [] });
  return planFault(`http-fault-proxy-${process.pid}`, id, 0, { ...fault, target: 'scoring' } as FaultSpec, { name: 'scoring', kind: 'proxy', selector: resolution.selector, refs: resolution.refs, spec: target }, durationMs);
}

async function proxyInfo(): Promise<ProxyInfo> {
  return (await (await fetch(`${spec.admin}/proxy`)).json()) as ProxyInfo;
}

/** Injects a fault, remembering the proxy process it may have started. */
async function inject(p: PlannedFault, d: Parameters<typeof injectFault>[0] = deps): Promise<string[]> {
  const lines = await injectFault(d, p);
  started.add((await proxyInfo()).pid);
  return lines;
}

/** What a client sees: status, Retry-After and body, or the error that ended the request. */
async function call(method: string, path: string): Promise<{ status?: number; retryAfter?: string | null; body?: string; error?: string }> {
  try {
    const res = await fetch(`${client}${path}`, { method, body: method === 'POST' ? '{"text":"x"}' : undefined, signal: AbortSignal.timeout(5000) });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

before(async () => {
  upstream = createServer((req, res) => {
    const body = `upstream answered ${req.method} ${req.url}`;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const [listen, admin] = [await freePort(), await freePort()];
  spec = { kind: 'proxy', upstream: upstreamUrl, listen: `127.0.0.1:${listen}`, admin: `http://127.0.0.1:${admin}`, name: 'scoring' };
  client = `http://127.0.0.1:${listen}`;
});

after(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  upstream.close();
});

describe('the HTTP fault proxy in front of a dependency', () => {
  test('with nothing at the admin address, the first inject starts the proxy; a 503 with Retry-After acts on POST /score only', async () => {
    const p = await planned({ kind: 'proxy-error', status: 503, retryAfter: '5s', method: 'POST', path: '/score' } as never);
    assert.match(p.target.selector, /^HTTP fault proxy to start on 127\.0\.0\.1:\d+ → /);
    assert.equal(p.description, 'answer every POST /score request to scoring (through the fault proxy) with 503 and Retry-After 5s');
    const lines = await inject(p);
    assert.match(lines[0], /^rule gameday-.* on the fault proxy 127\.0\.0\.1:\d+ ends by itself within 90 s$/);
    const faulted = await call('POST', '/score');
    assert.equal(faulted.status, 503);
    assert.equal(faulted.retryAfter, '5');
    assert.deepEqual(await call('GET', '/score'), { status: 200, retryAfter: null, body: 'upstream answered GET /score' });
    assert.deepEqual(await call('POST', '/health'), { status: 200, retryAfter: null, body: 'upstream answered POST /health' });
    assert.deepEqual(await revertFault(deps, p), [`removed rule ${p.tag} from the fault proxy at ${spec.admin}`]);
    assert.equal((await call('POST', '/score')).status, 200);
    assert.deepEqual(await revertFault(deps, p), [`the fault proxy at ${spec.admin} has no rule ${p.tag}: nothing to revert`]);
  });

  test('a running proxy is found at its admin address and named with what it fronts', async () => {
    const p = await planned({ kind: 'proxy-drop' } as never);
    assert.equal(p.target.selector, `HTTP fault proxy ${spec.listen} → ${upstreamUrl}/ (admin ${spec.admin})`);
  });

  test('a delay by path glob holds matching requests and lets the others through at once', async () => {
    const p = await planned({ kind: 'proxy-delay', delay: '700ms', path: '/v1/*/score' } as never);
    await inject(p);
    let t = Date.now();
    assert.equal((await call('GET', '/v1/en/score')).status, 200);
    assert.ok(Date.now() - t >= 690, `held ${Date.now() - t} ms`);
    t = Date.now();
    assert.equal((await call('GET', '/v1/score')).status, 200);
    assert.ok(Date.now() - t < 690, `held ${Date.now() - t} ms`);
    await revertFault(deps, p);
  });

  test('a drop closes the connection without an answer', async () => {
    const p = await planned({ kind: 'proxy-drop', method: 'GET' } as never);
    await inject(p);
    assert.match((await call('GET', '/score')).error ?? '', /fetch failed/);
    assert.equal((await call('POST', '/score')).status, 200);
    await revertFault(deps, p);
    assert.equal((await call('GET', '/score')).status, 200);
  });

  test('a truncate passes the status and headers, then only the first bytes of the body, then cuts the connection', async () => {
    const p = await planned({ kind: 'proxy-truncate', bytes: 8 } as never);
    await inject(p);
    const seen = await new Promise<{ status?: number; length?: string; body: string; aborted: boolean }>((resolve) => {
      get(`${client}/score`, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('aborted', () => resolve({ status: res.statusCode, length: res.headers['content-length'], body, aborted: true }));
        res.on('end', () => resolve({ status: res.statusCode, length: res.headers['content-length'], body, aborted: false }));
      });
    });
    assert.deepEqual(seen, { status: 200, length: String('upstream answered GET /score'.length), body: 'upstream', aborted: true });
    await revertFault(deps, p);
    assert.equal((await call('GET', '/score')).body, 'upstream answered GET /score');
  });

  test('a share of 50% faults about half of the requests', async () => {
    const p = await planned({ kind: 'proxy-error', status: 500, percent: 50 } as never);
    await inject(p);
    let faulted = 0;
    for (let i = 0; i < 200; i++) if ((await call('GET', '/score')).status === 500) faulted++;
    await revertFault(deps, p);
    // Binomial(200, 0.5): outside 60..140 once in about 10^8 runs.
    assert.ok(faulted >= 60 && faulted <= 140, `${faulted} of 200 faulted`);
  });

  test('a rule ends by itself at its self-limit, with no revert', async () => {
    const p = await planned({ kind: 'proxy-error', status: 503 } as never, 300);
    await inject(p, { docker, selfLimitGraceMs: 300 } as never);
    assert.equal((await call('GET', '/score')).status, 503);
    await eventually('the rule to end by itself', async () => (await call('GET', '/score')).status === 200, 5000);
    assert.deepEqual(await revertFault(deps, p), [`the fault proxy at ${spec.admin} has no rule ${p.tag}: nothing to revert`]);
  });

  test('an admin address where another server answers is refused at resolve, and a revert there has nothing to revert', async () => {
    const other = createServer((_req, res) => res.writeHead(404).end('not here'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const target: ProxySpec = { ...spec, admin: `http://127.0.0.1:${(other.address() as AddressInfo).port}` };
    await assert.rejects(proxyFaults.resolve(deps, 'scoring', target, { allowlist: [] }), /target 'scoring': http:\/\/127\.0\.0\.1:\d+ is not a Gameday HTTP fault proxy \(GET \/proxy answered 404\)/);
    const p = await planned({ kind: 'proxy-drop' } as never);
    const lines = await revertFault(deps, { ...p, target: { ...p.target, spec: target } });
    assert.match(lines[0], /is not a Gameday HTTP fault proxy .*: the fault proxy no longer exists, nothing to revert$/);
    other.close();
  });

  test('a proxy that does not answer is unreachable and the revert fails retryably; once it answers, the revert succeeds', async () => {
    const p = await planned({ kind: 'proxy-error', status: 502 } as never);
    await inject(p);
    const { pid } = await proxyInfo();
    process.kill(pid, 'SIGSTOP');
    try {
      await assert.rejects(revertFault(deps, p), (e: Error) => {
        assert.equal(e.name, 'TargetUnreachable');
        assert.match(e.message, /^the HTTP fault proxy at http:\/\/127\.0\.0\.1:\d+ \(DELETE \/rules\/gameday-[^)]+\) is unreachable: /);
        return true;
      });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // The DELETE that timed out was sent all the same: the proxy may act on it once it runs again.
    const [line] = await revertFault(deps, p);
    assert.ok([`removed rule ${p.tag} from the fault proxy at ${spec.admin}`, `the fault proxy at ${spec.admin} has no rule ${p.tag}: nothing to revert`].includes(line), line);
    assert.equal((await call('GET', '/score')).status, 200);
  });

  test('a proxy that is gone (its process ended) took its rules with it: the revert has nothing to revert', async () => {
    const p = await planned({ kind: 'proxy-error', status: 503 } as never);
    await inject(p);
    const { pid } = await proxyInfo();
    process.kill(pid, 'SIGKILL');
    // Gone means refused. Until the killed process has closed its sockets, a connection may still
    // be accepted and reset: that is unreachable, which a revert retries.
    const refused = (e: { cause?: { code?: string } }): boolean => e.cause?.code === 'ECONNREFUSED';
    await eventually('the proxy to refuse connections', async () => (await fetch(`${spec.admin}/proxy`).then(() => false, refused)), 5000);
    assert.deepEqual(await revertFault(deps, p), [`no fault proxy listens at ${spec.admin} any more (its rules ended with it): nothing to revert`]);
  });
});
