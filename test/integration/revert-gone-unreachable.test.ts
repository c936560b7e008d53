/**
 * Gone against unreachable, in every fault family: a revert that finds its target gone (a removed
 * container, a deleted Toxiproxy proxy, a dropped database, an exited process, a dependency
 * without a fault endpoint) succeeds with a line saying there is nothing to revert; one that
 * cannot reach what it acts on (a Docker engine, a Toxiproxy API, a PostgreSQL server, a fault
 * endpoint on a closed port) fails retryably, type TargetUnreachable, saying so.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { injectFault, revertFault } from '../../src/faults';
import { planFault } from '../../src/faults/describe';
import type { FaultSpec, TargetSpec } from '../../src/spec/schema';
import type { PlannedFault, TargetRef } from '../../src/types';
import { docker, eventually, removeContainer } from '../helpers';

const CONTAINER = 'gameday-test-gone-container';
const API_PORT = 18594;
const API = `http://127.0.0.1:${API_PORT}`;

function planned(fault: FaultSpec, spec: TargetSpec, refs: TargetRef[]): PlannedFault {
  return planFault(`gone-unreachable-${process.pid}`, 'f1', 0, fault, { name: 't', kind: spec.kind, selector: 't', refs, spec }, 5000);
}

/** A port nothing listens on: taken, then closed again. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

async function assertUnreachable(p: PlannedFault, what: RegExp, deps = { docker }): Promise<void> {
  await assert.rejects(revertFault(deps, p), (e: Error) => {
    assert.equal(e.name, 'TargetUnreachable', e.message);
    assert.match(e.message, what);
    assert.match(e.message, /is unreachable: /);
    return true;
  });
}

describe('docker: a removed container is gone; an engine that does not answer is unreachable', () => {
  test('reverting a pause on a removed container says it no longer exists', async () => {
    await removeContainer(CONTAINER);
    const c = await docker.createContainer({ name: CONTAINER, Image: 'gameday/busybox:local', Cmd: ['sleep', '600'], Labels: { 'gameday.enabled': 'true' } });
    await c.start();
    const ref = { id: c.id, name: CONTAINER };
    const p = planned({ kind: 'docker-pause', target: 't' }, { kind: 'docker', container: CONTAINER }, [ref]);
    await injectFault({ docker }, p);
    await c.remove({ force: true });
    assert.deepEqual(await revertFault({ docker }, p), [`container ${CONTAINER} no longer exists: nothing to revert`]);
    const stress = planned({ kind: 'docker-cpu-stress', target: 't' }, { kind: 'docker', container: CONTAINER }, [ref]);
    assert.match((await revertFault({ docker }, stress))[0], new RegExp(`^container ${CONTAINER} no longer exists: nothing to revert`));
  });

  test('reverting against a Docker socket nobody listens on fails as unreachable', async () => {
    const socketPath = path.join(os.tmpdir(), `gameday-no-docker-${process.pid}.sock`);
    const p = planned({ kind: 'docker-pause', target: 't' }, { kind: 'docker', container: CONTAINER }, [{ id: 'a'.repeat(64), name: CONTAINER }]);
    await assertUnreachable(p, new RegExp(`^the Docker engine \\(unix://${socketPath}\\)`), { docker: new Docker({ socketPath }) });
  });
});

describe('toxiproxy: a deleted proxy is gone; a Toxiproxy that does not answer is unreachable', () => {
  let toxiproxy: ChildProcess | undefined;
  let upstream: Server;

  before(async () => {
    const binary = [process.env.TOXIPROXY_SERVER_PATH, path.join(os.homedir(), '.cache', 'gameday', 'bin', 'toxiproxy-server')].find((p) => p && existsSync(p));
    assert.ok(binary, 'the Toxiproxy server binary (bash scripts/provision.sh)');
    upstream = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    toxiproxy = spawn(binary, ['-host', '127.0.0.1', '-port', String(API_PORT)], { stdio: 'ignore' });
    await eventually('Toxiproxy to answer', async () => (await fetch(`${API}/version`)).ok);
  });
  after(async () => {
    toxiproxy?.kill('SIGKILL');
    await new Promise((r) => upstream?.close(r));
  });

  test('a toxic whose proxy was deleted is gone, a revert says so, and a second one too', async () => {
    const listen = `127.0.0.1:${await closedPort()}`;
    const created = await fetch(`${API}/proxies`, { method: 'POST', body: JSON.stringify({ name: 'doomed', listen, upstream: `127.0.0.1:${(upstream.address() as AddressInfo).port}` }) });
    assert.ok(created.ok, `creating the proxy: ${created.status}`);
    const p = planned({ kind: 'toxiproxy-latency', target: 't', latency: '1s' }, { kind: 'toxiproxy', api: API, proxy: 'doomed' }, [{ id: 'b'.repeat(64), name: 'proxy doomed' }]);
    await injectFault({ docker }, p);
    assert.equal((await fetch(`${API}/proxies/doomed`, { method: 'DELETE' })).status, 204);
    assert.deepEqual(await revertFault({ docker }, p), ['proxy doomed no longer exists: nothing to revert']);
    assert.deepEqual(await revertFault({ docker }, p), ['proxy doomed no longer exists: nothing to revert']);
  });

  test('a proxy without the toxic still says "no toxic", not "no longer exists"', async () => {
    const listen = `127.0.0.1:${await closedPort()}`;
    await fetch(`${API}/proxies`, { method: 'POST', body: JSON.stringify({ name: 'kept', listen, upstream: `127.0.0.1:${(upstream.address() as AddressInfo).port}` }) });
    const p = planned({ kind: 'toxiproxy-latency', target: 't', latency: '1s' }, { kind: 'toxiproxy', api: API, proxy: 'kept' }, [{ id: 'c'.repeat(64), name: 'proxy kept' }]);
    assert.deepEqual(await revertFault({ docker }, p), [`proxy kept has no toxic ${p.tag}: nothing to revert`]);
  });

  test('a Toxiproxy API that does not answer is unreachable (retried), not gone', async () => {
    const api = `http://127.0.0.1:${await closedPort()}`;
    const p = planned({ kind: 'toxiproxy-latency', target: 't', latency: '1s' }, { kind: 'toxiproxy', api, proxy: 'kept' }, [{ id: 'c'.repeat(64), name: 'proxy kept' }]);
    await assertUnreachable(p, new RegExp(`^Toxiproxy at ${api} \\(DELETE /proxies/kept/toxics/${p.tag}\\) is unreachable: .*ECONNREFUSED`));
  });
});

describe('postgres: a dropped database is gone; a server that does not answer is unreachable', () => {
  // The local stack's PostgreSQL (scripts/provision.sh).
  const server = process.env.GAMEDAY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:55432';

  test('releasing held connections on a database that does not exist says it no longer exists', async () => {
    const spec: TargetSpec = { kind: 'postgres', connectionString: `${server}/gameday_dropped_${process.pid}` };
    const p = planned({ kind: 'postgres-exhaust-connections', target: 't', connections: 1 }, spec, [{ id: 'd'.repeat(64), name: 'db' }]);
    assert.deepEqual(await revertFault({ docker }, p), [`the database of postgres 127.0.0.1:55432/gameday_dropped_${process.pid} no longer exists: nothing to revert`]);
  });

  test('a server on a closed port is unreachable', async () => {
    const port = await closedPort();
    const spec: TargetSpec = { kind: 'postgres', connectionString: `postgres://postgres@127.0.0.1:${port}/app` };
    const p = planned({ kind: 'postgres-lock-table', target: 't', table: 'messages' }, spec, [{ id: 'e'.repeat(64), name: 'db' }]);
    await assertUnreachable(p, new RegExp(`^PostgreSQL server postgres 127.0.0.1:${port}/app is unreachable: .*ECONNREFUSED`));
  });
});

describe('http: a dependency without a fault endpoint is gone; a closed port is unreachable', () => {
  test('a 404 from the fault endpoint is nothing to revert', async () => {
    const plain = createServer((_req, res) => res.writeHead(404).end('no such route'));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
      const p = planned({ kind: 'http-error', target: 't', status: 503 }, { kind: 'http', url }, [{ id: 'f'.repeat(64), name: 'dep' }]);
      assert.deepEqual(await revertFault({ docker }, p), [`the fault endpoint ${url}/fault no longer exists (404): nothing to revert`]);
    } finally {
      await new Promise((r) => plain.close(r));
    }
  });

  test('a fault endpoint on a closed port is unreachable', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const p = planned({ kind: 'http-delay', target: 't', delay: '1s' }, { kind: 'http', url }, [{ id: 'f'.repeat(64), name: 'dep' }]);
    await assertUnreachable(p, new RegExp(`^the fault endpoint ${url}/fault \\(DELETE\\) is unreachable: .*ECONNREFUSED`));
  });
});

describe('process: an exited process is gone', () => {
  test('resuming a paused process that exited says it no longer exists', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const pid = child.pid!;
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;
    const ref = { id: 'a1'.repeat(32), name: `pid ${pid} (sleep 30)`, pid };
    const p = planned({ kind: 'process-pause', target: 't' }, { kind: 'process', pattern: 'sleep 30' }, [ref]);
    assert.deepEqual(await revertFault({ docker }, p), [`pid ${pid} (sleep 30) no longer exists: nothing to revert`]);
  });
});
