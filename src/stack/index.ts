import { spawn } from 'node:child_process';
import path from 'node:path';
import type Docker from 'dockerode';
import { connect, RetentionPolicy } from 'nats';
import { PROJECT_ROOT } from '../config';

/** The pieces of scripts/provision.sh (`--only <piece>`); chromium is for the Web UI test only, cluster for the multi-process Temporal cluster's. */
export type StackPiece = 'docker' | 'images' | 'compose' | 'temporal' | 'postgres' | 'chromium' | 'cluster';

/**
 * Provisions the local stack (scripts/provision.sh): idempotent, and fast when everything already
 * runs. Its progress goes to stderr; a piece that cannot be provisioned rejects with the script's
 * own message, which says which piece and how to provide it.
 */
export function provisionStack(pieces: StackPiece[] = ['docker', 'images', 'compose', 'temporal', 'postgres']): Promise<void> {
  const args = [path.join(PROJECT_ROOT, 'scripts', 'provision.sh'), ...pieces.flatMap((p) => ['--only', p])];
  return new Promise((resolve, reject) => {
    const child = spawn('bash', args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`provisioning failed (exit ${code}); see the [provision] lines above`))));
  });
}

/** The demo NATS broker chaos-001 runs against. */
export const DEMO_NATS = {
  container: 'demo-nats',
  image: 'gameday/nats:local',
  url: 'nats://127.0.0.1:14222',
  stream: 'tasks',
  subjects: ['tasks.>'],
} as const;

export interface NatsContainerOptions {
  name: string;
  hostPort: number;
  labels?: Record<string, string>;
}

/**
 * Starts a NATS server with JetStream in a container (reusing one that exists), published on
 * 127.0.0.1, labelled as a Gameday target; returns its client URL once the server answers.
 */
/**
 * A container that runs: created (labelled as a Gameday target, its port published on 127.0.0.1)
 * when missing, unpaused or started when it exists but does not run.
 */
async function ensureRunning(docker: Docker, name: string, image: string, cmd: string[], port: number, hostPort: number, labels: Record<string, string>): Promise<void> {
  const existing = docker.getContainer(name);
  const info = await existing.inspect().catch(() => undefined);
  if (!info) {
    const container = await docker.createContainer({
      name,
      Image: image,
      Cmd: cmd,
      Labels: { 'gameday.enabled': 'true', ...labels },
      HostConfig: { PortBindings: { [`${port}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }] } },
      ExposedPorts: { [`${port}/tcp`]: {} },
    });
    await container.start();
  } else if (info.State.Paused) {
    await existing.unpause();
  } else if (!info.State.Running) {
    await existing.start();
  }
}

export async function ensureNatsContainer(docker: Docker, opts: NatsContainerOptions): Promise<string> {
  await ensureRunning(docker, opts.name, DEMO_NATS.image, ['-js', '-sd', '/tmp/js'], 4222, opts.hostPort, opts.labels ?? {});
  const url = `nats://127.0.0.1:${opts.hostPort}`;
  await waitForNats(url, 15_000);
  return url;
}

async function waitForNats(url: string, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      const nc = await connect({ servers: url, timeout: 1000, reconnect: false });
      await nc.close();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`NATS at ${url} did not answer within ${withinMs} ms: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Creates the JetStream stream when it is missing. */
export async function ensureStream(url: string, stream: string, subjects: readonly string[]): Promise<void> {
  const nc = await connect({ servers: url, timeout: 2000, reconnect: false });
  try {
    const jsm = await nc.jetstreamManager({ timeout: 2000 });
    const exists = await jsm.streams.info(stream).then(() => true, () => false);
    if (!exists) await jsm.streams.add({ name: stream, subjects: [...subjects], retention: RetentionPolicy.Limits });
  } finally {
    await nc.close();
  }
}

/**
 * A stand-in worker for the reference cascade (chaos-004): a container answering HTTP on
 * 127.0.0.1:18080 (busybox httpd), so that its health can be probed and its crash seen.
 */
export const DEMO_WORKER = { container: 'demo-worker', image: 'gameday/busybox:local', url: 'http://127.0.0.1:18080/' } as const;

export async function ensureDemoWorker(docker: Docker, name: string = DEMO_WORKER.container, hostPort = 18080): Promise<string> {
  await ensureRunning(docker, name, DEMO_WORKER.image, ['sh', '-c', 'echo ok > /www/index.html && exec httpd -f -p 8080 -h /www'], 8080, hostPort, { 'gameday.demo': 'worker' });
  const url = `http://127.0.0.1:${hostPort}/`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
    if (ok) return url;
    if (Date.now() > deadline) throw new Error(`the demo worker at ${url} did not answer within 15 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The demo targets: demo-nats with its `tasks` stream (chaos-001), and demo-worker (chaos-004). */
export async function ensureDemoTarget(docker: Docker): Promise<void> {
  const url = await ensureNatsContainer(docker, { name: DEMO_NATS.container, hostPort: 14222, labels: { 'gameday.demo': 'nats' } });
  await ensureStream(url, DEMO_NATS.stream, DEMO_NATS.subjects);
  await ensureDemoWorker(docker);
}

export { DEMO_BUILDS, TARGET_SYSTEM, ensureTargetSystem, runningBuild, sendWebhook, targetContainer, waitForMessage, type DemoBuild, type TargetMessage } from './target-system';
