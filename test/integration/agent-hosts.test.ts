/**
 * Faults on another host through its agent: a second Docker engine in a network namespace of its
 * own stands for host h2 (test/second-host.ts), with `gameday agent --host h2` running inside it.
 * The orchestrating worker runs in this process with the first engine only. Real Temporal dev
 * server, real engines; docker inspect on each says what a person would check.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type Docker from 'dockerode';
import { searchAttributes } from '../../src/search-attributes';
import type { Experiment } from '../../src/spec/schema';
import type { ExperimentResult, ExperimentStatus, Journal } from '../../src/types';
import { docker, eventually, killSpawnedWorkers, removeContainer, spawnAgent, startWorker, type TestWorker, type WorkerProcess } from '../helpers';
import { startSecondHost, type SecondHost } from '../second-host';

const HOST = 'h2';
const HERE = 'gameday-agent-c1';
const THERE = 'gameday-agent-c2';
const IMAGE = 'gameday/busybox:local';

async function startSleeper(engine: Docker, name: string): Promise<void> {
  await engine.getContainer(name).remove({ force: true }).catch(() => undefined);
  const c = await engine.createContainer({ name, Image: IMAGE, Cmd: ['sleep', '3600'], Labels: { 'gameday.enabled': 'true', 'gameday.test': 'agent' } });
  await c.start();
}

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

describe('faults on another host through its agent', () => {
  let h2: SecondHost;
  let worker: TestWorker;
  /** `gameday agent --host h2` inside the namespace, with the second engine only; resolves once it polls. */
  const startAgent = (): Promise<WorkerProcess> => spawnAgent(HOST, { DOCKER_HOST: h2.dockerHost, TEMPORAL_ADDRESS: '127.0.0.1:7233' }, h2.enter);

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

  test('a run with a fault on each host: each engine says paused during observe and running after rollback', async () => {
    const agent = await startAgent();
    try {
      // What stands for another machine: its container is unknown to the orchestrating worker's engine.
      await assert.rejects(docker.getContainer(THERE).inspect(), /no such container/i);
      const handle = await worker.start({ spec: spanningExperiment('agent-two-hosts', { here: '15s', there: '15s' }) });
      await eventually('observe with both paused', async () => (await handle.query<ExperimentStatus>('status')).stage === 'observe' && (await paused(docker, HERE)) && (await paused(h2.docker, THERE)), 90_000);
      const result = (await handle.result()) as ExperimentResult;
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

    await startAgent();
    const result = (await handle.result()) as ExperimentResult;
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
});

/** The run's current details, as the Web UI shows them (the workflow metadata query). */
async function readCurrentDetails(handle: { query<T>(name: string): Promise<T> }): Promise<string> {
  const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return meta.currentDetails ?? '';
}
