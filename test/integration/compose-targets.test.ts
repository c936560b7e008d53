/**
 * Docker Compose services as targets: two real projects brought up with `docker-compose -p NAME
 * up` (docker-compose from scripts/provision.sh), each with a service `nats`; a target names the
 * service, with or without its project, and resolves through compose's labels on the worker's
 * Docker engine, with the same opt-in and blast-radius rules as other docker targets.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { resolveTargets } from '../../src/targets';
import type { Experiment } from '../../src/spec/schema';
import { targetRefs } from '../../src/faults/describe';
import type { ExperimentResult, Journal } from '../../src/types';
import { containerState, docker, startWorker, type TestWorker } from '../helpers';

const run = promisify(execFile);
const PROJECTS = ['gdcc-compose-a', 'gdcc-compose-b'];
const COMPOSE_FILE = `services:
  nats:
    image: gameday/busybox:local
    command: ["sleep", "3600"]
    labels: { gameday.enabled: "true" }
  shy:
    image: gameday/busybox:local
    command: ["sleep", "3600"]
`;

/** The container docker-compose 1.x names `<project>_<service>_1`. */
const containerOf = (project: string, service: string): string => `${project}_${service}_1`;

function composeExperiment(id: string, target: Experiment['targets'][string]): Experiment {
  return {
    id,
    title: 'pause a compose service',
    hypothesis: 'the service runs again once resumed',
    targets: { nats: target },
    steadyState: [{ name: 'project a runs', probe: { kind: 'docker-container', container: containerOf(PROJECTS[0], 'nats') }, expect: { running: { equals: true }, paused: { equals: false } } }],
    method: [{ fault: { kind: 'docker-pause', target: 'nats' }, duration: '1500ms' }],
    observe: { interval: '300ms', probes: [{ name: 'paused', probe: { kind: 'docker-container', container: containerOf(PROJECTS[0], 'nats') }, expect: { paused: { equals: true } } }] },
    recovery: { within: '10s', interval: '300ms' },
  };
}

describe('compose services as targets', () => {
  let dir: string;
  let w: TestWorker;
  const compose = (project: string, ...args: string[]) => run('docker-compose', ['-p', project, '-f', path.join(dir, 'docker-compose.yml'), ...args]);

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gdcc-compose-'));
    await writeFile(path.join(dir, 'docker-compose.yml'), COMPOSE_FILE);
    await Promise.all(PROJECTS.map((p) => compose(p, 'up', '-d')));
    w = await startWorker('compose-commands-compose');
  });
  after(async () => {
    await w?.stop();
    await Promise.all(PROJECTS.map((p) => compose(p, 'down', '-t', '0').catch(() => undefined)));
  });

  test('a service with its project is paused, that project\'s container only, and resumed', async () => {
    const spec = composeExperiment('compose-project', { kind: 'docker', compose: { service: 'nats', project: PROJECTS[0] } });
    const result = (await (await w.start({ spec, source: 'compose-project.yaml' })).result()) as ExperimentResult;
    assert.equal(result.verdict, 'passed', result.reason);
    const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
    assert.deepEqual(targetRefs(journal.targets[0]).map((r) => r.name), [containerOf(PROJECTS[0], 'nats')]);
    assert.equal(journal.targets[0].selector, `compose service nats of project ${PROJECTS[0]}`);
    assert.equal((await containerState(containerOf(PROJECTS[0], 'nats'))).Paused, false);
  });

  test('a service found in two projects without pick is refused, naming the file, the field and both containers; nothing is paused', async () => {
    const spec = composeExperiment('compose-ambiguous', { kind: 'docker', compose: { service: 'nats' } });
    const result = (await (await w.start({ spec, source: 'experiments/compose-ambiguous.yaml' })).result()) as ExperimentResult;
    assert.equal(result.verdict, 'error');
    assert.equal(result.rollback, 'nothing-injected');
    assert.match(result.reason, /experiments\/compose-ambiguous\.yaml: targets\.nats\.compose: target 'nats': compose service nats matches 2 running containers: gdcc-compose-a_nats_1 \(project gdcc-compose-a\), gdcc-compose-b_nats_1 \(project gdcc-compose-b\); name the project in compose\.project, or add pick/);
    for (const p of PROJECTS) assert.equal((await containerState(containerOf(p, 'nats'))).Paused, false);
  });

  test('pick: { count: 1 } takes one of the service\'s containers, and { percent: 100 } all of them', async () => {
    const one = await resolveTargets({ docker }, composeExperiment('x', { kind: 'docker', compose: { service: 'nats' }, pick: { count: 1 } }), { allowlist: [] });
    assert.equal(one[0].refs.length, 1);
    assert.ok(PROJECTS.map((p) => containerOf(p, 'nats')).includes(one[0].refs[0].name));
    const all = await resolveTargets({ docker }, composeExperiment('x', { kind: 'docker', compose: { service: 'nats' }, pick: { percent: 100 } }), { allowlist: [] });
    assert.deepEqual(all[0].refs.map((r) => r.name), PROJECTS.map((p) => containerOf(p, 'nats')));
  });

  test('a service whose containers have not opted in is refused like any container, and allowed by the allowlist', async () => {
    const spec = composeExperiment('x', { kind: 'docker', compose: { service: 'shy', project: PROJECTS[1] } });
    const shy = containerOf(PROJECTS[1], 'shy');
    await assert.rejects(resolveTargets({ docker }, spec, { allowlist: [] }), (e: Error) => e.name === 'TargetNotAllowed' && e.message.includes(`container ${shy} has not opted in to experiments`));
    const allowed = await resolveTargets({ docker }, spec, { allowlist: [shy] });
    assert.deepEqual(allowed[0].refs.map((r) => r.name), [shy]);
  });

  test('a service no project has is not found, in words naming the service and project', async () => {
    const spec = composeExperiment('x', { kind: 'docker', compose: { service: 'nats', project: 'gdcc-no-such-project' } });
    await assert.rejects(resolveTargets({ docker }, spec, { allowlist: [] }), /target 'nats': no compose service nats of project gdcc-no-such-project found on the Docker engine/);
  });
});
