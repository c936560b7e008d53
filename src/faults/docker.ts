import Docker from 'dockerode';
import { FailureType, GamedayError } from '../errors';
import { durationMs } from '../spec/loader';
import type { FaultSpec, TargetSpec } from '../spec/schema';
import type { ContainerRef } from '../types';

/** The Docker engine: DOCKER_HOST when set, else the local socket (dockerode's own default). */
export function connectDocker(): Docker {
  return new Docker();
}

function isNotFound(e: unknown): boolean {
  return (e as { statusCode?: number }).statusCode === 404;
}

/** "container demo-nats" or "containers with labels app=nats". */
export function describeSelector(spec: TargetSpec): string {
  if (spec.container !== undefined) return `container ${spec.container}`;
  return `containers with labels ${Object.entries(spec.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',')}`;
}

/** A container a selector matched, with its labels (the opt-in label among them). */
export interface MatchedContainer extends ContainerRef {
  labels: Record<string, string>;
}

/** The running containers a target selector names now (a named container whatever its state). */
export async function findContainers(docker: Docker, spec: TargetSpec): Promise<MatchedContainer[]> {
  if (spec.container !== undefined) {
    try {
      const info = await docker.getContainer(spec.container).inspect();
      return [{ id: info.Id, name: info.Name.replace(/^\//, ''), labels: info.Config.Labels ?? {} }];
    } catch (e) {
      if (isNotFound(e)) return [];
      throw e;
    }
  }
  const label = Object.entries(spec.labels ?? {}).map(([k, v]) => `${k}=${v}`);
  const list = await docker.listContainers({ filters: { label } });
  return list
    .map((c) => ({ id: c.Id, name: (c.Names[0] ?? c.Id).replace(/^\//, ''), labels: c.Labels ?? {} }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

type DockerFault = Extract<FaultSpec, { kind: `docker-${string}` }>;

async function state(docker: Docker, c: ContainerRef): Promise<{ Running: boolean; Paused: boolean } | undefined> {
  try {
    return (await docker.getContainer(c.id).inspect()).State;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

function seconds(d: string | undefined): number | undefined {
  return d === undefined ? undefined : Math.ceil(durationMs(d) / 1000);
}

/**
 * Injects the fault into one container. Idempotent: a container already paused (or stopped) by
 * an earlier attempt of this same activity is left as it is.
 */
export async function injectDockerFault(docker: Docker, fault: DockerFault, c: ContainerRef): Promise<void> {
  const s = await state(docker, c);
  if (!s) throw new GamedayError(FailureType.TargetNotFound, `container ${c.name} (${c.id.slice(0, 12)}) no longer exists`);
  const container = docker.getContainer(c.id);
  switch (fault.kind) {
    case 'docker-pause':
      if (!s.Paused) await container.pause();
      return;
    case 'docker-stop':
      if (s.Running) await container.stop({ t: seconds(fault.timeout) });
      return;
    case 'docker-kill':
      if (s.Running) await container.kill({ signal: fault.signal ?? 'SIGKILL' });
      return;
    case 'docker-restart':
      await container.restart({ t: seconds(fault.timeout) });
      return;
  }
}

/**
 * Reverts the fault on one container, idempotently: unpausing a running container, or starting
 * one that already runs, succeeds without doing anything. A container that no longer exists has
 * nothing left to revert.
 * @returns what was done, for the rollback record.
 */
export async function revertDockerFault(docker: Docker, fault: DockerFault, c: ContainerRef): Promise<string> {
  const s = await state(docker, c);
  if (!s) return `container ${c.name} no longer exists: nothing to revert`;
  const container = docker.getContainer(c.id);
  switch (fault.kind) {
    case 'docker-pause':
      if (!s.Paused) return `container ${c.name} was not paused`;
      await container.unpause();
      return `unpaused container ${c.name}`;
    case 'docker-stop':
    case 'docker-kill':
    case 'docker-restart':
      if (s.Paused) {
        await container.unpause();
        return `unpaused container ${c.name}`;
      }
      if (s.Running) return `container ${c.name} was running`;
      await container.start();
      return `started container ${c.name}`;
  }
}
