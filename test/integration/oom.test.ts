/**
 * Out of memory, for real: docker-memory-fill on a Node container with a memory limit and a
 * restart policy (gameday/target-app:local, as the demo worker) makes the kernel's OOM killer end
 * the container's own process, which docker inspect shows (OOMKilled, RestartCount) and the
 * restart policy starts again; the fault refuses what would not fill memory, its revert is
 * idempotent, and its watcher removes the file at the self-limit with no revert.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { describeFault } from '../../src/faults/describe';
import { resolveContainers } from '../../src/faults/docker';
import { stressProcesses } from '../../src/faults/docker-stress';
import { injectFault, revertFault } from '../../src/faults';
import type { FaultSpec } from '../../src/spec/schema';
import type { ContainerRef, PlannedFault } from '../../src/types';
import { docker, eventually, removeContainer } from '../helpers';

const P = `gdoom-${process.pid}`;
const LIMITED = `${P}-limited`;
const ROOMY = `${P}-roomy`;
const deps = { docker };
const MB = 1024 * 1024;

/** A Node process that only waits, as the demo's services do between messages. */
async function startNode(name: string, hostConfig: Record<string, unknown>): Promise<void> {
  await removeContainer(name);
  const c = await docker.createContainer({
    name,
    Image: 'gameday/target-app:local',
    Cmd: ['-e', 'setInterval(() => {}, 1000)'],
    Labels: { 'gameday.enabled': 'true' },
    HostConfig: hostConfig,
  });
  await c.start();
}

async function ref(name: string): Promise<ContainerRef> {
  return (await resolveContainers(docker, 't', { kind: 'docker', container: name }, { allowlist: [] })).refs[0];
}

let n = 0;
function planned(fault: FaultSpec, c: ContainerRef, durationMs = 60_000): PlannedFault {
  const target = { name: 't', kind: 'docker' as const, selector: `container ${c.name}`, refs: [c] };
  n += 1;
  return { id: `f${n}`, step: 0, fault, target, status: 'planned', description: describeFault(fault, target), tag: `gameday-${process.pid.toString(16)}-f${n}`, durationMs };
}

async function inspect(name: string) {
  return docker.getContainer(name).inspect();
}

describe('docker-memory-fill on real containers', () => {
  before(async () => {
    // 128 MB for a Node process of some 40 MB: 160 MB in /dev/shm (256 MB) is over the limit.
    await startNode(LIMITED, { Memory: 128 * MB, MemorySwap: 128 * MB, ShmSize: 256 * MB, RestartPolicy: { Name: 'on-failure' } });
    await startNode(ROOMY, {});
  });
  after(async () => {
    await removeContainer(LIMITED);
    await removeContainer(ROOMY);
  });

  test('over the memory limit, the OOM killer ends the container\'s own process: docker inspect says OOMKilled, the restart policy starts it again', async () => {
    const before = await inspect(LIMITED);
    assert.equal(before.State.OOMKilled, false);
    const f = planned({ kind: 'docker-memory-fill', target: 't', megabytes: 160 }, await ref(LIMITED));
    const said = await injectFault(deps, f);
    assert.match(said.join('\n'), new RegExp(`OOM killer ended the writer of /dev/shm/${f.tag} in container ${LIMITED} before its 160 MB \\(its memory limit: 128 MB\\); its process ${before.State.Pid} was killed$`));
    const restarted = await eventually('the container to run again after its OOM kill', async () => {
      const info = await inspect(LIMITED);
      return info.State.Running && info.RestartCount > before.RestartCount && info;
    });
    assert.equal(restarted.State.OOMKilled, true, 'docker inspect: State.OOMKilled');
    assert.notEqual(restarted.State.Pid, before.State.Pid, 'a new process');
    assert.equal(existsSync(`/proc/${restarted.State.Pid}/root/dev/shm/${f.tag}`), false, 'the fill went with the tmpfs of the killed process');
    // Docker may still say the container is restarting (its restart policy at work) when the
    // revert looks: the same nothing to revert, in other words.
    const nothingLeft = new RegExp(
      `^(no /dev/shm/${f.tag} left in container ${LIMITED}: it went with the processes the OOM killer ended|container ${LIMITED} is restarting: its tmpfs, and /dev/shm/${f.tag} in it, went with its processes); its last exit was an OOM kill, restarts: (\\d+)$`,
    );
    // At least the restart seen above: a later one may come while Docker says it is restarting.
    const restartsSaid = (line: string): number => Number(nothingLeft.exec(line)?.[2]);
    const reverted = await revertFault(deps, f);
    assert.match(reverted[0], nothingLeft);
    assert.ok(restartsSaid(reverted[0]) >= restarted.RestartCount, reverted[0]);
    assert.equal((await stressProcesses(f.tag!, f.target.refs[0].id)).length, 0, 'no watcher left');
    const again = await revertFault(deps, f);
    assert.equal(again.length, 1);
    assert.match(again[0], nothingLeft, 'reverting again does the same nothing');
    assert.equal((await inspect(LIMITED)).State.Running, true);
  });

  test('within the limit the fill is held in the tmpfs of the container until revert removes it', async () => {
    const f = planned({ kind: 'docker-memory-fill', target: 't', megabytes: 48, path: '/dev/shm' }, await ref(ROOMY));
    const pid = (await inspect(ROOMY)).State.Pid;
    assert.match((await injectFault(deps, f)).join('\n'), new RegExp(`^wrote 48 MB into /dev/shm/${f.tag} in container ${ROOMY} \\(it has no memory limit: the host holds the fill\\)$`));
    assert.match((await injectFault(deps, f)).join('\n'), /is in place$/, 'not written twice');
    assert.equal(existsSync(`/proc/${pid}/root/dev/shm/${f.tag}`), true);
    assert.deepEqual(await revertFault(deps, f), [`removed /dev/shm/${f.tag} from container ${ROOMY}`]);
    assert.equal(existsSync(`/proc/${pid}/root/dev/shm/${f.tag}`), false);
    assert.deepEqual(await revertFault(deps, f), [`no /dev/shm/${f.tag} left in container ${ROOMY}`]);
  });

  test('a path that is no tmpfs, or too small for the fill, is refused naming the path and what to change', async () => {
    const c = await ref(ROOMY);
    await assert.rejects(injectFault(deps, planned({ kind: 'docker-memory-fill', target: 't', megabytes: 8, path: '/app' }, c)), new RegExp(`/app in container ${ROOMY} is not a tmpfs: a file there would fill its disk, not its memory`));
    await assert.rejects(injectFault(deps, planned({ kind: 'docker-memory-fill', target: 't', megabytes: 100 }, c)), new RegExp(`/dev/shm in container ${ROOMY} has 64 MB free, less than the 100 MB to write: make it larger \\(shm_size`));
    await assert.rejects(injectFault(deps, planned({ kind: 'docker-memory-fill', target: 't', megabytes: 8, path: '/nowhere' }, c)), new RegExp(`container ${ROOMY} has no directory /nowhere to fill \\(ENOENT\\)`));
  });

  test('with no revert, the watcher removes the fill at the self-limit and exits', async () => {
    const f = planned({ kind: 'docker-memory-fill', target: 't', megabytes: 8 }, await ref(ROOMY), 0);
    const pid = (await inspect(ROOMY)).State.Pid;
    await injectFault(deps, f);
    assert.equal(existsSync(`/proc/${pid}/root/dev/shm/${f.tag}`), true);
    await eventually('the fill to be removed at its deadline', async () => !existsSync(`/proc/${pid}/root/dev/shm/${f.tag}`), 20_000);
    await eventually('the watcher to exit', async () => (await stressProcesses(f.tag!, f.target.refs[0].id)).length === 0, 5_000);
  });
});
