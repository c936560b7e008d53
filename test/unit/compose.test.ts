/**
 * The root docker-compose.yml describes the cluster the tests run (test/temporal-cluster.ts) with
 * the official images. It cannot be brought up here (no container registry), so this validates it
 * with `docker-compose config` (docker-compose from scripts/provision.sh) and checks what the
 * resolved file says of the cluster.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { CLUSTER_SHARDS } from '../temporal-cluster';

const ROOT = path.resolve(__dirname, '..', '..', '..');

interface ComposeService {
  image?: string;
  environment?: Record<string, string>;
  ports?: (string | { published?: string | number; target?: number; host_ip?: string })[];
  volumes?: (string | { source?: string; target?: string })[];
  network_mode?: string;
}

let resolved: Promise<{ services: Record<string, ComposeService> }> | undefined;
/** The file as docker-compose resolves it (anchors merged, paths absolute), once per file run. */
function resolvedCompose(): Promise<{ services: Record<string, ComposeService> }> {
  resolved ??= composeConfig();
  return resolved;
}

async function composeConfig(): Promise<{ services: Record<string, ComposeService> }> {
  const { stdout } = await promisify(execFile)('docker-compose', ['-f', path.join(ROOT, 'docker-compose.yml'), 'config'], { cwd: ROOT });
  return parse(stdout) as { services: Record<string, ComposeService> };
}

describe('root docker-compose.yml (validated with docker-compose config; not run: no registry here)', () => {
  test('a multi-process Temporal 1.29.1 cluster on PostgreSQL: frontend, matching, worker, two history processes', async () => {
    const { services } = await resolvedCompose();
    const temporal = Object.entries(services).filter(([, s]) => /^temporalio\/(server|auto-setup):/.test(s.image ?? ''));
    for (const [name, s] of temporal) {
      assert.match(s.image!, /:1\.29\.1$/, `${name} runs the server version the tests build`);
      assert.equal(s.environment?.DB, 'postgres12', `${name} persists to PostgreSQL`);
      assert.notEqual(s.environment?.ENABLE_ES, 'true', `${name} keeps SQL visibility`);
      assert.ok(services[s.environment?.POSTGRES_SEEDS ?? ''], `${name}'s POSTGRES_SEEDS names a service of the file`);
      assert.equal(s.environment?.NUM_HISTORY_SHARDS, String(CLUSTER_SHARDS), `${name} has the shard count of the tests' cluster`);
    }
    assert.deepEqual(temporal.map(([, s]) => s.environment?.SERVICES).sort(), ['frontend', 'history', 'history', 'matching', 'worker']);
    const frontend = temporal.find(([, s]) => s.environment?.SERVICES === 'frontend')!;
    assert.ok(JSON.stringify(frontend[1].ports).includes('7233'), 'the frontend publishes 7233');
    assert.equal(services['temporal-ui'].environment?.TEMPORAL_ADDRESS, `${frontend[0]}:7233`);
  });

  test('every Temporal process reads the dynamic config that makes new search attributes usable at once', async () => {
    const { services } = await resolvedCompose();
    for (const [name, s] of Object.entries(services).filter(([, x]) => x.image?.startsWith('temporalio/server') || x.image?.startsWith('temporalio/auto-setup'))) {
      const target = s.environment?.DYNAMIC_CONFIG_FILE_PATH;
      const mount = s.volumes?.map((v) => (typeof v === 'string' ? { source: v.split(':')[0], target: v.split(':')[1] } : v)).find((v) => v.target === target);
      assert.ok(mount?.source && existsSync(mount.source), `${name} mounts its DYNAMIC_CONFIG_FILE_PATH from a file of the project`);
      assert.match(readFileSync(mount.source, 'utf8'), /system\.forceSearchAttributesCacheRefreshOnRead:\s*\n\s*- value: true/);
    }
  });

  test('the Gameday worker reaches the cluster and the results store on their published ports', async () => {
    const { services } = await resolvedCompose();
    assert.equal(services.worker.network_mode, 'host');
    assert.equal(services.worker.environment?.TEMPORAL_ADDRESS, '127.0.0.1:7233');
    assert.ok(JSON.stringify(services['gameday-db'].ports).includes('55432'), 'the results store is where GAMEDAY_RESULTS_URL\'s default points');
  });
});
