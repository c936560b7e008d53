import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import { PROJECT_ROOT } from '../config';

/**
 * The demo target system (examples/target-system): the event-driven shape of the reference method.
 *
 *     POST /webhook → api → PostgreSQL (row) → NATS JetStream (tasks.scoring) → worker
 *         → scoring (HTTP) → PostgreSQL (score)
 *     api → every status change, numbered → WebSocket /events → the dashboard page
 *
 * The api and the worker reach postgres, nats and scoring through toxiproxy, so network faults can
 * be injected through its API; toxiproxy reaches scoring through scoring-proxy, Gameday's HTTP
 * fault proxy (src/http-proxy), so HTTP faults can be injected through its admin API without the
 * scoring service's own fault endpoint; a browser reaches the api's dashboard through toxiproxy
 * too (`dashboardUrl`, the proxy `dashboard`). Every container is on the network `demo-target`, known there by
 * its service name (postgres, nats, scoring, scoring-proxy, toxiproxy, api, worker), labelled
 * `gameday.enabled=true` and `gameday.demo=<service>`, and publishes its ports on 127.0.0.1 only.
 */
export const TARGET_SYSTEM = {
  network: 'demo-target',
  apiUrl: 'http://127.0.0.1:18081',
  workerUrl: 'http://127.0.0.1:18083',
  scoringUrl: 'http://127.0.0.1:18082',
  scoringAdminUrl: 'http://127.0.0.1:18092',
  /** The admin API of scoring-proxy, the HTTP fault proxy in front of scoring. */
  scoringProxyAdminUrl: 'http://127.0.0.1:18093',
  toxiproxyUrl: 'http://127.0.0.1:18474',
  /** The api through the Toxiproxy proxy `dashboard`: its page at /dashboard, its WebSocket at /events. */
  dashboardUrl: 'http://127.0.0.1:18084',
  natsUrl: 'nats://127.0.0.1:14223',
  postgresUrl: 'postgres://postgres@127.0.0.1:15432/postgres',
  stream: 'tasks',
  consumer: 'scorer',
} as const;

/**
 * The demo system's two builds, one switch (DEMO_BUILD in the api's and the worker's environment):
 * `weak`, the one the reference experiments are written to find wanting, and `resilient`, with the
 * remediations their reports recommend (examples/target-system/outbox.js and scoring-client.js).
 */
export type DemoBuild = 'weak' | 'resilient';

export const DEMO_BUILDS: readonly DemoBuild[] = ['weak', 'resilient'];

interface ServiceSpec {
  service: string;
  image: string;
  cmd?: string[];
  /** Whether the service has a resilient build (it gets DEMO_BUILD). */
  built?: true;
  /** container port → host port on 127.0.0.1 */
  ports: Record<number, number>;
  /** Limits and restart policy, as docker-compose.yml sets them. */
  limits?: Limits;
}

interface Limits {
  Memory: number;
  MemorySwap: number;
  ShmSize: number;
  RestartPolicy: { Name: string };
}

const MB = 1024 * 1024;

/**
 * The worker's: 192 MB of memory (no swap), a 256 MB /dev/shm, restarted when it exits with an
 * error, as an OOM kill does (chaos-009); a container that `docker kill` or `docker stop` ended is
 * not restarted by Docker.
 */
export const WORKER_LIMITS: Limits = { Memory: 192 * MB, MemorySwap: 192 * MB, ShmSize: 256 * MB, RestartPolicy: { Name: 'on-failure' } };

/** In start order: the dependencies, toxiproxy in front of them, then the api and the worker. */
const SERVICES: ServiceSpec[] = [
  { service: 'postgres', image: 'gameday/postgres:local', ports: { 5432: 15432 } },
  { service: 'nats', image: 'gameday/nats:local', cmd: ['-js', '-sd', '/tmp/js'], ports: { 4222: 14223 } },
  { service: 'scoring', image: 'gameday/target-app:local', cmd: ['scoring.js'], ports: { 8082: 18082, 8092: 18092 } },
  { service: 'scoring-proxy', image: 'gameday/http-proxy:local', cmd: ['--upstream', 'http://scoring:8082', '--listen', '0.0.0.0:8082', '--admin', '0.0.0.0:8093'], ports: { 8093: 18093 } },
  { service: 'toxiproxy', image: 'gameday/toxiproxy:local', cmd: ['-host=0.0.0.0'], ports: { 8474: 18474, 8084: 18084 } },
  { service: 'api', image: 'gameday/target-app:local', cmd: ['api.js'], ports: { 8081: 18081 }, built: true },
  { service: 'worker', image: 'gameday/target-app:local', cmd: ['worker.js'], ports: { 8083: 18083 }, built: true, limits: WORKER_LIMITS },
];

/** The container name of a service of the demo target system: `demo-target-<service>`. */
export function targetContainer(service: string): string {
  return `demo-target-${service}`;
}

async function ensureNetwork(docker: Docker): Promise<void> {
  const exists = await docker.getNetwork(TARGET_SYSTEM.network).inspect().then(() => true, () => false);
  if (!exists) await docker.createNetwork({ Name: TARGET_SYSTEM.network, Driver: 'bridge', Labels: { 'gameday.demo': 'network' } });
}

/** True when the container publishes exactly the spec's ports (a new port needs a new container). */
function publishesPorts(info: Docker.ContainerInspectInfo, spec: ServiceSpec): boolean {
  const bound = Object.entries(info.HostConfig.PortBindings ?? {}).map(([p, b]) => `${p}=${(b as { HostPort: string }[])[0]?.HostPort}`).sort();
  const wanted = Object.entries(spec.ports).map(([p, host]) => `${p}/tcp=${host}`).sort();
  return bound.join(',') === wanted.join(',');
}

/** The label that says which build a container runs. */
const BUILD_LABEL = 'gameday.demo-build';

/** Whether a container has the limits its spec asks for (none asked: any). */
function hasLimits(info: Docker.ContainerInspectInfo, limits: Limits | undefined): boolean {
  if (!limits) return true;
  const h = info.HostConfig;
  return h.Memory === limits.Memory && h.MemorySwap === limits.MemorySwap && h.ShmSize === limits.ShmSize && h.RestartPolicy?.Name === limits.RestartPolicy.Name;
}

/**
 * A service's container, running: created when missing, re-created when its image was rebuilt
 * (provision.sh rebuilds gameday/target-app:local when the app's source changes), when it runs
 * another build, or its limits or ports changed; unpaused or started when it exists but does not run.
 */
async function ensureService(docker: Docker, spec: ServiceSpec, build: DemoBuild): Promise<void> {
  const name = targetContainer(spec.service);
  const existing = docker.getContainer(name);
  const [info, image] = await Promise.all([existing.inspect().catch(() => undefined), docker.getImage(spec.image).inspect()]);
  const labels: Record<string, string> = { 'gameday.enabled': 'true', 'gameday.demo': spec.service, ...(spec.built ? { [BUILD_LABEL]: build } : {}) };
  const current = info !== undefined && info.Image === image.Id && info.Config.Labels[BUILD_LABEL] === labels[BUILD_LABEL] && hasLimits(info, spec.limits) && publishesPorts(info, spec);
  if (info && !current) await existing.remove({ force: true });
  if (!current) {
    const container = await docker.createContainer({
      name,
      Image: spec.image,
      Cmd: spec.cmd,
      Env: spec.built ? [`DEMO_BUILD=${build}`] : undefined,
      Labels: labels,
      ExposedPorts: Object.fromEntries(Object.keys(spec.ports).map((p) => [`${p}/tcp`, {}])),
      HostConfig: {
        ...spec.limits,
        NetworkMode: TARGET_SYSTEM.network,
        PortBindings: Object.fromEntries(Object.entries(spec.ports).map(([p, host]) => [`${p}/tcp`, [{ HostIp: '127.0.0.1', HostPort: String(host) }]])),
      },
      NetworkingConfig: { EndpointsConfig: { [TARGET_SYSTEM.network]: { Aliases: [spec.service] } } },
    });
    await container.start();
  } else if (info.State.Paused) {
    await existing.unpause();
  } else if (!info.State.Running) {
    await existing.start();
  }
}

async function waitFor<T>(what: string, withinMs: number, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + withinMs;
  let last = '';
  for (;;) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (e) {
      last = `: ${(e as Error).message}`;
    }
    if (Date.now() > deadline) throw new Error(`the demo target system: ${what} not within ${withinMs / 1000} s${last}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Creates or updates the proxies of examples/target-system/toxiproxy.json (Toxiproxy's /populate is idempotent). */
async function populateProxies(): Promise<void> {
  const proxies = await readFile(path.join(PROJECT_ROOT, 'examples', 'target-system', 'toxiproxy.json'), 'utf8');
  await waitFor('toxiproxy answering', 15_000, async () => {
    const res = await fetch(`${TARGET_SYSTEM.toxiproxyUrl}/populate`, { method: 'POST', body: proxies, signal: AbortSignal.timeout(2000) });
    if (!res.ok) throw new Error(`POST /populate answered ${res.status}: ${await res.text()}`);
    return true;
  });
}

/** A message as GET /messages/:id shows it. */
export interface TargetMessage {
  id: number;
  text: string;
  status: 'received' | 'queued' | 'rejected' | 'scored' | 'failed';
  score: number | null;
  attempts: number;
  error: string | null;
}

/** POSTs a webhook to the demo api; returns the message id, or throws with the api's answer. */
export async function sendWebhook(text: string, apiUrl: string = TARGET_SYSTEM.apiUrl, timeoutMs = 15_000): Promise<number> {
  const res = await fetch(`${apiUrl}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }), signal: AbortSignal.timeout(timeoutMs) });
  const body = (await res.json()) as { id?: number; error?: string };
  if (res.status !== 202 || body.id === undefined) throw new Error(`POST /webhook answered ${res.status}: ${body.error ?? JSON.stringify(body)}`);
  return body.id;
}

/** Polls GET /messages/:id until the message is scored or failed; throws when it is not within `withinMs`. */
export function waitForMessage(id: number, apiUrl: string = TARGET_SYSTEM.apiUrl, withinMs = 30_000): Promise<TargetMessage> {
  return waitFor(`message ${id} scored or failed`, withinMs, async () => {
    const res = await fetch(`${apiUrl}/messages/${id}`, { signal: AbortSignal.timeout(2000) });
    const message = (await res.json()) as TargetMessage;
    return message.status === 'scored' || message.status === 'failed' ? message : undefined;
  });
}

/**
 * Starts the demo target system on this Docker engine in `build` (default `weak`), idempotently
 * (what runs is kept; what is missing, stopped, paused, built from an older image or running the
 * other build is fixed), and waits until it is healthy: a webhook accepted and its message scored
 * end to end. Needs the images that `scripts/provision.sh --only images` builds. Returns the
 * addresses it publishes.
 */
export async function ensureTargetSystem(docker: Docker, build: DemoBuild = 'weak'): Promise<typeof TARGET_SYSTEM> {
  await ensureNetwork(docker);
  for (const spec of SERVICES) {
    await ensureService(docker, spec, build);
    if (spec.service === 'toxiproxy') await populateProxies();
  }
  await waitFor('api healthy', 30_000, async () => ((await fetch(`${TARGET_SYSTEM.apiUrl}/health`, { signal: AbortSignal.timeout(2000) })).ok ? true : undefined));
  const id = await waitFor('a webhook accepted', 30_000, () => sendWebhook('health check from ensureTargetSystem', TARGET_SYSTEM.apiUrl, 5000));
  const message = await waitForMessage(id);
  if (message.status !== 'scored') throw new Error(`the demo target system: message ${id} ${message.status}: ${message.error ?? ''}`);
  return TARGET_SYSTEM;
}

/** The build the demo system's api runs now (its container's label), or undefined when it has none. */
export async function runningBuild(docker: Docker): Promise<DemoBuild | undefined> {
  const info = await docker.getContainer(targetContainer('api')).inspect().catch(() => undefined);
  const build = info?.Config.Labels[BUILD_LABEL];
  return DEMO_BUILDS.find((b) => b === build);
}
