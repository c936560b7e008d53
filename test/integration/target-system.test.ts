/**
 * The demo target system (examples/target-system) on the real Docker engine: a webhook goes through
 * PostgreSQL, NATS JetStream, the worker and the scoring service to a scored row; the scoring
 * service's fault endpoint really answers errors and delays; Toxiproxy really sits between the api
 * and PostgreSQL; and docker-compose brings the same system up and down from the local images.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from 'pg';
import { TARGET_SYSTEM, ensureTargetSystem, sendWebhook, waitForMessage } from '../../src/stack';
import { WORKER_LIMITS } from '../../src/stack/target-system';
import { containerState, docker } from '../helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const EXAMPLE_DIR = path.join(ROOT, 'examples', 'target-system');

async function setScoringFault(fault: Record<string, number> | null, adminUrl: string = TARGET_SYSTEM.scoringAdminUrl): Promise<void> {
  const res = await fetch(`${adminUrl}/fault`, fault ? { method: 'PUT', body: JSON.stringify(fault) } : { method: 'DELETE' });
  assert.equal(res.status, 200, await res.text());
}

function score(text: string, timeoutMs = 5000): Promise<Response> {
  return fetch(`${TARGET_SYSTEM.scoringUrl}/score`, { method: 'POST', body: JSON.stringify({ text }), signal: AbortSignal.timeout(timeoutMs) });
}

describe('the demo target system started by ensureTargetSystem', () => {
  before(async () => {
    await ensureTargetSystem(docker);
  });
  after(async () => {
    await setScoringFault(null).catch(() => undefined);
    await fetch(`${TARGET_SYSTEM.toxiproxyUrl}/proxies/postgres/toxics/test-latency`, { method: 'DELETE' }).catch(() => undefined);
  });

  test('every service runs in its own labelled container on the demo-target network', async () => {
    for (const service of ['postgres', 'nats', 'scoring', 'scoring-proxy', 'toxiproxy', 'api', 'worker']) {
      const info = await docker.getContainer(`demo-target-${service}`).inspect();
      assert.equal(info.State.Running, true, `${service} runs`);
      assert.equal(info.Config.Labels['gameday.enabled'], 'true');
      assert.equal(info.Config.Labels['gameday.demo'], service);
      assert.ok(info.NetworkSettings.Networks['demo-target'], `${service} is on demo-target`);
      for (const bindings of Object.values(info.HostConfig.PortBindings ?? {}) as { HostIp: string }[][]) {
        assert.ok(bindings.every((b) => b.HostIp === '127.0.0.1'), `${service} publishes on 127.0.0.1 only`);
      }
    }
  });

  test('the worker has a memory limit without swap, room in /dev/shm and the restart policy on-failure', async () => {
    const { HostConfig } = await docker.getContainer('demo-target-worker').inspect();
    assert.deepEqual([HostConfig.Memory, HostConfig.MemorySwap, HostConfig.ShmSize, HostConfig.RestartPolicy?.Name], [192 * 1024 * 1024, 192 * 1024 * 1024, 256 * 1024 * 1024, 'on-failure']);
  });

  test('ensureTargetSystem is idempotent: a second call keeps the running containers', async () => {
    const before = (await docker.getContainer('demo-target-api').inspect()).Id;
    await ensureTargetSystem(docker);
    assert.equal((await docker.getContainer('demo-target-api').inspect()).Id, before);
  });

  test('a webhook is stored in PostgreSQL, queued on JetStream, scored by the worker and written back', async () => {
    const id = await sendWebhook('the end-to-end test message');
    const message = await waitForMessage(id);
    assert.equal(message.status, 'scored');
    assert.equal(typeof message.score, 'number');
    const pg = new Client({ connectionString: TARGET_SYSTEM.postgresUrl });
    await pg.connect();
    try {
      const { rows } = await pg.query<{ status: string; score: number }>('SELECT status, score FROM messages WHERE id = $1', [id]);
      assert.deepEqual(rows, [{ status: 'scored', score: message.score }], 'the row in PostgreSQL itself');
      const scorings = await pg.query<{ delivery: number; outcome: string; finished: boolean }>('SELECT delivery, outcome, finished_at IS NOT NULL AS finished FROM scorings WHERE message_id = $1', [id]);
      assert.deepEqual(scorings.rows, [{ delivery: 1, outcome: 'scored', finished: true }], 'one scoring, of its first delivery, finished');
    } finally {
      await pg.end();
    }
    const logs = (await docker.getContainer('demo-target-worker').logs({ stdout: true, tail: 200 })).toString('utf8');
    assert.match(logs, new RegExp(`scored id=${id} score=`), 'the worker logged one line for the message');
  });

  test('a webhook without text is refused with 400 and a message naming the field', async () => {
    const res = await fetch(`${TARGET_SYSTEM.apiUrl}/webhook`, { method: 'POST', body: '{"txt": "typo"}' });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: string }).error, /^text: /);
  });

  test('the scoring fault endpoint answers the injected status, and the worker marks the message failed after its attempts', async () => {
    await setScoringFault({ status: 503 });
    try {
      assert.equal((await score('direct')).status, 503);
      const message = await waitForMessage(await sendWebhook('scored while the scoring service fails'));
      assert.equal(message.status, 'failed');
      assert.equal(message.attempts, 3);
      assert.match(message.error ?? '', /503/);
    } finally {
      await setScoringFault(null);
    }
    assert.equal((await score('after')).status, 200, 'normal again once the fault is deleted');
  });

  test('a scoring delay makes a request with a shorter client timeout fail', async () => {
    await setScoringFault({ delayMs: 3000 });
    try {
      await assert.rejects(score('slow', 500), { name: 'TimeoutError' });
    } finally {
      await setScoringFault(null);
    }
    assert.equal((await score('fast again', 2000)).status, 200);
  });

  test('the scoring fault endpoint refuses a fault it cannot apply, naming the field', async () => {
    const res = await fetch(`${TARGET_SYSTEM.scoringAdminUrl}/fault`, { method: 'PUT', body: '{"status": 200}' });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: string }).error, /^status: /);
  });

  test('the known weakness: while NATS is paused the webhook does not answer, since it awaits the publish', async () => {
    const nats = docker.getContainer('demo-target-nats');
    await nats.pause();
    try {
      await assert.rejects(sendWebhook('while NATS is paused', TARGET_SYSTEM.apiUrl, 2000), { name: 'TimeoutError' });
    } finally {
      await nats.unpause();
    }
    assert.equal((await containerState('demo-target-nats')).Paused, false);
    const message = await waitForMessage(await sendWebhook('after NATS resumed'));
    assert.equal(message.status, 'scored', 'the system answers again once NATS resumes');
  });

  test('Toxiproxy sits between the api and PostgreSQL: a latency toxic makes a read with a short client timeout fail', async () => {
    const proxies = (await (await fetch(`${TARGET_SYSTEM.toxiproxyUrl}/proxies`)).json()) as Record<string, { upstream: string }>;
    assert.deepEqual(Object.keys(proxies).sort(), ['dashboard', 'nats', 'postgres', 'scoring']);
    const id = await sendWebhook('read through the proxy');
    const read = (timeoutMs: number): Promise<Response> => fetch(`${TARGET_SYSTEM.apiUrl}/messages/${id}`, { signal: AbortSignal.timeout(timeoutMs) });
    const toxic = { name: 'test-latency', type: 'latency', stream: 'downstream', attributes: { latency: 3000 } };
    const added = await fetch(`${TARGET_SYSTEM.toxiproxyUrl}/proxies/postgres/toxics`, { method: 'POST', body: JSON.stringify(toxic) });
    assert.equal(added.status, 200, await added.text());
    try {
      await assert.rejects(read(1000), { name: 'TimeoutError' });
    } finally {
      await fetch(`${TARGET_SYSTEM.toxiproxyUrl}/proxies/postgres/toxics/test-latency`, { method: 'DELETE' });
    }
    // The slowed connections drain; then reads answer again.
    await waitForMessage(id);
    assert.equal((await read(5000)).status, 200);
  });
});

function compose(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const files = ['-f', 'docker-compose.yml', '-f', 'docker-compose.local.yml'];
  return new Promise((resolve, reject) =>
    execFile('docker-compose', [...files, ...args], { cwd: EXAMPLE_DIR, env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      error ? reject(new Error(`docker-compose ${args.join(' ')}: ${error.message}\n${stderr}`)) : resolve(stdout + stderr),
    ),
  );
}

describe('docker-compose with the local override', () => {
  const project = `gamedaytarget${process.pid}`;
  // Ports of their own, so the compose stack runs beside the one ensureTargetSystem keeps.
  const env = {
    COMPOSE_PROJECT_NAME: project,
    TARGET_POSTGRES_PORT: '25432',
    TARGET_NATS_PORT: '24223',
    TARGET_SCORING_PORT: '28082',
    TARGET_SCORING_ADMIN_PORT: '28092',
    TARGET_SCORING_PROXY_ADMIN_PORT: '28093',
    TARGET_TOXIPROXY_PORT: '28474',
    TARGET_API_PORT: '28081',
    TARGET_WORKER_PORT: '28083',
    TARGET_DASHBOARD_PORT: '28084',
  };
  after(async () => {
    await compose(['down', '--volumes', '--timeout', '2'], env).catch(() => undefined);
  });

  test('brings the system up from the local images, scores a webhook, and brings it down', async () => {
    await compose(['up', '-d', '--no-build'], env);
    const apiContainer = `${project}_api_1`;
    assert.equal((await containerState(apiContainer)).Running, true);
    const apiUrl = 'http://127.0.0.1:28081';
    const deadline = Date.now() + 60_000;
    let id: number | undefined;
    while (id === undefined) {
      id = await sendWebhook('through docker-compose', apiUrl, 5000).catch((e: Error) => {
        if (Date.now() > deadline) throw e;
        return new Promise<undefined>((r) => setTimeout(() => r(undefined), 500));
      });
    }
    const message = await waitForMessage(id, apiUrl);
    assert.equal(message.status, 'scored');
    const worker = (await docker.getContainer(`${project}_worker_1`).inspect()).HostConfig;
    assert.deepEqual([worker.Memory, worker.MemorySwap, worker.ShmSize, worker.RestartPolicy?.Name], [WORKER_LIMITS.Memory, WORKER_LIMITS.MemorySwap, WORKER_LIMITS.ShmSize, WORKER_LIMITS.RestartPolicy.Name], 'the same worker limits as ensureTargetSystem');
    const page = await fetch('http://127.0.0.1:28084/dashboard');
    assert.match(await page.text(), /<title>Demo dashboard<\/title>/, 'the dashboard page answers through the proxy');

    await compose(['down', '--volumes', '--timeout', '2'], env);
    const left = await docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${project}`] } });
    assert.deepEqual(left, [], 'no container of the project is left');
  });
});
