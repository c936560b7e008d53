import Docker from 'dockerode';
import { FailureType, GamedayError } from '../errors';
import { durationMs } from '../spec/loader';
import type { DockerTargetSpec, FaultSpec } from '../spec/schema';
import type { ContainerRef, PlannedFault } from '../types';
import { injectExec, revertExec } from './docker-exec';
import { injectDisconnect, injectPacketLoss, networksOf, revertDisconnect, revertPacketLoss } from './docker-network';
import { injectStress, revertStress } from './docker-stress';
import { isConnectionError, SpecFieldError, TargetUnreachable, type FaultAction, type FaultDeps, type FaultFamily, type FaultKindOf, type PlannedOf, type TargetPolicy } from './family';
import { targetRefs } from './refs';

/** The Docker engine: DOCKER_HOST when set, else the local socket (dockerode's own default). */
export function connectDocker(): Docker {
  return new Docker();
}

function isNotFound(e: unknown): boolean {
  return (e as { statusCode?: number }).statusCode === 404;
}

/** The labels Docker Compose puts on the containers it creates. */
export const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';
export const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';

/** "container demo-nats", "containers with labels app=nats" or "compose service nats of project demo". */
export function describeSelector(spec: DockerTargetSpec): string {
  if (spec.container !== undefined) return `container ${spec.container}`;
  if (spec.compose !== undefined) return `compose service ${spec.compose.service}${spec.compose.project ? ` of project ${spec.compose.project}` : ''}`;
  return `containers with labels ${Object.entries(spec.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',')}`;
}

/** The label selector a label or compose target stands for. */
function labelFilter(spec: DockerTargetSpec): string[] {
  if (spec.compose === undefined) return Object.entries(spec.labels ?? {}).map(([k, v]) => `${k}=${v}`);
  return [`${COMPOSE_SERVICE_LABEL}=${spec.compose.service}`, ...(spec.compose.project ? [`${COMPOSE_PROJECT_LABEL}=${spec.compose.project}`] : [])];
}

/** A container a selector matched, with its labels (the opt-in label among them). */
export interface MatchedContainer extends ContainerRef {
  labels: Record<string, string>;
}

/** The running containers a target selector names now (a named container whatever its state). */
export async function findContainers(docker: Docker, spec: DockerTargetSpec): Promise<MatchedContainer[]> {
  if (spec.container !== undefined) {
    try {
      const info = await docker.getContainer(spec.container).inspect();
      return [{ id: info.Id, name: info.Name.replace(/^\//, ''), labels: info.Config.Labels ?? {} }];
    } catch (e) {
      if (isNotFound(e)) return [];
      throw e;
    }
  }
  const list = await docker.listContainers({ filters: { label: labelFilter(spec) } });
  return list
    .map((c) => ({ id: c.Id, name: (c.Names[0] ?? c.Id).replace(/^\//, ''), labels: c.Labels ?? {} }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The faults on a container's life: pause, stop, kill, restart. */
type LifecycleFault = Extract<FaultSpec, { kind: 'docker-pause' | 'docker-stop' | 'docker-kill' | 'docker-restart' }>;

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
export async function injectDockerFault(docker: Docker, fault: LifecycleFault, c: ContainerRef): Promise<void> {
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
export async function revertDockerFault(docker: Docker, fault: LifecycleFault, c: ContainerRef): Promise<string> {
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

/** The label a container carries to opt in to experiments. */
export const OPT_IN_LABEL = 'gameday.enabled';

/** Picks a random `count` or `percent` of the matches (at least one), or all of them. */
function pick(matches: MatchedContainer[], spec: DockerTargetSpec, random: () => number): MatchedContainer[] {
  if (!spec.pick) return matches;
  const n = 'count' in spec.pick ? spec.pick.count : Math.max(1, Math.floor((matches.length * spec.pick.percent) / 100));
  const shuffled = [...matches];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  return shuffled.slice(0, Math.min(n, matches.length)).sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * A compose service that matched more than one container, with no `pick` to say which: refused,
 * because a service name alone is easily meant for one project and found in several.
 */
function ambiguousService(name: string, compose: NonNullable<DockerTargetSpec['compose']>, matches: MatchedContainer[]): SpecFieldError {
  const found = matches.map((c) => `${c.name} (project ${c.labels[COMPOSE_PROJECT_LABEL] ?? '?'})`).join(', ');
  const fix = compose.project ? 'add pick: { count: 1 } for one of them, or { percent: 100 } for all' : 'name the project in compose.project, or add pick: { count: 1 } for one of them, or { percent: 100 } for all';
  return new SpecFieldError(FailureType.BlastRadiusExceeded, `targets.${name}.compose`, `target '${name}': compose service ${compose.service}${compose.project ? ` of project ${compose.project}` : ''} matches ${matches.length} running containers: ${found}; ${fix}`);
}

/**
 * The containers a docker target names now, picked (`pick`), each opted in (label
 * `gameday.enabled=true`, or its name on the allowlist).
 */
export async function resolveContainers(docker: Docker, name: string, spec: DockerTargetSpec, policy: TargetPolicy, random = Math.random): Promise<{ selector: string; refs: ContainerRef[] }> {
  const selector = describeSelector(spec);
  const matches = await findContainers(docker, spec);
  if (matches.length === 0) throw new GamedayError(FailureType.TargetNotFound, `target '${name}': no ${selector} found on the Docker engine`);
  if (spec.compose && matches.length > 1 && !spec.pick) throw ambiguousService(name, spec.compose, matches);
  const chosen = pick(matches, spec, random);
  for (const c of chosen) {
    if (c.labels[OPT_IN_LABEL] !== 'true' && !policy.allowlist.includes(c.name)) {
      throw new GamedayError(
        FailureType.TargetNotAllowed,
        `target '${name}': container ${c.name} has not opted in to experiments: label it ${OPT_IN_LABEL}=true, or add it to GAMEDAY_ALLOWED_TARGETS on the worker`,
      );
    }
  }
  const refs: ContainerRef[] = [];
  for (const { id, name: n } of chosen) {
    // Its networks now, so that a docker-disconnect revert connects it back as it was.
    const info = await docker.getContainer(id).inspect().catch(() => undefined);
    refs.push(info ? { id, name: n, networks: networksOf(info) } : { id, name: n });
  }
  return { selector: spec.pick ? `${selector}, pick ${JSON.stringify(spec.pick)} of ${matches.length}` : selector, refs };
}

/** The fault's action on each container its target resolved to, in turn; the lines they return. */
async function eachContainer(planned: PlannedFault, fn: (c: ContainerRef) => Promise<string | void>): Promise<string[]> {
  const done: string[] = [];
  for (const c of targetRefs(planned.target)) {
    const line = await fn(c);
    if (line) done.push(line);
  }
  return done;
}

type DockerKind = FaultKindOf<'docker'>;
type PerContainer<N extends DockerKind> = (deps: FaultDeps, planned: PlannedOf<N>, c: ContainerRef) => Promise<string | void>;

/**
 * A docker fault kind acting on each container in turn. A container that no longer exists is
 * gone (each revert says so); an engine that does not answer a revert is TargetUnreachable, retried.
 */
function perContainer<N extends DockerKind>(inject: PerContainer<N>, revert: (deps: FaultDeps, planned: PlannedOf<N>, c: ContainerRef) => Promise<string>): FaultAction<N> {
  return {
    async inject(deps, planned) {
      await eachContainer(planned, (c) => inject(deps, planned, c));
    },
    async revert(deps, planned) {
      try {
        return await eachContainer(planned, (c) => revert(deps, planned, c));
      } catch (e) {
        if (isConnectionError(e)) throw new TargetUnreachable(`the Docker engine (${engineAddress(deps.docker)})`, e);
        throw e;
      }
    },
  };
}

function lifecycle<N extends LifecycleFault['kind']>(): FaultAction<N> {
  return perContainer<N>(
    (deps, planned, c) => injectDockerFault(deps.docker, planned.fault, c),
    (deps, planned, c) => revertDockerFault(deps.docker, planned.fault, c),
  );
}

const stress = <N extends 'docker-cpu-stress' | 'docker-memory-stress'>(): FaultAction<N> =>
  perContainer<N>(
    (deps, planned, c) => injectStress(deps, planned.fault, c, planned),
    (deps, planned, c) => revertStress(deps.docker, planned.fault, c, planned),
  );

/** Faults on containers: their life (pause, stop, kill, restart), their network, their resources. */
export const dockerFaults: FaultFamily<'docker'> = {
  resolve: (deps: FaultDeps, name, spec, policy) => resolveContainers(deps.docker, name, spec, policy),
  faults: {
    'docker-pause': lifecycle(),
    'docker-stop': lifecycle(),
    'docker-kill': lifecycle(),
    'docker-restart': lifecycle(),
    'docker-disconnect': perContainer(
      (deps, planned, c) => injectDisconnect(deps.docker, planned.fault, c),
      (deps, planned, c) => revertDisconnect(deps.docker, planned.fault, c),
    ),
    'docker-packet-loss': perContainer(
      (deps, planned, c) => injectPacketLoss(deps, planned.fault, c, planned),
      (deps, planned, c) => revertPacketLoss(deps.docker, planned.fault, c, planned),
    ),
    'docker-cpu-stress': stress(),
    'docker-memory-stress': stress(),
    'docker-exec': perContainer<'docker-exec'>(injectExec, revertExec),
  },
};

/** Where the engine is: its socket or host, for messages. */
export function engineAddress(docker: Docker): string {
  const m = docker.modem as { socketPath?: string; host?: string; port?: number };
  return m.socketPath ? `unix://${m.socketPath}` : `${m.host ?? 'localhost'}:${m.port ?? ''}`;
}
