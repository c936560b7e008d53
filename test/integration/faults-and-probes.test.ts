/**
 * Every Docker fault injected and reverted on a real container, and every probe family against
 * its real server: HTTP (a server in this process), NATS JetStream (in a container), PostgreSQL
 * (the throwaway server scripts/provision.sh starts on 127.0.0.1:55432).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { connect } from 'nats';
import { injectFault, revertFault } from '../../src/faults';
import { findContainers } from '../../src/faults/docker';
import { describeFault } from '../../src/faults/describe';
import { runCheck } from '../../src/probes';
import { closePublishers } from '../../src/probes/nats';
import type { FaultSpec } from '../../src/spec/schema';
import type { PlannedFault } from '../../src/types';
import { containerState, docker, eventually, startNats } from '../helpers';

const NATS = 'gameday-test-faults-nats';
const PORT = 14303;
const PG = 'postgres://postgres@127.0.0.1:55432/postgres';

async function planned(fault: FaultSpec): Promise<PlannedFault> {
  const [c] = await findContainers(docker, { kind: 'docker', container: NATS });
  const target = { name: 'nats', selector: `container ${NATS}`, refs: [{ id: c.id, name: c.name }] };
  return { id: 'f1', step: 0, fault, target, status: 'planned', description: describeFault(fault, target) };
}

describe('Docker faults on a real container', () => {
  let nats: Awaited<ReturnType<typeof startNats>>;
  before(async () => {
    nats = await startNats(NATS, PORT);
  });
  after(async () => {
    await closePublishers();
    await nats?.remove();
  });

  test('docker-pause pauses the container; its revert unpauses it, and a second revert does nothing', async () => {
    const f = await planned({ kind: 'docker-pause', target: 'nats' });
    await injectFault({ docker }, f);
    assert.equal((await containerState(NATS)).Paused, true);
    assert.deepEqual(await revertFault({ docker }, f), [`unpaused container ${NATS}`]);
    assert.equal((await containerState(NATS)).Paused, false);
    assert.deepEqual(await revertFault({ docker }, f), [`container ${NATS} was not paused`]);
  });

  test('injecting the same pause twice (a retried activity) is not an error', async () => {
    const f = await planned({ kind: 'docker-pause', target: 'nats' });
    await injectFault({ docker }, f);
    await injectFault({ docker }, f);
    assert.equal((await containerState(NATS)).Paused, true);
    await revertFault({ docker }, f);
    assert.equal((await containerState(NATS)).Paused, false);
  });

  test('docker-stop stops the container; its revert starts it and NATS answers again', async () => {
    const f = await planned({ kind: 'docker-stop', target: 'nats', timeout: '1s' });
    await injectFault({ docker }, f);
    assert.equal((await containerState(NATS)).Running, false);
    assert.deepEqual(await revertFault({ docker }, f), [`started container ${NATS}`]);
    assert.equal((await containerState(NATS)).Running, true);
    assert.deepEqual(await revertFault({ docker }, f), [`container ${NATS} was running`]);
    await eventually('NATS to answer after the restart', async () => (await connect({ servers: nats.url, timeout: 500, reconnect: false })).close().then(() => true));
  });

  test('docker-kill sends the signal (the container exits 137 on SIGKILL); its revert starts it', async () => {
    const f = await planned({ kind: 'docker-kill', target: 'nats', signal: 'SIGKILL' });
    assert.equal(f.description, `kill container ${NATS} with SIGKILL`);
    await injectFault({ docker }, f);
    const info = await docker.getContainer(NATS).inspect();
    assert.equal(info.State.Running, false);
    assert.equal(info.State.ExitCode, 137);
    await revertFault({ docker }, f);
    assert.equal((await containerState(NATS)).Running, true);
  });

  test('docker-restart restarts the container (a new start time); its revert leaves a running container alone', async () => {
    const before = (await docker.getContainer(NATS).inspect()).State.StartedAt;
    const f = await planned({ kind: 'docker-restart', target: 'nats', timeout: '1s' });
    await injectFault({ docker }, f);
    const state = (await docker.getContainer(NATS).inspect()).State;
    assert.equal(state.Running, true);
    assert.notEqual(state.StartedAt, before);
    assert.deepEqual(await revertFault({ docker }, f), [`container ${NATS} was running`]);
  });

  test('reverting a fault on a container that no longer exists succeeds: nothing is left to revert', async () => {
    const f = await planned({ kind: 'docker-pause', target: 'nats' });
    f.target = { ...f.target, refs: [{ id: 'f'.repeat(64), name: 'gone' }] };
    assert.deepEqual(await revertFault({ docker }, f), ['container gone no longer exists: nothing to revert']);
  });
});

describe('probes against real servers', () => {
  let nats: Awaited<ReturnType<typeof startNats>>;
  let server: http.Server;
  let base: string;

  before(async () => {
    nats = await startNats(NATS, PORT);
    server = http.createServer((req, res) => {
      if (req.url === '/slow') setTimeout(() => res.end('late'), 1500);
      else if (req.url === '/health') res.end('{"status":"ok"}');
      else res.writeHead(503).end('down');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server?.close();
    await closePublishers();
    await nats?.remove();
  });

  test('an HTTP probe measures status, body and latency, and judges them', async () => {
    const s = await runCheck({ name: 'health', probe: { kind: 'http', url: `${base}/health` }, expect: { status: { equals: 200 }, body: { regex: '"ok"' } } }, 'baseline');
    assert.equal(s.ok, true);
    assert.equal(s.measurement.status, 200);
    assert.equal(typeof s.measurement.latencyMs, 'number');
    const down = await runCheck({ name: 'down', probe: { kind: 'http', url: `${base}/other` }, expect: { status: { equals: 200 } } }, 'baseline');
    assert.equal(down.ok, false);
    assert.deepEqual(down.expectations[0], { field: 'status', expected: 'equals 200', observed: '503', ok: false });
  });

  test('an HTTP probe past its timeout is a sample with the error, not an exception', async () => {
    const s = await runCheck({ name: 'slow', probe: { kind: 'http', url: `${base}/slow`, timeout: '300ms' }, expect: { status: { equals: 200 } } }, 'observe');
    assert.equal(s.ok, false);
    assert.match(s.error, /timeout|aborted/i);
    assert.match(s.expectations[0].observed, /^no value \(/);
  });

  test('NATS probes measure stream messages, consumer pending and acknowledge publishes', async () => {
    const nc = await connect({ servers: nats.url });
    const jsm = await nc.jetstreamManager();
    await jsm.consumers.add('tasks', { durable_name: 'scorer', ack_policy: 'explicit' as never });
    await nc.close();
    for (let i = 0; i < 3; i++) {
      const p = await runCheck({ name: 'publish', probe: { kind: 'nats-publish', url: nats.url, subject: 'tasks.new' }, expect: { error: { equals: '' } } }, 'observe');
      assert.equal(p.ok, true, p.error);
    }
    const stream = await runCheck({ name: 'stream', probe: { kind: 'nats-stream', url: nats.url, stream: 'tasks' }, expect: { messages: { atLeast: 3 } } }, 'baseline');
    assert.equal(stream.ok, true, JSON.stringify(stream));
    const consumer = await runCheck({ name: 'consumer', probe: { kind: 'nats-consumer', url: nats.url, stream: 'tasks', consumer: 'scorer' }, expect: { pending: { atLeast: 3 } } }, 'baseline');
    assert.equal(consumer.ok, true, JSON.stringify(consumer));
    assert.equal(consumer.measurement.ackPending, 0);
  });

  test('NATS probes against a paused broker time out within their timeout and leave no socket open', async () => {
    await docker.getContainer(NATS).pause();
    try {
      const sockets = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
      const before = sockets();
      const s = await runCheck({ name: 'stream', probe: { kind: 'nats-stream', url: nats.url, stream: 'tasks', timeout: '500ms' }, expect: { messages: { atLeast: 0 } } }, 'observe');
      assert.match(s.error, /TIMEOUT/);
      assert.ok(Number(s.measurement.latencyMs) < 1500, `latency ${s.measurement.latencyMs}`);
      // A publisher with no connection yet must not open one to a broker that does not answer.
      await closePublishers();
      const p = await runCheck({ name: 'publish', probe: { kind: 'nats-publish', url: nats.url, subject: 'tasks.new', timeout: '500ms' } }, 'observe');
      assert.match(p.error, /TIMEOUT/);
      await eventually('the probe sockets to close', async () => sockets() <= before, 2000);
    } finally {
      await docker.getContainer(NATS).unpause();
    }
  });

  test('a PostgreSQL probe measures the scalar a query returns, as a number', async () => {
    const s = await runCheck(
      { name: 'connections', probe: { kind: 'postgres', connectionString: PG, query: 'select count(*) from pg_stat_activity' }, expect: { value: { atLeast: 1 } } },
      'baseline',
    );
    assert.equal(s.ok, true, s.error);
    assert.equal(typeof s.measurement.value, 'number');
  });

  test('a PostgreSQL probe that cannot connect reports the error', async () => {
    const s = await runCheck(
      { name: 'down', probe: { kind: 'postgres', connectionString: 'postgres://postgres@127.0.0.1:1/postgres', query: 'select 1', timeout: '1s' }, expect: { value: { equals: 1 } } },
      'baseline',
    );
    assert.equal(s.ok, false);
    assert.match(s.error, /ECONNREFUSED/);
  });
});
