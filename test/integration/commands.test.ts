/**
 * Commands against real things: the command probe and the docker-exec fault in a busybox container
 * (gameday/busybox:local, from scripts/provision.sh), through the real `experiment` workflow for
 * the fault; the policy that runs a command only from a file of the worker's catalog unless
 * GAMEDAY_ALLOW_INLINE_COMMANDS=true, on plans, on process-kill's restart and on the janitor's
 * reverts of a memo written by whoever started the run.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { planFault } from '../../src/faults/describe';
import { selfLimitProcesses } from '../../src/faults/docker-exec';
import { injectFault } from '../../src/faults';
import { runCheck } from '../../src/probes';
import type { ProbeSpec } from '../../src/spec/schema';
import { FAULTS_MEMO, searchAttributes } from '../../src/search-attributes';
import type { ExperimentResult, PlannedFault } from '../../src/types';
import type { JanitorResult } from '../../workflows/janitor';
import { docker, eventually, removeContainer, startWorker, type TestWorker } from '../helpers';

const BOX = `gameday-test-commands-${process.pid}`;
const MARKER = '/tmp/gameday-marker';

/** Runs a shell command in the test's container; its output. */
async function shIn(container: string, command: string): Promise<string> {
  const exec = await docker.getContainer(container).exec({ Cmd: ['sh', '-c', command], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve) => {
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('end', resolve);
  });
  // The multiplexed frames' 8-byte headers are not in the words compared below.
  return Buffer.concat(chunks).toString('utf8');
}

const markerThere = async (): Promise<boolean> => (await shIn(BOX, `test -e ${MARKER} && echo yes || echo no`)).includes('yes');

/** An experiment whose fault writes the marker in the container and whose revert removes it. */
function markerExperiment(id: string, duration = '2s'): Record<string, unknown> {
  return {
    id,
    title: 'a marker file while the fault lasts',
    hypothesis: 'the marker is there while the fault lasts, and gone once it is reverted',
    targets: { box: { kind: 'docker', container: BOX } },
    steadyState: [{ name: 'no marker', probe: { kind: 'command', container: BOX, command: `test ! -e ${MARKER}` }, expect: { exitCode: { equals: 0 } } }],
    method: [{ fault: { kind: 'docker-exec', target: 'box', command: `echo fault > ${MARKER}`, revert: `rm -f ${MARKER}` }, duration }],
    observe: { interval: '200ms', probes: [{ name: 'marker written', probe: { kind: 'command', container: BOX, command: ['cat', MARKER], match: '^fault' }, expect: { matched: { equals: true } }, samples: 'any' }] },
    recovery: { within: '5s' },
  };
}

/** A process-kill with a restart command; the plan is refused before any target is looked for. */
function restartExperiment(id: string): Record<string, unknown> {
  return {
    id,
    title: 'a killed process restarted',
    hypothesis: 'the process comes back',
    targets: { sleeper: { kind: 'process', pattern: 'gameday-no-such-process' } },
    steadyState: [{ name: 'box runs', probe: { kind: 'docker-container', container: BOX }, expect: { running: { equals: true } } }],
    method: [{ fault: { kind: 'process-kill', target: 'sleeper', restart: 'sleep 1000 &' }, duration: '1s' }],
  };
}

let catalog: string;
let w: TestWorker;

before(async () => {
  await removeContainer(BOX);
  const c = await docker.createContainer({ name: BOX, Image: 'gameday/busybox:local', Cmd: ['sleep', '3600'], Labels: { 'gameday.enabled': 'true', 'gameday.test': BOX } });
  await c.start();
  catalog = await mkdtemp(path.join(os.tmpdir(), 'gameday-commands-catalog-'));
  await writeFile(path.join(catalog, 'commands-marker.json'), JSON.stringify(markerExperiment('commands-marker')));
  await writeFile(path.join(catalog, 'commands-janitor.json'), JSON.stringify(markerExperiment('commands-janitor', '60s')));
  w = await startWorker('commands', { experimentsDir: catalog });
});

after(async () => {
  await w?.stop();
  await removeContainer(BOX);
});

describe('the command probe', () => {
  const sample = (probe: ProbeSpec, expect?: Record<string, object>) => runCheck({ name: 'c', probe, expect }, 'observe', { docker });

  test('in a container: the exit status and output of the command, and whether the output matched', async () => {
    const ok = await sample({ kind: 'command', container: BOX, command: 'echo hello from $(hostname); exit 3', match: 'hello from' }, { exitCode: { equals: 3 }, matched: { equals: true } });
    assert.equal(ok.error, '');
    assert.equal(ok.measurement.exitCode, 3);
    assert.match(String(ok.measurement.output), /^hello from \w+\n$/);
    assert.equal(ok.measurement.matched, true);
    assert.equal(ok.ok, true);
    const words = await sample({ kind: 'command', container: BOX, command: ['cat', '/no/such/file'], match: '^fine$' });
    assert.equal(words.measurement.exitCode, 1);
    assert.match(String(words.measurement.output), /No such file/);
    assert.equal(words.measurement.matched, false);
  });

  test('on the host without a container', async () => {
    const s = await sample({ kind: 'command', command: ['node', '-e', 'console.log("host " + process.pid)'] });
    assert.equal(s.measurement.exitCode, 0);
    assert.match(String(s.measurement.output), /^host \d+/);
  });

  test('a command that outlasts its timeout is killed, and the sample says so', async () => {
    const s = await sample({ kind: 'command', container: BOX, command: 'sleep 37', timeout: '300ms' });
    assert.match(s.error, /TIMEOUT: the command ran longer than its timeout \(0\.3 s\) and was killed/);
    await eventually('the sleep to be gone from the container', async () => !(await shIn(BOX, 'ps')).includes('sleep 37'), 5000);
  });

  test('a container that does not exist is the sample\'s error', async () => {
    const s = await sample({ kind: 'command', container: `${BOX}-none`, command: 'true' });
    assert.equal(s.error, `no container named ${BOX}-none`);
  });
});

describe('the docker-exec fault', () => {
  test('from the catalog: its command writes the marker, seen during the run; its revert removes it', async () => {
    const result = (await (await w.start({ experiment: 'commands-marker' })).result()) as ExperimentResult;
    assert.equal(result.verdict, 'passed', result.reason);
    assert.equal(result.rollback, 'complete');
    assert.equal(await markerThere(), false, 'no marker in the container after rollback');
  });

  test('a fault whose revert never comes ends by itself at its self-limit: a host process runs the revert command', async () => {
    const id = (await docker.getContainer(BOX).inspect()).Id;
    const target = { name: 'box', kind: 'docker' as const, selector: `container ${BOX}`, refs: [{ id, name: BOX }], spec: { kind: 'docker' as const, container: BOX } };
    const planned = planFault(`commands-limit-${Date.now()}`, 'f1', 0, { kind: 'docker-exec', target: 'box', command: `echo limit > ${MARKER}`, revert: `rm -f ${MARKER}` }, target, 500);
    await injectFault({ docker, selfLimitGraceMs: 500 }, planned);
    assert.equal(await markerThere(), true, 'the command ran');
    assert.equal((await selfLimitProcesses(planned, target.refs[0])).length, 1, 'one self-limit process waits');
    await eventually('the self-limit to remove the marker', async () => !(await markerThere()), 10_000);
    await eventually('the self-limit process to exit', async () => (await selfLimitProcesses(planned, target.refs[0])).length === 0, 5000);
  });

  test('a terminated run\'s fault is reverted by the janitor, which runs its revert command', async () => {
    const handle = await w.start({ experiment: 'commands-janitor' });
    await eventually('the marker to be written', markerThere, 20_000);
    await handle.terminate('testing the janitor on a docker-exec fault');
    const result = (await w.client.workflow.execute('janitor', { taskQueue: w.taskQueue, workflowId: `janitor-commands-${Date.now()}`, args: [{ taskQueue: w.taskQueue, lookbackMs: 10 * 60_000 }] })) as JanitorResult;
    const mine = result.actions.filter((a) => a.workflowId === handle.workflowId);
    assert.deepEqual(mine.map((a) => a.outcome), [`ran \`rm -f ${MARKER}\` in container ${BOX}`]);
    assert.equal(await markerThere(), false);
  });
});

describe('commands come only from files in the catalog', () => {
  test('an inline spec with a command is refused, naming the field, on a worker without GAMEDAY_ALLOW_INLINE_COMMANDS', async () => {
    const spec = { ...markerExperiment('commands-inline'), method: [{ fault: { kind: 'docker-exec', target: 'box', command: 'echo inline > /tmp/inline', revert: 'rm -f /tmp/inline' }, duration: '1s' }] };
    const result = (await (await w.start({ spec })).result()) as ExperimentResult;
    assert.equal(result.verdict, 'error');
    assert.match(result.reason, /<input>: method\.0\.fault\.command: the command `echo inline > \/tmp\/inline` is in no experiment file of the catalog/);
    assert.match(result.reason, /<input>: method\.0\.fault\.revert: the command `rm -f \/tmp\/inline` is in no experiment file/);
    assert.match(result.reason, /unless the worker sets GAMEDAY_ALLOW_INLINE_COMMANDS=true/);
    assert.equal((await shIn(BOX, 'test -e /tmp/inline && echo yes || echo no')).includes('yes'), false, 'nothing ran');
  });

  test('a spec that claims a catalog file as its source is still held to the catalog\'s commands', async () => {
    const spec = { ...markerExperiment('commands-marker'), steadyState: [{ name: 'x', probe: { kind: 'command', command: 'touch /tmp/gameday-claimed' }, expect: { exitCode: { equals: 0 } } }] };
    const result = (await (await w.start({ spec, source: path.join(catalog, 'commands-marker.json') })).result()) as ExperimentResult;
    assert.equal(result.verdict, 'error');
    assert.match(result.reason, /commands-marker\.json: steadyState\.0\.probe\.command: the command `touch \/tmp\/gameday-claimed` is in no experiment file/);
  });

  test('process-kill\'s restart given inline is refused the same way', async () => {
    const result = (await (await w.start({ spec: restartExperiment('commands-restart') })).result()) as ExperimentResult;
    assert.equal(result.verdict, 'error');
    assert.match(result.reason, /<input>: method\.0\.fault\.restart: the command `sleep 1000 &` is in no experiment file of the catalog/);
  });

  test('the same inline spec runs on a worker with GAMEDAY_ALLOW_INLINE_COMMANDS=true', async () => {
    process.env.GAMEDAY_ALLOW_INLINE_COMMANDS = 'true';
    let allowing: TestWorker | undefined;
    try {
      allowing = await startWorker('commands-allowed');
    } finally {
      delete process.env.GAMEDAY_ALLOW_INLINE_COMMANDS;
    }
    try {
      const result = (await (await allowing.start({ spec: markerExperiment('commands-allowed') })).result()) as ExperimentResult;
      assert.equal(result.verdict, 'passed', result.reason);
      assert.equal(await markerThere(), false);
    } finally {
      await allowing.stop();
    }
  });

  test('the janitor does not run a revert command that a run\'s memo carries and no catalog file holds', async () => {
    // Whoever starts a run sets its memo and search attributes: here a forged fault record.
    const forged: PlannedFault = {
      id: 'f1',
      step: 0,
      fault: { kind: 'docker-exec', target: 'box', command: 'true', revert: 'echo forged > /tmp/gameday-forged' },
      target: { name: 'box', kind: 'docker', selector: `container ${BOX}`, refs: [{ id: (await docker.getContainer(BOX).inspect()).Id, name: BOX }] },
      status: 'injected',
      description: 'forged',
      tag: 'gameday-forged-f1',
    };
    const handle = await w.client.workflow.start('experiment', {
      taskQueue: w.taskQueue,
      workflowId: `commands-forged-${Date.now()}`,
      args: [{ experiment: 'no-such-experiment' }],
      memo: { [FAULTS_MEMO]: [forged] },
      typedSearchAttributes: [{ key: searchAttributes.activeFaults, value: ['f1'] }],
    });
    await handle.result();
    const result = (await w.client.workflow.execute('janitor', { taskQueue: w.taskQueue, workflowId: `janitor-forged-${Date.now()}`, args: [{ taskQueue: w.taskQueue, lookbackMs: 10 * 60_000 }] })) as JanitorResult;
    const mine = result.actions.filter((a) => a.workflowId === handle.workflowId);
    assert.equal(mine.length, 1, JSON.stringify(result.actions));
    assert.match(mine[0].outcome, /^revert failed, the next run retries: fault f1 \(forged\): method\.0\.fault\.command: /);
    assert.match(mine[0].outcome, /\nfault f1 \(forged\): method\.0\.fault\.revert: the command `echo forged > \/tmp\/gameday-forged` is in no experiment file of the catalog/);
    assert.equal((await shIn(BOX, 'test -e /tmp/gameday-forged && echo yes || echo no')).includes('yes'), false, 'the forged command did not run');
  });
});
