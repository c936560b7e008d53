/**
 * The docker-container, docker-logs and http-latency probes against real things: busybox
 * containers this file creates (gameday/busybox:local, from scripts/provision.sh), an HTTP server
 * in this process, and one experiment through the real `experiment` workflow.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type Docker from 'dockerode';
import { runCheck } from '../../src/probes';
import type { ProbeSpec } from '../../src/spec/schema';
import type { Experiment } from '../../src/spec/schema';
import type { ExperimentResult, Journal, Measurement } from '../../src/types';
import { docker, eventually, recordHistory, removeContainer, startWorker, type TestWorker } from '../helpers';

const PREFIX = `gameday-test-probes-${process.pid}`;
const IMAGE = 'gameday/busybox:local';
const created: string[] = [];

async function createContainer(suffix: string, options: Partial<Docker.ContainerCreateOptions>): Promise<string> {
  const name = `${PREFIX}-${suffix}`;
  await removeContainer(name);
  created.push(name);
  const c = await docker.createContainer({ name, Image: IMAGE, Labels: { 'gameday.test': PREFIX }, ...options });
  await c.start();
  return name;
}

/** Runs a shell command inside the container and waits for it to end. */
async function sh(container: string, command: string): Promise<void> {
  const exec = await docker.getContainer(container).exec({ Cmd: ['sh', '-c', command], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  await new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.resume();
  });
}

/** Writes a line to the container's log: to the stdout (fd 1) or stderr (fd 2) of its process 1. */
const logLine = (container: string, line: string, fd: 1 | 2 = 1): Promise<void> => sh(container, `echo '${line}' > /proc/1/fd/${fd}`);

async function measure(probe: ProbeSpec, window?: { baselineStartedAt: string; faultStartedAt?: string }): Promise<Measurement> {
  const s = await runCheck({ name: probe.kind, probe }, 'observe', { docker, window });
  assert.equal(s.error, '', `the ${probe.kind} probe succeeded`);
  return s.measurement;
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

after(async () => {
  await Promise.all(created.map((n) => removeContainer(n)));
});

describe('docker-container measures what docker inspect says', () => {
  test('a running container without a HEALTHCHECK: running, not paused, health none; paused once paused', async () => {
    const name = await createContainer('plain', { Cmd: ['sleep', '3600'] });
    const m = await measure({ kind: 'docker-container', container: name });
    assert.deepEqual({ ...m, latencyMs: 0 }, { running: true, paused: false, status: 'running', health: 'none', restartCount: 0, exitCode: 0, oomKilled: false, latencyMs: 0, error: '' });
    await docker.getContainer(name).pause();
    try {
      const paused = await measure({ kind: 'docker-container', container: name });
      assert.equal(paused.paused, true);
      assert.equal(paused.status, 'paused');
    } finally {
      await docker.getContainer(name).unpause();
    }
  });

  test('health follows the HEALTHCHECK: unhealthy while its file is missing, healthy once it exists', async () => {
    const name = await createContainer('health', {
      Cmd: ['sleep', '3600'],
      Healthcheck: { Test: ['CMD-SHELL', 'test -f /tmp/healthy'], Interval: 200_000_000, Timeout: 1_000_000_000, Retries: 1 },
    });
    const probe: ProbeSpec = { kind: 'docker-container', container: name };
    await eventually('the probe to see unhealthy', async () => (await measure(probe)).health === 'unhealthy');
    assert.equal((await docker.getContainer(name).inspect()).State.Health?.Status, 'unhealthy', 'docker inspect agrees');
    await sh(name, 'echo ok > /tmp/healthy');
    await eventually('the probe to see healthy', async () => (await measure(probe)).health === 'healthy');
  });

  test('a container that keeps exiting under RestartPolicy on-failure: restartCount rises, then it stays exited with its code', async () => {
    const name = await createContainer('crashing', {
      Cmd: ['sh', '-c', 'echo booting; exit 3'],
      HostConfig: { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } },
    });
    const probe: ProbeSpec = { kind: 'docker-container', container: name };
    const final = await eventually('the restarts to be used up', async () => {
      const m = await measure(probe);
      return m.restartCount === 2 && m.running === false && m;
    }, 30_000);
    assert.equal(final.exitCode, 3);
    assert.equal(final.status, 'exited');
    // Each start printed its line: three starts, three lines in the whole log (no experiment window).
    const logs = await measure({ kind: 'docker-logs', container: name, pattern: '^booting$' });
    assert.equal(logs.matches, 3);
  });

  test('a container that does not exist is a probe error naming it, not a crash', async () => {
    const s = await runCheck({ name: 'missing', probe: { kind: 'docker-container', container: `${PREFIX}-none` }, expect: { running: { equals: true } } }, 'baseline', { docker });
    assert.equal(s.error, `no container named ${PREFIX}-none`);
    assert.equal(s.ok, false);
  });
});

describe('docker-logs counts matching lines since the start of its window', () => {
  test('lines written before the fault are not counted, lines after it are (stdout and stderr)', async () => {
    const name = await createContainer('logs', { Cmd: ['sleep', '3600'] });
    const baselineStartedAt = new Date().toISOString();
    await logLine(name, 'ERROR before the fault');
    await logLine(name, 'all good before');
    // Log timestamps and our clock are the same machine's; keep the boundary clear of both sides.
    await pause(50);
    const faultStartedAt = new Date().toISOString();
    await pause(50);
    await logLine(name, 'ERROR first after the fault');
    await logLine(name, 'all good after');
    await logLine(name, 'ERROR second after the fault', 2);
    const window = { baselineStartedAt, faultStartedAt };

    const sinceFault = await measure({ kind: 'docker-logs', container: name, pattern: '^ERROR' }, window);
    assert.equal(sinceFault.matches, 2);
    assert.equal(sinceFault.lines, 3);
    assert.equal(sinceFault.lastMatch, 'ERROR second after the fault');
    assert.equal(sinceFault.countedSince, faultStartedAt);

    const sinceBaseline = await measure({ kind: 'docker-logs', container: name, pattern: '^ERROR', since: 'baseline' }, window);
    assert.equal(sinceBaseline.matches, 3);

    const beforeAnyFault = await measure({ kind: 'docker-logs', container: name, pattern: '^ERROR' }, { baselineStartedAt: faultStartedAt });
    assert.equal(beforeAnyFault.matches, 2, 'before any fault, the count starts at the baseline');

    const none = await measure({ kind: 'docker-logs', container: name, pattern: 'PANIC' }, window);
    assert.deepEqual([none.matches, none.lastMatch], [0, '']);
  });
});

describe('http-latency against a server in this process', () => {
  let server: http.Server;
  let base = '';
  const arrivals: Record<string, number[]> = {};
  before(async () => {
    let mixed = 0;
    server = http.createServer((req, res) => {
      (arrivals[req.url ?? ''] ??= []).push(performance.now());
      const answer = (status: number, delayMs = 0): void => void setTimeout(() => res.writeHead(status).end('done'), delayMs);
      if (req.url === '/slow') answer(200, 300);
      else if (req.url === '/fail') answer(500);
      // The 9th and 10th requests of a sample are slow: the tail, not the middle.
      else if (req.url === '/mixed') answer(200, ++mixed > 8 ? 400 : 0);
      else answer(404);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  test('a server that delays every answer by 300 ms: p50Ms is at least 300, every request ok, spread over the window', async () => {
    const begun = performance.now();
    const m = await measure({ kind: 'http-latency', url: `${base}/slow`, requests: 5, window: '1s' });
    assert.ok(Number(m.p50Ms) >= 300, `p50Ms ${m.p50Ms}`);
    assert.deepEqual([m.ok, m.errors, m.errorRate], [5, 0, 0]);
    const at = arrivals['/slow'];
    assert.equal(at.length, 5, 'the server saw every request');
    // Requests start on a schedule (every 200 ms): the fifth never sooner than 800 ms in, whatever the load.
    assert.ok(at[4] - begun >= 790, `the fifth request arrived ${Math.round(at[4] - begun)} ms in`);
  });

  test('two slow answers in ten: p95Ms, p99Ms and maxMs are slow ones, and the percentiles are in order', async () => {
    const m = await measure({ kind: 'http-latency', url: `${base}/mixed`, requests: 10, window: '500ms' });
    assert.ok(Number(m.p95Ms) >= 400 && Number(m.p99Ms) >= 400 && Number(m.maxMs) >= 400, JSON.stringify(m));
    assert.ok(Number(m.p50Ms) <= Number(m.p95Ms) && Number(m.p95Ms) <= Number(m.p99Ms) && Number(m.p99Ms) <= Number(m.maxMs), JSON.stringify(m));
    assert.equal(m.ok, 10);
  });

  test('a server answering 500 gives errors for every request, and an expectation on errors misses', async () => {
    const s = await runCheck({ name: 'fails', probe: { kind: 'http-latency', url: `${base}/fail`, requests: 4, window: '200ms' }, expect: { errors: { equals: 0 } } }, 'observe');
    assert.deepEqual([s.measurement.errors, s.measurement.ok, s.measurement.errorRate], [4, 0, 1]);
    assert.deepEqual(s.expectations, [{ field: 'errors', expected: 'equals 0', observed: '4', ok: false }]);
  });

  test('nothing listening: every request an error, no percentile, so an expectation on p95Ms misses with no value', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/`;
    await new Promise((r) => closed.close(r));
    const s = await runCheck({ name: 'down', probe: { kind: 'http-latency', url, requests: 3, window: '100ms' }, expect: { p95Ms: { atMost: 1000 } } }, 'observe');
    assert.deepEqual([s.measurement.errors, s.measurement.errorRate, s.measurement.p95Ms], [3, 1, undefined]);
    assert.deepEqual(s.expectations, [{ field: 'p95Ms', expected: 'at most 1000', observed: 'no value', ok: false }]);
  });
});

describe('docker-logs in a real experiment', () => {
  let w: TestWorker;
  before(async () => {
    w = await startWorker('probes');
  });
  after(async () => {
    await w?.stop();
  });

  test('counts the startup line a restart fault causes, and not the one from before the experiment', async () => {
    const name = await createContainer('restarted', { Cmd: ['sh', '-c', 'echo "service started"; exec sleep 3600'], Labels: { 'gameday.test': PREFIX, 'gameday.enabled': 'true' } });
    const spec: Experiment = {
      id: 'probes-logs-since-fault',
      title: 'a restart shows in the log since the fault',
      hypothesis: 'restarting the container makes it log its startup line once more',
      targets: { svc: { kind: 'docker', container: name } },
      steadyState: [
        { name: 'container running', probe: { kind: 'docker-container', container: name }, expect: { running: { equals: true }, health: { equals: 'none' } } },
        { name: 'no startup since the experiment began', probe: { kind: 'docker-logs', container: name, pattern: 'service started', since: 'baseline' }, expect: { matches: { atMost: 1 } } },
      ],
      method: [{ fault: { kind: 'docker-restart', target: 'svc', timeout: '1s' }, duration: '2s' }],
      observe: {
        interval: '300ms',
        probes: [{ name: 'startups since the fault', probe: { kind: 'docker-logs', container: name, pattern: 'service started' }, expect: { matches: { equals: 1 } }, samples: 'any' }],
      },
      recovery: { within: '10s', interval: '500ms' },
    };
    const handle = await w.start({ spec });
    const result = (await handle.result()) as ExperimentResult;
    await recordHistory(handle.workflowId, 'logs-since-fault');
    assert.equal(result.verdict, 'passed', result.reason);

    const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
    const baselineCount = journal.baseline.find((s) => s.check === 'no startup since the experiment began');
    assert.equal(baselineCount?.measurement.matches, 0, 'the line from before the experiment is not counted at baseline');
    const during = journal.observations.filter((s) => s.check === 'startups since the fault');
    assert.ok(during.length > 0, 'observed during the fault');
    assert.ok(during.every((s) => s.measurement.matches === 1), JSON.stringify(during.map((s) => s.measurement)));
    assert.ok(String(during[0].measurement.countedSince) >= journal.baseline[0].at, 'counted from the fault, after the baseline');
    // The container's whole log has both startup lines: the probe left the earlier one out.
    const whole = await measure({ kind: 'docker-logs', container: name, pattern: 'service started' });
    assert.equal(whole.matches, 2);

    const report = await readFile(path.join(result.reportDir, 'report.md'), 'utf8');
    assert.match(report, new RegExp(`lines of ${name}'s log matching /service started/ since the first fault`));
    assert.match(report, /matches=1/);
  });
});
