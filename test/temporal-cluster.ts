/**
 * A real multi-process Temporal cluster for the tests: the Temporal server v1.29.1's own binary
 * (built once into the cache by scripts/temporal-cluster.sh), PostgreSQL persistence and SQL
 * visibility on a PostgreSQL server of its own, and one process per service: frontend, matching,
 * worker, and two history processes sharing the shards. The processes find each other through the
 * `cluster_membership` table, as in production. The same cluster with the official images:
 * docker-compose.yml at the project's root.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { searchAttributes } from '../src/search-attributes';
import { startPrivatePostgres, type PrivatePostgres } from './pg-server';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');

/** The cluster's processes, each a `server start --service …`. */
export type ClusterService = 'frontend' | 'matching' | 'worker' | 'history-a' | 'history-b';
const SERVICES: ClusterService[] = ['frontend', 'matching', 'history-a', 'history-b', 'worker'];

/** The cluster's shard count (docker-compose.yml's NUM_HISTORY_SHARDS says the same). */
export const CLUSTER_SHARDS = 4;

/** The ports a cluster takes: `base` for the frontend's gRPC, the others from it (see `portsFrom`). */
export interface ClusterOptions {
  /** The frontend's gRPC port; the cluster takes base … base+19 and base+200 (PostgreSQL). Default 27233. */
  base?: number;
  numHistoryShards?: number;
}

interface ServicePorts {
  grpc: number;
  membership: number;
}

function portsFrom(base: number): { services: Record<ClusterService, ServicePorts>; frontendHttp: number; postgres: number } {
  return {
    services: {
      frontend: { grpc: base, membership: base + 10 },
      'history-a': { grpc: base + 1, membership: base + 11 },
      matching: { grpc: base + 2, membership: base + 12 },
      worker: { grpc: base + 6, membership: base + 16 },
      'history-b': { grpc: base + 7, membership: base + 17 },
    },
    frontendHttp: base + 5,
    postgres: base + 200,
  };
}

/** Where a workflow's shard lives, as the cluster itself says (tdbg workflow describe). */
export interface ShardOwner {
  shardId: number;
  service: 'history-a' | 'history-b';
  /** The address the frontend's membership ring gave for the shard. */
  address: string;
}

export interface TemporalCluster {
  /** The frontend's host:port, what a client or worker connects to (TEMPORAL_ADDRESS). */
  address: string;
  namespace: string;
  /** A database `gameday` on the cluster's own PostgreSQL, for a worker's results store. */
  resultsUrl: string;
  /** Whether this start built the server (not cached yet), and how long provisioning, start took. */
  timings: { built: boolean; provisionMs: number; startMs: number };
  /** The pid of a running service's process. */
  pid(service: ClusterService): number | undefined;
  /** SIGKILL of one process; resolves once it has exited. */
  kill(service: ClusterService): Promise<void>;
  /** Starts a killed process again; resolves once it has joined the membership ring. */
  restart(service: ClusterService): Promise<void>;
  /** Which history process owns the shard of a workflow (the cluster is asked, nothing is computed here). */
  shardOwner(workflowId: string): Promise<ShardOwner>;
  /** True when the frontend answers `operator cluster health` with SERVING. */
  healthy(): Promise<boolean>;
  /** The output of a service's process (every start of it), for a failing test's message. */
  log(service: ClusterService): Promise<string>;
  /** Kills every process and removes the PostgreSQL server and the folder. */
  stop(): Promise<void>;
}

/** The Temporal CLI scripts/provision.sh found or built (namespace, search attributes, health). */
async function temporalCli(): Promise<string> {
  if (process.env.TEMPORAL_CLI_PATH) return process.env.TEMPORAL_CLI_PATH;
  const recorded = path.join(ROOT, '.gameday', 'temporal-cli-path');
  if (existsSync(recorded)) return (await readFile(recorded, 'utf8')).trim();
  return path.join(os.homedir(), '.cache', 'gameday', 'bin', 'temporal');
}

/** Runs scripts/temporal-cluster.sh: the cached server folder, building it first when missing. */
async function serverBinaries(): Promise<{ dir: string; built: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(ROOT, 'scripts', 'temporal-cluster.sh')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve({ dir: out.trim(), built: err.includes('building the Temporal server') }) : reject(new Error(`scripts/temporal-cluster.sh failed (exit ${code}):\n${err}`))));
  });
}

function configYaml(ports: ReturnType<typeof portsFrom>, root: string, numHistoryShards: number): string {
  const store = (db: string, maxConns: number) => `      sql:
        pluginName: postgres12
        databaseName: ${db}
        connectAddr: 127.0.0.1:${ports.postgres}
        connectProtocol: tcp
        user: postgres
        password: ""
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: 1h`;
  const rpc = (s: ClusterService, extra = '') => `    rpc:
      grpcPort: ${ports.services[s].grpc}
      membershipPort: ${ports.services[s].membership}
      bindOnLocalHost: true${extra}`;
  return `log:
  stdout: true
  level: info
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: ${numHistoryShards}
  datastores:
    default:
${store('temporal', 10)}
    visibility:
${store('temporal_visibility', 4)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
services:
  frontend:
${rpc('frontend', `\n      httpPort: ${ports.frontendHttp}`)}
  matching:
${rpc('matching')}
  history:
${rpc('history-a')}
  worker:
${rpc('worker')}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: 127.0.0.1:${ports.services.frontend.grpc}
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: ${path.join(root, 'config', 'dynamicconfig.yaml')}
  pollInterval: 10s
`;
}

/**
 * The zone file of the second history process: a zone file replaces whole maps, so it repeats
 * the whole `rpc` block of the history service with ports of its own.
 */
function historyBZone(ports: ReturnType<typeof portsFrom>): string {
  return `services:
  history:
    rpc:
      grpcPort: ${ports.services['history-b'].grpc}
      membershipPort: ${ports.services['history-b'].membership}
      bindOnLocalHost: true
`;
}

// A new search attribute is usable at once (SQL visibility caches them otherwise).
const DYNAMIC_CONFIG = `system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
`;

const READY_LINE = 'Membership heartbeat upserted successfully';
const ENV = 'cluster';

const CLI_TYPES: Record<string, string> = { KEYWORD: 'Keyword', KEYWORD_LIST: 'KeywordList', BOOL: 'Bool' };

/**
 * Starts a cluster (about 10 s once built): its PostgreSQL server, the `temporal` and
 * `temporal_visibility` databases with their schema, the five processes, the namespace `default`
 * and Gameday's search attributes. Rejects, saying which step failed, with whatever was started stopped.
 */
export async function startTemporalCluster(opts: ClusterOptions = {}): Promise<TemporalCluster> {
  const provisionStarted = Date.now();
  const { dir: bin, built } = await serverBinaries();
  const provisionMs = Date.now() - provisionStarted;
  const started = Date.now();
  const ports = portsFrom(opts.base ?? 27233);
  const root = await mkdtemp(path.join(os.tmpdir(), 'gameday-cluster-'));
  const children = new Map<ClusterService, ChildProcess>();
  let pg: PrivatePostgres | undefined;
  const killAll = () => children.forEach((c) => c.kill('SIGKILL'));
  process.once('exit', killAll);

  const stop = async () => {
    process.removeListener('exit', killAll);
    await Promise.all([...children.keys()].map((s) => kill(s)));
    await pg?.stop();
    await rm(root, { recursive: true, force: true });
  };

  async function kill(service: ClusterService): Promise<void> {
    const child = children.get(service);
    if (!child) return;
    children.delete(service);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  const logFile = (s: ClusterService) => path.join(root, 'logs', `${s}.log`);

  async function launch(service: ClusterService): Promise<void> {
    const from = existsSync(logFile(service)) ? (await stat(logFile(service))).size : 0;
    const out = await open(logFile(service), 'a');
    const name = service.startsWith('history') ? 'history' : service;
    const zone = service === 'history-b' ? ['--zone', 'b'] : [];
    const child = spawn(path.join(bin, 'bin', 'server'), ['--root', root, '--config', 'config', '--env', ENV, ...zone, '--allow-no-auth', 'start', '--service', name], {
      stdio: ['ignore', out.fd, out.fd],
    });
    await out.close();
    children.set(service, child);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const text = (await readFile(logFile(service))).subarray(from).toString();
      if (text.includes(READY_LINE)) return;
      if (child.exitCode !== null) throw new Error(`the cluster's ${service} exited (${child.exitCode}) before joining:\n${text.slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`the cluster's ${service} did not join within 60 s:\n${text.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const address = `127.0.0.1:${ports.services.frontend.grpc}`;
  const cli = await temporalCli();
  const temporal = (args: string[]) => run(cli, [...args, '--address', address], { timeout: 20_000 });

  try {
    pg = await startPrivatePostgres(200, { port: ports.postgres });
    const sql = (db: string, args: string[]) =>
      run(path.join(bin, 'bin', 'sql'), ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(ports.postgres), '-u', 'postgres', '--db', db, ...args]);
    for (const [db, schema] of [['temporal', 'temporal'], ['temporal_visibility', 'visibility']]) {
      await sql(db, ['create-database']);
      await sql(db, ['setup-schema', '-v', '0.0']);
      await sql(db, ['update-schema', '-d', path.join(bin, 'schema', 'postgresql', 'v12', schema, 'versioned')]);
    }
    await sql('gameday', ['create-database']);
    await mkdir(path.join(root, 'config'));
    await mkdir(path.join(root, 'logs'));
    await writeFile(path.join(root, 'config', `${ENV}.yaml`), configYaml(ports, root, opts.numHistoryShards ?? CLUSTER_SHARDS));
    await writeFile(path.join(root, 'config', `${ENV}_b.yaml`), historyBZone(ports));
    await writeFile(path.join(root, 'config', 'dynamicconfig.yaml'), DYNAMIC_CONFIG);
    // The first process writes the cluster's metadata; processes starting at the same moment
    // race to insert it and the losers exit ("failed to initialize current cluster metadata").
    await launch(SERVICES[0]);
    await Promise.all(SERVICES.slice(1).map(launch));
    await waitFor('the frontend to answer SERVING', async () => (await temporal(['operator', 'cluster', 'health'])).stdout.includes('SERVING'));
    await temporal(['operator', 'namespace', 'create', '--namespace', 'default', '--retention', '1d']);
    // The frontend's namespace cache learns of it within its refresh period (seconds).
    await waitFor('the namespace default to be served', async () => (await temporal(['workflow', 'list', '--namespace', 'default', '--limit', '1'])) !== undefined);
    for (const key of Object.values(searchAttributes)) {
      await temporal(['operator', 'search-attribute', 'create', '--namespace', 'default', '--name', key.name, '--type', CLI_TYPES[key.type]]);
    }
  } catch (e) {
    const logs = await Promise.all(SERVICES.map(async (s) => `--- ${s}\n${(await readFile(logFile(s), 'utf8').catch(() => '')).slice(-1500)}`));
    await stop();
    throw new Error(`the Temporal cluster did not start: ${(e as Error).message}\n${logs.join('\n')}`);
  }

  const owners = new Map<string, ShardOwner['service']>();
  for (const s of ['history-a', 'history-b'] as const) {
    owners.set(`127.0.0.1:${ports.services[s].grpc}`, s);
    owners.set(`127.0.0.1:${ports.services[s].membership}`, s);
  }

  return {
    address,
    namespace: 'default',
    resultsUrl: `postgres://postgres@127.0.0.1:${ports.postgres}/gameday`,
    timings: { built, provisionMs, startMs: Date.now() - started },
    pid: (s) => children.get(s)?.pid,
    kill,
    restart: launch,
    async shardOwner(workflowId) {
      const { stdout } = await run(path.join(bin, 'bin', 'tdbg'), ['--address', address, '--namespace', 'default', 'workflow', 'describe', '--workflow-id', workflowId], { timeout: 20_000, maxBuffer: 16 << 20 });
      const addr = /History service address: (\S+)/.exec(stdout)?.[1];
      const shard = /Shard Id: (\d+)/.exec(stdout)?.[1];
      const service = addr ? owners.get(addr) : undefined;
      if (!addr || !shard || !service) throw new Error(`tdbg did not name a history process of this cluster for ${workflowId}:\n${stdout.slice(-2000)}`);
      return { shardId: Number(shard), service, address: addr };
    },
    async healthy() {
      return temporal(['operator', 'cluster', 'health']).then(
        (r) => r.stdout.includes('SERVING'),
        () => false,
      );
    },
    log: (s) => readFile(logFile(s), 'utf8'),
    stop,
  };
}

async function waitFor(what: string, fn: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      if (await fn()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
