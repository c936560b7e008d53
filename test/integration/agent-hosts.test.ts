/**
 * Faults on another host through its agent: a second Docker engine in a network namespace of its
 * own stands for host h2 (test/second-host.ts), with `gameday agent --host h2` running inside it.
 * The orchestrating worker runs in this process with the first engine only. Real Temporal dev
 * server, real engines; docker inspect on each says what a person would check. Probes that name
 * h2 can only be right if they ran there (its container is unknown to the first engine), and so
 * can a dry run's resolution of a target on h2.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type Docker from 'dockerode';
import { searchAttributes } from '../../src/search-attributes';
import type { Experiment } from '../../src/spec/schema';
import type { ExperimentResult, ExperimentStatus, Journal } from '../../src/types';
import { assertTakenOver, docker, eventually, killSpawnedWorkers, recordHistory, removeContainer, spawnAgent, startWorker, type TestWorker, type WorkerProcess } from '../helpers';
import { parseExposition, valueOf, type Series } from '../prometheus';
import { startSecondHost, type SecondHost } from '../second-host';

const HOST = 'h2';
const HERE = 'gameday-agent-c1';
const THERE = 'gameday-agent-c2';
const IMAGE = 'gameday/busybox:local';
/** The agent's metrics, on the namespace's own loopback: only a process inside it reaches them. */
const AGENT_METRICS = '127.0.0.1:9464';

async function startSleeper(engine: Docker, name: string): Promise<void> {
  await engine.getContainer(name).remove({ force: true }).catch(() => undefined);
  const c = await engine.createContainer({ name, Image: IMAGE, Cmd: ['sleep', '3600'], Labels: { 'gameday.enabled': 'true', 'gameday.test': 'agent' } });
  await c.start();
}

const run = promisify(execFile);
const paused = async (engine: Docker, name: string): Promise<boolean> => (await engine.getContainer(name).inspect()).State.Paused;

/** A pause of a container on each host (or only on h2), with a steady state read on this host's engine. */
function spanningExperiment(id: string, durations: { here?: string; there: string }): Experiment {
  return {
    id,
    title: 'a pause on each host',
    hypothesis: 'both containers are paused while observed and run again after rollback',
    targets: {
      ...(durations.here ? { here: { kind: 'docker', container: HERE } } : {}),
      there: { kind: 'docker', container: THERE, host: HOST },
    },
    steadyState: [{ name: 'this host\'s container runs', probe: { kind: 'docker-container', container: HERE }, expect: { running: { equals: true } } }],
    method: [
      ...(durations.here ? [{ fault: { kind: 'docker-pause', target: 'here' }, duration: durations.here }] : []),
      { fault: { kind: 'docker-pause', target: 'there' }, duration: durations.there },
    ] as Experiment['method'],
    recovery: { within: '10s', interval: '500ms' },
  };
}

/** A pause on h2 for `duration`, observed there by a probe every 100 ms. */
function fastProbeOnH2(id: string, duration: string): Experiment {
  const on = { kind: 'docker-container', container: THERE, host: HOST } as const;
  return {
    id,
    title: `a 100 ms probe on h2 for ${duration}`,
    hypothesis: 'the container on h2 is paused while observed',
    targets: { there: { kind: 'docker', container: THERE, host: HOST } },
    steadyState: [{ name: 'h2 container unpaused', probe: on, expect: { paused: { equals: false } } }],
    method: [{ fault: { kind: 'docker-pause', target: 'there' }, duration }],
    observe: { interval: '100ms', probes: [{ name: 'h2 container paused', probe: on, expect: { paused: { equals: true } } }] },
    recovery: { within: '10s', interval: '500ms' },
  };
}

describe('faults on another host through its agent', () => {
  let h2: SecondHost;
  let worker: TestWorker;
  /** `gameday agent --host h2` inside the namespace, with the second engine only; resolves once it polls. */
  const startAgent = (env: Record<string, string> = {}): Promise<WorkerProcess> => spawnAgent(HOST, { DOCKER_HOST: h2.dockerHost, TEMPORAL_ADDRESS: '127.0.0.1:7233', ...env }, h2.enter);
  /** GET /metrics of the agent, from inside its namespace (as Prometheus on that host would). */
  const scrapeAgent = (): Series[] => {
    const script = `fetch('http://${AGENT_METRICS}/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))`;
    const r = spawnSync(h2.enter[0], [...h2.enter.slice(1), process.execPath, '-e', script], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`scraping the agent failed: ${r.stderr}`);
    return parseExposition(r.stdout);
  };

  before(async () => {
    h2 = await startSecondHost('gdh2-agent', '/tmp/gd-agent-h2', [IMAGE]);
    await startSleeper(docker, HERE);
    await startSleeper(h2.docker, THERE);
    // The orchestrating worker: the first engine (DOCKER_HOST unset), no socket of the second.
    worker = await startWorker('agent-hosts');
  });
  after(async () => {
    killSpawnedWorkers();
    await worker?.stop();
    await removeContainer(HERE);
    await h2?.docker.getContainer(THERE).remove({ force: true }).catch(() => undefined);
    await h2?.stop();
  });

  test('a run with a fault on each host: each engine says paused during observe and running after rollback; the agent\'s /metrics counts its fault', async () => {
    const agent = await startAgent({ GAMEDAY_METRICS_ADDRESS: AGENT_METRICS });
    try {
      // What stands for another machine: its container is unknown to the orchestrating worker's engine.
      await assert.rejects(docker.getContainer(THERE).inspect(), /no such container/i);
      const handle = await worker.start({ spec: spanningExperiment('agent-two-hosts', { here: '15s', there: '15s' }) });
      await eventually('observe with both paused', async () => (await handle.query<ExperimentStatus>('status')).stage === 'observe' && (await paused(docker, HERE)) && (await paused(h2.docker, THERE)), 90_000);
      const during = scrapeAgent();
      assert.equal(valueOf(during, 'gameday_faults_in_place', { kind: 'docker-pause' }), 1, 'the agent counts the one fault it injected, not the other host\'s');
      assert.ok(during.some((m) => m.name.startsWith('temporal_') && m.labels.task_queue === `gameday-host-${HOST}-faults`), 'the SDK\'s own metrics of the agent\'s fault queue');
      const result = (await handle.result()) as ExperimentResult;
      assert.equal(valueOf(scrapeAgent(), 'gameday_faults_in_place', { kind: 'docker-pause' }), 0, 'nothing in place once reverted');
      assert.equal(result.rollback, 'complete', result.reason);
      assert.equal(result.verdict, 'passed', result.reason);
      assert.equal(await paused(docker, HERE), false);
      assert.equal(await paused(h2.docker, THERE), false);
      assert.equal((await h2.docker.getContainer(THERE).inspect()).State.Running, true);
      const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
      assert.deepEqual(journal.rollback.faults.map((f) => f.description), [`pause container ${HERE}`, `pause container ${THERE} on host ${HOST}`]);
    } finally {
      await agent.kill('SIGTERM');
    }
  });

  test('the agent SIGKILLed mid-fault: the run says the revert waits on host h2, and a new agent reverts it', async () => {
    const first = await startAgent();
    const handle = await worker.start({ spec: spanningExperiment('agent-killed', { there: '20s' }) });
    await eventually('the fault on h2 in place', async () => (await handle.query<ExperimentStatus>('status')).stage === 'observe' && (await paused(h2.docker, THERE)), 90_000);
    await first.kill('SIGKILL');

    const waiting = await eventually('the status to say the revert waits on h2', async () => (await handle.query<ExperimentStatus>('status')).waitingOnHost, 90_000);
    assert.equal(waiting[0].host, HOST);
    assert.equal(await paused(h2.docker, THERE), true, 'a docker pause does not end by itself: it waits for an agent');
    const described = await handle.describe();
    assert.equal(described.typedSearchAttributes.get(searchAttributes.waitingOnHost), HOST);
    assert.match(await readCurrentDetails(handle), /Revert waiting on host h2/);

    const second = await startAgent();
    const result = (await handle.result()) as ExperimentResult;
    await second.kill('SIGTERM');
    assert.equal(result.rollback, 'complete', result.reason);
    assert.equal(await paused(h2.docker, THERE), false);
    const report = await readFile(path.join(result.reportDir, 'report.md'), 'utf8');
    assert.match(report, /The revert of f1 waited on host h2\*\*: .* it waited \d+\.\d s/);
    const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
    const wait = journal.rollback.faults[0].revertWaited;
    assert.equal(wait?.host, HOST);
    assert.ok((wait?.waitedMs ?? 0) > 0);
    assert.equal((await handle.describe()).typedSearchAttributes.get(searchAttributes.waitingOnHost), undefined, 'cleared once reverted');
  });

  test('probes that name host h2 run on its agent: baseline, observe, guardrail and verification sample the container only h2 has', async () => {
    const agent = await startAgent();
    try {
      const on = { kind: 'docker-container', container: THERE, host: HOST } as const;
      const handle = await worker.start({
        spec: {
          id: 'agent-probes',
          title: 'a pause on h2, probed on h2',
          hypothesis: 'the container on h2 is paused while observed and runs again after rollback',
          targets: { there: { kind: 'docker', container: THERE, host: HOST } },
          steadyState: [{ name: 'h2 container unpaused', probe: on, expect: { paused: { equals: false } } }],
          method: [{ fault: { kind: 'docker-pause', target: 'there' }, duration: '6s' }],
          observe: { interval: '500ms', probes: [{ name: 'h2 container paused', probe: on, expect: { paused: { equals: true } } }] },
          guardrails: [{ name: 'h2 container not restarted', probe: on, abortWhen: { restartCount: { atLeast: 1 } }, interval: '500ms' }],
          recovery: { within: '10s', interval: '500ms' },
        },
      });
      const result = (await handle.result()) as ExperimentResult;
      await recordHistory(handle.workflowId, 'host-probes-store');
      assert.equal(result.verdict, 'passed', result.reason);
      const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
      // On the orchestrating worker's engine each of these would be the error "no such container".
      const observed = journal.observations.filter((o) => o.check === 'h2 container paused');
      assert.ok(observed.length >= 5, `a sample every 500 ms for 6 s, got ${observed.length}`);
      assert.deepEqual([...new Set(observed.map((o) => `${o.error}|${o.measurement.paused}`))], ['|true'], 'every sample saw the container paused, none failed');
      const guard = journal.guardrails.filter((g) => g.check === 'h2 container not restarted');
      assert.ok(guard.length >= 5, `guardrail samples: ${guard.length}`);
      assert.ok(guard.every((g) => g.error === '' && g.measurement.restartCount === 0 && !g.breached));
      assert.deepEqual(journal.baseline.map((b) => [b.check, b.ok, b.measurement.paused]), [['h2 container unpaused', true, false]]);
      assert.deepEqual(journal.verification.map((v) => [v.check, v.ok, v.measurement.paused]), [['h2 container unpaused', true, false]]);
      assert.equal(journal.store?.missingSamples, undefined, 'the report holds every sample the run counted');
      const status = await handle.query<ExperimentStatus>('status');
      assert.equal(status.lastProbes['h2 container paused']?.measurement.paused, true, 'the status shows the last probe on h2');
    } finally {
      await agent.kill('SIGTERM');
    }
  });

  test('a fast probe on h2 for 20 s: the report has each of its samples, and the run\'s history none of them (bounded as with a probe on the worker)', async () => {
    const agent = await startAgent();
    try {
      const handle = await worker.start({
        spec: fastProbeOnH2('agent-probes-fast', '20s'),
      });
      const result = (await handle.result()) as ExperimentResult;
      assert.equal(result.verdict, 'passed', result.reason);
      const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
      const observed = journal.observations.filter((o) => o.check === 'h2 container paused');
      assert.ok(observed.length >= 50, `a sample every 100 ms (plus the probe's own time) for 20 s, got ${observed.length}`);
      assert.equal(new Set(observed.map((o) => o.at)).size, observed.length, 'no sample twice');
      assert.equal(journal.store?.missingSamples, undefined, 'the report holds every sample the run counted');
      const history = await handle.fetchHistory();
      const events = history.events ?? [];
      const text = payloadText(events);
      // Aggregates name a check's last sample, the status its last probe, the journal the baseline and
      // verification rounds: a dozen mentions whatever the run's length, not one a sample (the chunk path's).
      const measured = text.split('"measurement"').length - 1;
      assert.ok(measured < 30, `the history mentions ${measured} measurements for ${observed.length} samples`);
      assert.ok(events.length < 120, `history events: ${events.length}`);
      assert.ok(Buffer.byteLength(text) < 40_000, `history payloads: ${Buffer.byteLength(text)} bytes`);
    } finally {
      await agent.kill('SIGTERM');
    }
  });

  test('the agent SIGKILLed while it samples a probe on h2: another agent resumes, and the stored samples have neither a hole nor a duplicate', async (t) => {
    const first = await startAgent();
    const handle = await worker.start({
      spec: fastProbeOnH2('agent-probes-takeover', '25s'),
    });
    await eventually('observation on h2', async () => (await handle.query<ExperimentStatus>('status')).stage === 'observe', 90_000);
    // Longer than a heartbeat's throttle (2 s): what the first agent stored is in a heartbeat.
    await new Promise((r) => setTimeout(r, 6000));
    const killedAt = Date.now();
    await first.kill('SIGKILL');
    const second = await startAgent();
    try {
      const result = (await handle.result()) as ExperimentResult;
      assert.equal(result.verdict, 'passed', result.reason);
      const stored = await assertTakenOver(handle.workflowId, killedAt);
      t.diagnostic(`${stored.samples} samples; the longest gap between two (the takeover) is ${stored.longestGapMs} ms`);
      const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
      assert.equal(journal.observations.filter((o) => o.check === 'h2 container paused').length, stored.samples, 'the report holds every stored sample');
    } finally {
      await second.kill('SIGTERM');
    }
  });

  test('a guardrail on h2 that sees its abort condition halts the run: the pause on h2 is reverted long before its due time', async () => {
    const agent = await startAgent();
    try {
      const handle = await worker.start({
        spec: {
          ...spanningExperiment('agent-guardrail', { there: '60s' }),
          guardrails: [{ name: 'h2 container not paused', probe: { kind: 'docker-container', container: THERE, host: HOST }, abortWhen: { paused: { equals: true } }, interval: '500ms' }],
        },
      });
      const result = (await handle.result()) as ExperimentResult;
      assert.equal(result.verdict, 'aborted', result.reason);
      assert.match(result.reason, /guardrail 'h2 container not paused' breached/);
      assert.equal(result.rollback, 'complete');
      assert.equal(await paused(h2.docker, THERE), false);
      const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
      assert.equal(journal.breach?.guardrail, 'h2 container not paused');
      const [fault] = journal.rollback.faults;
      assert.ok(Date.parse(fault.revertedAt!) < Date.parse(fault.dueAt!) - 30_000, `reverted at ${fault.revertedAt}, due at ${fault.dueAt}`);
    } finally {
      await agent.kill('SIGTERM');
    }
  });

  test('run --dry-run resolves a target on h2 through its agent and one here on this engine, and without an agent says which to start', async () => {
    const agent = await startAgent();
    try {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'gameday-dry-run-'));
      const file = path.join(dir, 'two-hosts.yaml');
      await writeFile(file, JSON.stringify(spanningExperiment('agent-dry-run', { here: '5s', there: '5s' })));
      const { stdout } = await run(process.execPath, [path.join(__dirname, '..', '..', '..', 'bin', 'gameday.js'), 'run', '--dry-run', '--json', file], { env: { ...process.env, GAMEDAY_TASK_QUEUE: worker.taskQueue } });
      const plan = JSON.parse(stdout) as { targets: { name: string; refs: { name: string }[] }[]; faults: { description: string }[] };
      assert.deepEqual(plan.targets.map((t) => [t.name, t.refs.map((r) => r.name)]), [['here', [HERE]], ['there', [THERE]]]);
      assert.deepEqual(plan.faults.map((f) => f.description), [`pause container ${HERE}`, `pause container ${THERE} on host ${HOST}`]);
      assert.equal(await paused(h2.docker, THERE), false, 'a dry run injects nothing');
      await agent.kill('SIGTERM');
      const refused = await run(process.execPath, [path.join(__dirname, '..', '..', '..', 'bin', 'gameday.js'), 'run', '--dry-run', file], { env: { ...process.env, GAMEDAY_TASK_QUEUE: worker.taskQueue } }).then(
        () => assert.fail('a dry run with no agent of h2 succeeded'),
        (e: { code?: number; stderr?: string }) => e,
      );
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr ?? '', /no agent of host h2 took the work within 30s: start 'gameday agent --host h2' on that host/);
    } finally {
      await agent.kill('SIGTERM');
    }
  });

  test('the agent SIGKILLed while its revert runs: the retry waits on host h2, and a new agent reverts', async () => {
    const relay = holdingRelay('/tmp/gd-agent-h2/held.sock', h2.dockerHost.replace('unix://', ''));
    try {
      // The first agent reaches its engine through the relay, which holds its unpause: a slow revert.
      const first = await startAgent({ DOCKER_HOST: 'unix:///tmp/gd-agent-h2/held.sock', GAMEDAY_REVERTER: 'worker' });
      const handle = await worker.start({ spec: spanningExperiment('agent-killed-reverting', { there: '4s' }) });
      await eventually('the fault on h2 in place', async () => (await handle.query<ExperimentStatus>('status')).stage === 'observe' && (await paused(h2.docker, THERE)), 90_000);
      relay.hold();
      const reverting = async (): Promise<boolean> => {
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        return pending.some((a) => a.activityType?.name === 'revertFault' && Number(a.state) === 2 /* STARTED */);
      };
      await eventually('the workflow\'s revert running on the agent, its unpause held', async () => relay.held() > 0 && (await reverting()), 60_000);
      await first.kill('SIGKILL');
      relay.release();

      const waiting = await eventually('the retry to wait on h2', async () => (await handle.query<ExperimentStatus>('status')).waitingOnHost, 90_000);
      assert.equal(waiting[0].host, HOST);
      assert.equal(await paused(h2.docker, THERE), true, 'still paused: no agent of h2 is alive');
      await startAgent();
      const result = (await handle.result()) as ExperimentResult;
      assert.equal(result.rollback, 'complete', result.reason);
      assert.equal(await paused(h2.docker, THERE), false);
      const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
      assert.equal(journal.rollback.faults[0].revertWaited?.host, HOST);
    } finally {
      killSpawnedWorkers();
      await relay.close();
    }
  });
});

/**
 * A relay to the second engine's socket that can hold the unpause requests a container's revert
 * sends (what a slow engine does): while held, they are kept, and on release their connections
 * are dropped unanswered, as they are when the process that sent them was killed.
 */
function holdingRelay(listen: string, engine: string): { held(): number; hold(): void; release(): void; close(): Promise<void> } {
  let holding = false;
  const kept = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect({ path: engine });
    inbound.on('data', (d) => {
      if (kept.has(inbound)) return;
      if (holding && /POST \/[^ ]*\/unpause/.test(d.toString('latin1'))) kept.add(inbound);
      else outbound.write(d);
    });
    outbound.pipe(inbound);
    const end = (): void => {
      kept.delete(inbound);
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', end).on('close', end);
    outbound.on('error', end).on('close', end);
  });
  server.listen(listen);
  return {
    held: () => kept.size,
    hold: () => (holding = true),
    release: () => {
      holding = false;
      for (const s of kept) s.destroy();
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Every payload of a history, decoded, one after another (what the history holds of the run's data). */
function payloadText(value: unknown, seen = new Set<unknown>()): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (value === null || typeof value !== 'object' || seen.has(value)) return '';
  seen.add(value);
  return Object.values(value).map((v) => payloadText(v, seen)).join('\n');
}

/** The run's current details, as the Web UI shows them (the workflow metadata query). */
async function readCurrentDetails(handle: { query<T>(name: string): Promise<T> }): Promise<string> {
  const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return meta.currentDetails ?? '';
}
