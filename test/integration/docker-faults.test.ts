/**
 * The Docker network and resource faults on real containers (gameday/busybox:local and
 * gameday/nats:local) on a network of their own: a peer really cannot reach the target during the
 * fault and can after revert; the load really shows in the container's cgroup during the fault and
 * is gone after; reverts are idempotent and work with no prior inject.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type Docker from 'dockerode';
import { runHost } from '../../src/faults/container-host';
import { resolveContainers } from '../../src/faults/docker';
import { stressProcesses } from '../../src/faults/docker-stress';
import { describeFault } from '../../src/faults/describe';
import { injectFault, revertFault } from '../../src/faults';
import type { Experiment, FaultSpec } from '../../src/spec/schema';
import type { ContainerRef, ExperimentResult, ExperimentStatus, PlannedFault } from '../../src/types';
import { docker, eventually, removeContainer, startWorker, type TestWorker } from '../helpers';

const P = `gdft-${process.pid}`;
const NET = `${P}-net`;
const SERVER = `${P}-server`;
const CLIENT = `${P}-client`;
const NATS = `${P}-nats`;
const IDLE = `${P}-idle`;
const SERVER_PORT = 14321;
const deps = { docker };

async function exec(name: string, cmd: string[]): Promise<{ code: number; out: string }> {
  const e = await docker.getContainer(name).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await e.start({});
  const chunks: Buffer[] = [];
  stream.on('data', (d: Buffer) => chunks.push(d));
  await new Promise((r) => stream.on('end', r));
  const { ExitCode } = await e.inspect();
  return { code: ExitCode ?? -1, out: Buffer.concat(chunks).toString() };
}

/** What a person types to check the peer: wget from the client container. */
async function clientReaches(host: string): Promise<boolean> {
  // busybox-static's wget crashes here; nc resolves names and speaks enough HTTP.
  const r = await exec(CLIENT, ['sh', '-c', `printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 2 ${host} 8080`]);
  return r.code === 0 && r.out.includes('ok');
}

async function ref(name: string): Promise<ContainerRef> {
  const { refs } = await resolveContainers(docker, 't', { kind: 'docker', container: name }, { allowlist: [] });
  return refs[0];
}

let n = 0;
function planned(fault: FaultSpec, c: ContainerRef, durationMs = 60_000): PlannedFault {
  const target = { name: 't', kind: 'docker' as const, selector: `container ${c.name}`, refs: [c] };
  n += 1;
  return { id: `f${n}`, step: 0, fault, target, status: 'planned', description: describeFault(fault, target), tag: `gameday-${process.pid.toString(16)}-f${n}`, durationMs };
}

async function taggedRules(container: string, tag: string): Promise<number> {
  const pid = (await docker.getContainer(container).inspect()).State.Pid;
  const r = await runHost('nsenter', ['-t', String(pid), '-n', 'iptables', '-S']);
  return r.stdout.split('\n').filter((l) => l.includes(`--comment ${tag}`)).length;
}

/** CPU used by the container per second of wall time, from docker stats (its cgroup). */
async function cpuCores(name: string): Promise<number> {
  const c = docker.getContainer(name);
  const sample = async (): Promise<[number, bigint]> => [((await c.stats({ stream: false })) as Docker.ContainerStats).cpu_stats.cpu_usage.total_usage, process.hrtime.bigint()];
  const [u0, t0] = await sample();
  await new Promise((r) => setTimeout(r, 3000));
  const [u1, t1] = await sample();
  return (u1 - u0) / Number(t1 - t0);
}

async function memoryMb(name: string): Promise<number> {
  const s = (await docker.getContainer(name).stats({ stream: false })) as Docker.ContainerStats;
  return s.memory_stats.usage / 1024 / 1024;
}

/** The processes `docker top` lists in the container, as one string. */
async function top(name: string): Promise<string> {
  const t = (await docker.getContainer(name).top({ ps_args: '-eo pid,args' })) as { Processes?: string[][] };
  return (t.Processes ?? []).map((p) => p.join(' ')).join('\n');
}

describe('Docker network and resource faults on real containers', () => {
  before(async () => {
    for (const c of [SERVER, CLIENT, NATS, IDLE]) await removeContainer(c);
    await docker.getNetwork(NET).remove().catch(() => undefined);
    await docker.createNetwork({ Name: NET, Labels: { 'gameday.test': P } });
    const labels = { 'gameday.enabled': 'true', 'gameday.test': P };
    const server = await docker.createContainer({
      name: SERVER,
      Image: 'gameday/busybox:local',
      Cmd: ['sh', '-c', 'echo ok > /www/index.html && exec httpd -f -p 8080 -h /www'],
      Labels: { ...labels, 'com.docker.compose.service': `${P}-web` },
      ExposedPorts: { '8080/tcp': {} },
      HostConfig: { NetworkMode: NET, PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: String(SERVER_PORT) }] } },
      NetworkingConfig: { EndpointsConfig: { [NET]: { Aliases: [`${P}-alias`, `${P}-web`] } } },
    });
    const client = await docker.createContainer({ name: CLIENT, Image: 'gameday/busybox:local', Cmd: ['sleep', '3600'], Labels: labels, HostConfig: { NetworkMode: NET } });
    const nats = await docker.createContainer({ name: NATS, Image: 'gameday/nats:local', Cmd: ['-p', '4222'], Labels: labels, HostConfig: { NetworkMode: NET } });
    await docker.createContainer({ name: IDLE, Image: 'gameday/busybox:local', Cmd: ['sleep', '3600'], Labels: labels });
    for (const c of [server, client, nats]) await c.start();
    await eventually('the client to reach the server by its alias', () => clientReaches(`${P}-alias`));
  });
  after(async () => {
    for (const c of [SERVER, CLIENT, NATS, IDLE]) await removeContainer(c);
    await docker.getNetwork(NET).remove().catch(() => undefined);
  });

  test('docker-disconnect cuts the server off its network; revert connects it again with its aliases', async () => {
    const f = planned({ kind: 'docker-disconnect', target: 't', network: NET }, await ref(SERVER));
    assert.deepEqual(f.target.refs[0].networks?.[NET]?.aliases.sort(), [`${P}-alias`, `${P}-web`]);
    assert.equal(await clientReaches(`${P}-alias`), true, 'reachable before');
    await injectFault(deps, f);
    await injectFault(deps, f); // a retried activity: already disconnected is done
    const info = await docker.getContainer(SERVER).inspect();
    assert.equal(info.NetworkSettings.Networks[NET], undefined, 'docker inspect: no longer on the network');
    assert.equal(await clientReaches(`${P}-alias`), false, 'the peer cannot reach it during the fault');
    assert.deepEqual(await revertFault(deps, f), [`connected container ${SERVER} to network ${NET} again (aliases ${P}-alias, ${P}-web)`]);
    assert.equal(await eventually('the client to reach the server again', () => clientReaches(`${P}-alias`)), true);
    assert.deepEqual(await revertFault(deps, f), [`container ${SERVER} was connected to network ${NET}`]);
  });

  test('a disconnect recorded without networks comes back under its compose service name; revert with no inject succeeds', async () => {
    const c = await ref(SERVER);
    const bare = planned({ kind: 'docker-disconnect', target: 't', network: NET }, { id: c.id, name: c.name });
    assert.deepEqual(await revertFault(deps, bare), [`container ${SERVER} was connected to network ${NET}`]);
    await docker.getNetwork(NET).disconnect({ Container: c.id });
    assert.deepEqual(await revertFault(deps, bare), [`connected container ${SERVER} to network ${NET} again (aliases ${P}-web)`]);
    assert.equal(await eventually('the client to reach the server by its compose service name', () => clientReaches(`${P}-web`)), true);
  });

  test('docker-disconnect from a network the container is not on says so', async () => {
    const f = planned({ kind: 'docker-disconnect', target: 't', network: NET }, await ref(IDLE));
    await assert.rejects(injectFault(deps, f), new RegExp(`container ${IDLE} is not connected to network ${NET} \\(its networks: bridge\\)`));
  });

  test('docker-packet-loss of 100% on port 8080 makes the server unreachable; revert deletes every tagged rule', async () => {
    const f = planned({ kind: 'docker-packet-loss', target: 't', percent: 100, port: 8080 }, await ref(SERVER));
    assert.equal(await clientReaches(SERVER), true, 'reachable before');
    await injectFault(deps, f);
    await injectFault(deps, f); // not doubled
    assert.equal(await taggedRules(SERVER, f.tag!), 4, 'INPUT and OUTPUT, --dport and --sport, once each');
    assert.equal(await clientReaches(SERVER), false, 'the peer cannot reach it during the fault');
    assert.deepEqual(await revertFault(deps, f), [`removed 4 packet-loss rules tagged ${f.tag} from container ${SERVER}`]);
    assert.equal(await taggedRules(SERVER, f.tag!), 0);
    assert.equal(await eventually('the client to reach the server after revert', () => clientReaches(SERVER)), true);
    assert.deepEqual(await revertFault(deps, f), [`container ${SERVER} had no packet-loss rules tagged ${f.tag}`]);
  });

  test('docker-packet-loss rules stop matching by themselves after the fault duration plus the margin', async () => {
    const f = planned({ kind: 'docker-packet-loss', target: 't', percent: 100 }, await ref(SERVER), 0);
    assert.equal(await clientReaches(SERVER), true, 'reachable before');
    await injectFault(deps, f);
    assert.equal(await clientReaches(SERVER), false, 'dropped at first');
    await eventually('the rules to expire without any revert', () => clientReaches(SERVER), 40_000);
    assert.equal(await taggedRules(SERVER, f.tag!), 2, 'the rules are still there, past their end date');
    await revertFault(deps, f);
    assert.equal(await taggedRules(SERVER, f.tag!), 0);
  });

  test('docker-packet-loss on a stopped container says it is not running; its revert has nothing to do', async () => {
    const f = planned({ kind: 'docker-packet-loss', target: 't', percent: 50 }, await ref(IDLE));
    await assert.rejects(injectFault(deps, f), new RegExp(`container ${IDLE} is created, not running: packet loss needs its network namespace`));
    assert.match((await revertFault(deps, f))[0], /is created: its network namespace, and the rules in it, are gone/);
  });

  test('docker-cpu-stress loads the NATS container (no shell in it) as docker stats shows; revert stops it', async () => {
    const f = planned({ kind: 'docker-cpu-stress', target: 't', workers: 1 }, await ref(NATS));
    const idle = await cpuCores(NATS);
    try {
      await injectFault(deps, f);
      await injectFault(deps, f); // not doubled
      assert.equal((await stressProcesses(f.tag!, f.target.refs[0].id)).length, 1);
      assert.match(await top(NATS), new RegExp(`gameday-stress ${f.tag}`), 'docker top lists the stress in the container');
      // The machine is shared (its load is often several times its 2 cores): a busy thread gets
      // a share of a core, but far more than an idle NATS server uses.
      const busy = await cpuCores(NATS);
      assert.ok(busy > 0.08 && busy > 4 * idle, `docker stats: ${idle.toFixed(3)} cores before, ${busy.toFixed(3)} during`);
    } finally {
      assert.match((await revertFault(deps, f))[0], new RegExp(`^stopped the CPU stress in container ${NATS} \\(pid \\d+\\)$`));
    }
    assert.doesNotMatch(await top(NATS), /gameday-stress/);
    const after = await cpuCores(NATS);
    assert.ok(after < 0.05, `docker stats: ${after.toFixed(3)} cores after revert`);
    assert.deepEqual(await revertFault(deps, f), [`no CPU stress tagged ${f.tag} runs for container ${NATS}`]);
  });

  test('docker-memory-stress holds the memory in the container\'s cgroup until revert', async () => {
    const f = planned({ kind: 'docker-memory-stress', target: 't', megabytes: 128 }, await ref(NATS));
    const before = await memoryMb(NATS);
    await injectFault(deps, f);
    const during = await memoryMb(NATS);
    assert.ok(during - before >= 120, `docker stats: ${before.toFixed(0)} MB before, ${during.toFixed(0)} MB during`);
    await revertFault(deps, f);
    const afterMb = await eventually('the memory to be released', async () => {
      const m = await memoryMb(NATS);
      return m - before < 40 && m;
    });
    assert.ok(afterMb - before < 40);
  });

  test('a stress process ends by itself after its deadline, with no revert', async () => {
    const f = planned({ kind: 'docker-cpu-stress', target: 't' }, await ref(NATS), 0);
    await injectFault(deps, f);
    assert.equal((await stressProcesses(f.tag!, f.target.refs[0].id)).length, 1);
    await eventually('the stress to exit at its deadline', async () => (await stressProcesses(f.tag!, f.target.refs[0].id)).length === 0, 40_000);
    assert.doesNotMatch(await top(NATS), new RegExp(f.tag!));
  });

  test('stress on a paused container is refused, naming it', async () => {
    const f = planned({ kind: 'docker-memory-stress', target: 't', megabytes: 8 }, await ref(CLIENT));
    await docker.getContainer(CLIENT).pause();
    try {
      await assert.rejects(injectFault(deps, f), new RegExp(`container ${CLIENT} is paused`));
    } finally {
      await docker.getContainer(CLIENT).unpause();
    }
  });
});

describe('docker network and resource faults through the experiment workflow', () => {
  const WEB = `${P}-e2e-web`;
  let w: TestWorker;
  before(async () => {
    await removeContainer(WEB);
    const c = await docker.createContainer({
      name: WEB,
      Image: 'gameday/busybox:local',
      Cmd: ['sh', '-c', 'echo ok > /www/index.html && exec httpd -f -p 8080 -h /www'],
      Labels: { 'gameday.enabled': 'true', 'gameday.test': P },
      ExposedPorts: { '8080/tcp': {} },
      HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: String(SERVER_PORT + 1) }] } },
    });
    await c.start();
    w = await startWorker('docker-faults');
  });
  after(async () => {
    await w?.stop();
    await removeContainer(WEB);
  });

  function experiment(id: string, fault: Experiment['method'][number]['fault']): Experiment {
    const probe = { kind: 'http' as const, url: `http://127.0.0.1:${SERVER_PORT + 1}/`, timeout: '1s' };
    return {
      id,
      title: id,
      hypothesis: 'the web server answers again once the fault is reverted',
      targets: { web: { kind: 'docker', container: WEB } },
      steadyState: [{ name: 'web answers', probe, expect: { status: { equals: 200 } } }],
      method: [{ fault, duration: '4s' }],
      observe: { interval: '500ms', probes: [{ name: 'web during the fault', probe }] },
      recovery: { within: '15s', interval: '500ms' },
    };
  }

  async function during(handle: Awaited<ReturnType<TestWorker['start']>>): Promise<ExperimentStatus> {
    return eventually('the observe stage', async () => {
      const s = await handle.query<ExperimentStatus>('status');
      return s.stage === 'observe' && s;
    });
  }

  test('docker-packet-loss: the rules are in place during observe and gone after rollback', async () => {
    const handle = await w.start({ spec: experiment('packet-loss-e2e', { kind: 'docker-packet-loss', target: 'web', percent: 100, port: 8080 }) });
    await during(handle);
    const rules = await runHost('nsenter', ['-t', String((await docker.getContainer(WEB).inspect()).State.Pid), '-n', 'iptables', '-S']);
    assert.match(rules.stdout, /-j DROP/, 'iptables in its namespace has the DROP rules during observe');
    const result = (await handle.result()) as ExperimentResult;
    assert.equal(result.rollback, 'complete');
    const report = await readFile(path.join(result.reportDir, 'report.md'), 'utf8');
    assert.match(report, new RegExp(`\\| f1 \\| drop 100% of packets on port 8080 in container ${WEB} \\| reverted \\|`));
    const pid = (await docker.getContainer(WEB).inspect()).State.Pid;
    assert.doesNotMatch((await runHost('nsenter', ['-t', String(pid), '-n', 'iptables', '-S'])).stdout, /gameday-/, 'no tagged rule left');
    const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as { observations: { error: string }[]; verification: { ok: boolean }[] };
    assert.ok(journal.observations.some((s) => s.error !== ''), 'the probe failed during the fault');
    assert.ok(journal.verification.every((s) => s.ok), 'and answered after rollback');
  });

  test('docker-cpu-stress: the stress runs in the container during observe and is gone after rollback', async () => {
    const handle = await w.start({ spec: experiment('cpu-stress-e2e', { kind: 'docker-cpu-stress', target: 'web', workers: 1 }) });
    await during(handle);
    assert.match(await top(WEB), /gameday-stress gameday-/, 'docker top lists the stress during observe');
    const result = (await handle.result()) as ExperimentResult;
    assert.equal(result.rollback, 'complete');
    assert.doesNotMatch(await top(WEB), /gameday-stress/, 'gone after rollback');
    const report = await readFile(path.join(result.reportDir, 'report.md'), 'utf8');
    assert.match(report, new RegExp(`\\| f1 \\| load 1 CPU in container ${WEB} \\| reverted \\|`));
  });
});
