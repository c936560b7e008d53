/**
 * Network faults through a real Toxiproxy server (the binary scripts/provision.sh builds), on a
 * proxy in front of a real HTTP server: a fault's toxic is there during the fault, and gone after
 * its revert, which any number of times succeeds.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { injectFault, revertFault } from '../../src/faults';
import { planFault } from '../../src/faults/describe';
import type { Experiment, FaultSpec } from '../../src/spec/schema';
import { resolveTargets } from '../../src/targets';
import type { ExperimentResult, PlannedFault } from '../../src/types';
import type { JanitorResult } from '../../workflows/janitor';
import { docker, eventually, startWorker, type TestWorker } from '../helpers';

const API_PORT = 18574;
const PROXY_PORT = 18575;
/**
 * The proxy's name, this process's own: its lock is then this run's. A fault of an earlier run on
 * a proxy of the same name, left to a scheduled janitor that retries it while that run's Toxiproxy
 * is gone, holds the lock of that name, not this one's.
 */
const PROXY = `upstream-${process.pid}`;
const API = `http://127.0.0.1:${API_PORT}`;
const PROXIED = `http://127.0.0.1:${PROXY_PORT}/`;

/** The Toxiproxy server binary: TOXIPROXY_SERVER_PATH, or where provision.sh caches it. */
function toxiproxyBinary(): string {
  const candidates = [process.env.TOXIPROXY_SERVER_PATH, path.join(os.homedir(), '.cache', 'gameday', 'bin', 'toxiproxy-server')].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`no Toxiproxy server binary at ${candidates.join(' or ')}: run bash scripts/provision.sh`);
  return found;
}

async function toxics(): Promise<string[]> {
  const res = await fetch(`${API}/proxies/${PROXY}/toxics`);
  return ((await res.json()) as { name: string }[]).map((t) => t.name);
}

/** How long a GET through the proxy takes, or the error when it fails within `timeoutMs`. */
async function getThroughProxy(timeoutMs: number): Promise<{ ms: number; error?: string }> {
  const started = Date.now();
  try {
    const res = await fetch(PROXIED, { signal: AbortSignal.timeout(timeoutMs) });
    await res.text();
    return { ms: Date.now() - started };
  } catch (e) {
    return { ms: Date.now() - started, error: (e as Error).name };
  }
}

function experiment(fault: FaultSpec, duration = '3s'): Experiment {
  return {
    id: `toxiproxy-${fault.kind}`,
    title: `${fault.kind} on the upstream proxy`,
    hypothesis: 'the upstream answers again once the toxic is gone',
    targets: { upstream: { kind: 'toxiproxy', api: API, proxy: PROXY } },
    steadyState: [{ name: 'upstream answers', probe: { kind: 'http', url: PROXIED, timeout: '2s' }, expect: { status: { equals: 200 } } }],
    method: [{ fault, duration }],
    observe: { interval: '500ms', probes: [{ name: 'upstream through the proxy', probe: { kind: 'http', url: PROXIED, timeout: '3s' }, expect: { latencyMs: { atLeast: 800 } }, samples: 'all' }] },
    recovery: { within: '10s', interval: '500ms' },
  };
}

/** A planned fault as the workflow makes it, for calling the fault family directly. */
async function plan(spec: Experiment, workflowId: string): Promise<PlannedFault> {
  const [target] = await resolveTargets({ docker }, spec, { allowlist: [] });
  return planFault(workflowId, 'f1', 0, spec.method[0].fault, target, 3000);
}

describe('toxiproxy faults', () => {
  let toxiproxy: ChildProcess | undefined;
  let upstream: Server;
  let w: TestWorker | undefined;

  before(async () => {
    upstream = createServer((req, res) => res.end(req.url === '/big' ? 'x'.repeat(100 * 1024) : 'ok'));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    toxiproxy = spawn(toxiproxyBinary(), ['-host', '127.0.0.1', '-port', String(API_PORT)], { stdio: 'ignore' });
    await eventually('Toxiproxy to answer', async () => (await fetch(`${API}/version`)).ok);
    const res = await fetch(`${API}/proxies`, {
      method: 'POST',
      body: JSON.stringify({ name: PROXY, listen: `127.0.0.1:${PROXY_PORT}`, upstream: `127.0.0.1:${(upstream.address() as AddressInfo).port}` }),
    });
    assert.ok(res.ok || res.status === 409, `creating the proxy: ${res.status}`);
    w = await startWorker('toxiproxy');
  });

  after(async () => {
    await w?.stop();
    toxiproxy?.kill('SIGKILL');
    upstream?.closeAllConnections();
    await new Promise((r) => upstream?.close(r));
  });

  test('a timeout toxic stops data through the proxy during the fault, and its revert lets it through again', async () => {
    const planned = await plan(experiment({ kind: 'toxiproxy-timeout', target: 'upstream', timeout: '0s' }), 'direct-timeout');
    assert.deepEqual(planned.target.refs.map((c) => c.name), [`proxy ${PROXY} → ${(await (await fetch(`${API}/proxies/${PROXY}`)).json() as { upstream: string }).upstream}`]);
    assert.equal((await getThroughProxy(2000)).error, undefined, 'the upstream answers through the proxy before the fault');

    await injectFault({ docker }, planned);
    await injectFault({ docker }, planned); // a retried inject adds nothing
    assert.deepEqual(await toxics(), [planned.tag], 'one toxic, named by the fault tag');
    assert.equal((await getThroughProxy(1000)).error, 'TimeoutError', 'no answer through the proxy during the fault');

    assert.deepEqual(await revertFault({ docker }, planned), [`removed toxic ${planned.tag} from proxy ${PROXY}`]);
    assert.deepEqual(await toxics(), []);
    assert.equal((await getThroughProxy(2000)).error, undefined, 'the upstream answers again after the revert');
    assert.deepEqual(await revertFault({ docker }, planned), [`proxy ${PROXY} has no toxic ${planned.tag}: nothing to revert`], 'a second revert succeeds');
  });

  test('a latency toxic makes every answer at least that late', async () => {
    const planned = await plan(experiment({ kind: 'toxiproxy-latency', target: 'upstream', latency: '600ms' }), 'direct-latency');
    await injectFault({ docker }, planned);
    try {
      const during = await getThroughProxy(5000);
      assert.equal(during.error, undefined);
      assert.ok(during.ms >= 600, `answered after ${during.ms} ms with 600 ms latency added`);
    } finally {
      await revertFault({ docker }, planned);
    }
    assert.deepEqual(await toxics(), []);
  });

  test('a reset toxic makes requests through the proxy fail', async () => {
    const planned = await plan(experiment({ kind: 'toxiproxy-reset', target: 'upstream' }), 'direct-reset');
    await injectFault({ docker }, planned);
    try {
      assert.notEqual((await getThroughProxy(2000)).error, undefined, 'the connection is reset');
    } finally {
      await revertFault({ docker }, planned);
    }
    assert.equal((await getThroughProxy(2000)).error, undefined);
  });

  test('a bandwidth toxic makes a 100 KB answer take at least as long as the rate allows', async () => {
    const planned = await plan(experiment({ kind: 'toxiproxy-bandwidth', target: 'upstream', kbPerSecond: 50 }), 'direct-bandwidth');
    await injectFault({ docker }, planned);
    try {
      const started = Date.now();
      const body = await (await fetch(`${PROXIED}big`, { signal: AbortSignal.timeout(20_000) })).text();
      const ms = Date.now() - started;
      assert.equal(body.length, 100 * 1024);
      // 100 KB at 50 KB/s is 2 s; a lower bound with slack for the proxy's first buffer.
      assert.ok(ms >= 1000, `100 KB arrived in ${ms} ms through a 50 KB/s limit`);
    } finally {
      await revertFault({ docker }, planned);
    }
    assert.deepEqual(await toxics(), []);
  });

  test('a proxy that does not exist is reported by name', async () => {
    const spec = experiment({ kind: 'toxiproxy-latency', target: 'upstream', latency: '1s' });
    spec.targets.upstream = { kind: 'toxiproxy', api: API, proxy: 'no-such-proxy' };
    await assert.rejects(resolveTargets({ docker }, spec, { allowlist: [] }), /target 'upstream': Toxiproxy at http:\/\/127.0.0.1:18574 has no proxy named 'no-such-proxy'/);
  });

  test('a Toxiproxy on another machine is refused unless allowlisted', async () => {
    const spec = experiment({ kind: 'toxiproxy-latency', target: 'upstream', latency: '1s' });
    spec.targets.upstream = { kind: 'toxiproxy', api: 'http://10.1.2.3:8474', proxy: PROXY };
    await assert.rejects(resolveTargets({ docker }, spec, { allowlist: [] }), /10\.1\.2\.3:8474 is not on this machine: add 10\.1\.2\.3:8474 to GAMEDAY_ALLOWED_TARGETS/);
  });

  test('a terminated experiment leaves its toxic; the janitor finds it by the memo and removes it', async () => {
    const handle = await w!.start({ spec: experiment({ kind: 'toxiproxy-timeout', target: 'upstream', timeout: '0s' }, '5m') });
    await eventually('the toxic to be in place', async () => (await toxics()).length === 1, 30_000);
    await handle.terminate('testing the janitor on a toxiproxy fault');
    assert.equal((await getThroughProxy(1000)).error, 'TimeoutError', 'terminate runs no rollback: the fault stays');

    const result = (await w!.client.workflow.execute('janitor', { taskQueue: w!.taskQueue, workflowId: `janitor-toxiproxy-${Date.now()}`, args: [{ lookbackMs: 10 * 60_000, taskQueue: w!.taskQueue }] })) as JanitorResult;
    const mine = result.actions.filter((a) => a.workflowId === handle.workflowId);
    assert.equal(mine.length, 1);
    assert.match(mine[0].outcome, new RegExp(`^removed toxic gameday-[0-9a-f]{8}-f1 from proxy ${PROXY}$`));
    assert.deepEqual(await toxics(), []);
    assert.equal((await getThroughProxy(2000)).error, undefined, 'the upstream answers through the proxy again');
  });

  test('an experiment adds latency during observe, removes the toxic in rollback, and the report says so', async () => {
    const handle = await w!.start({ spec: experiment({ kind: 'toxiproxy-latency', target: 'upstream', latency: '900ms' }) });
    await eventually('the toxic to be in place', async () => (await toxics()).length === 1, 30_000);
    const result = (await handle.result()) as ExperimentResult;
    assert.equal(result.verdict, 'passed', result.reason);
    assert.equal(result.rollback, 'complete');
    assert.deepEqual(await toxics(), [], 'no toxic left after the experiment');
    const report = await readFile(path.join(result.reportDir, 'report.md'), 'utf8');
    assert.match(report, new RegExp(`\\| f1 \\| add 900ms latency downstream on proxy ${PROXY} → 127\\.0\\.0\\.1:\\d+ \\| reverted \\|`));
    assert.match(report, new RegExp(`removed toxic gameday-[0-9a-f]{8}-f1 from proxy ${PROXY}`));
  });
});
