/**
 * A second host on this machine for the agent tests: a Docker engine of its own in a network
 * namespace of its own (shared/ENVIRONMENT.md: a dockerd in the machine's own namespace would
 * delete the first engine's docker0, and `ip netns exec` hides the cgroup mount from dockerd, so
 * only the network namespace is entered, with nsenter). Its containers' ports answer inside the
 * namespace only, as on another machine. Processes started through `enter` run inside it; they reach
 * the Temporal dev server at the usual 127.0.0.1:7233, and the results store at 127.0.0.1:55432,
 * each through two relays meeting at a unix socket
 * (test/socket-bridge.ts). The test process keeps no socket of that engine but the one it hands to
 * `docker` for its own assertions.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';

export interface SecondHost {
  /** The network namespace (under /var/run/netns). */
  netns: string;
  /** DOCKER_HOST of the second engine. */
  dockerHost: string;
  /** A client of the second engine, for the test's own assertions (docker inspect). */
  docker: Docker;
  /** What runs a command inside the namespace: `nsenter --net=/var/run/netns/NAME` (nsenter execs it: the pid is the command's). */
  enter: string[];
  /** Stops the engine and the relays, removes the namespace and the engine's folder. */
  stop(): Promise<void>;
}

/**
 * What the agent inside reaches at the default addresses, each through its own pair of relays:
 * the Temporal dev server and Gameday's results store (PostgreSQL), where its probes write.
 */
const RELAYED = [
  { name: 'temporal', inside: '127.0.0.1:7233', outside: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' },
  { name: 'results', inside: '127.0.0.1:55432', outside: '127.0.0.1:55432' },
];

function run(cmd: string, args: string[], input?: Buffer): void {
  const r = spawnSync(cmd, args, { input, stdio: [input ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr?.toString().trim()}`);
}

function waitForLine(child: ChildProcess, line: string, what: string, ms = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${ms} ms: ${out}`)), ms);
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.includes(line)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}): ${out}`)));
  });
}

function stopByPidFile(file: string): void {
  try {
    process.kill(Number(readFileSync(file, 'utf8').trim()), 'SIGTERM');
  } catch {
    // not running
  }
}

/**
 * Starts the second host: namespace `netns`, a dockerd in it with its files under `dir` (keep it
 * short: unix socket paths are limited to 108 bytes), `images` loaded from the first engine, and
 * the relays to Temporal. Leftovers of an earlier run of the same name are removed first.
 */
export async function startSecondHost(netns: string, dir: string, images: string[]): Promise<SecondHost> {
  const nsPath = `/var/run/netns/${netns}`;
  const pidFile = path.join(dir, 'docker.pid');
  stopByPidFile(pidFile);
  spawnSync('ip', ['netns', 'del', netns]);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  run('ip', ['netns', 'add', netns]);
  run('nsenter', [`--net=${nsPath}`, 'ip', 'link', 'set', 'lo', 'up']);

  const socket = path.join(dir, 'docker.sock');
  const dockerHost = `unix://${socket}`;
  const log = openSync(path.join(dir, 'dockerd.log'), 'a');
  const dockerd = spawn(
    'nsenter',
    [`--net=${nsPath}`, 'dockerd', '--host', dockerHost, '--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'exec'), '--pidfile', pidFile],
    { stdio: ['ignore', log, log], detached: true },
  );
  dockerd.unref();
  const docker = new Docker({ socketPath: socket });
  const deadline = Date.now() + 30_000;
  while (!(await docker.ping().then(() => true, () => false))) {
    if (Date.now() > deadline) throw new Error(`the second dockerd did not answer on ${socket} within 30 s: see ${path.join(dir, 'dockerd.log')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  for (const image of images) {
    const saved = spawnSync('docker', ['save', image], { maxBuffer: 1 << 30 });
    if (saved.status !== 0) throw new Error(`docker save ${image} failed: ${saved.stderr.toString()}`);
    run('docker', ['-H', dockerHost, 'load'], saved.stdout);
  }

  const bridgeScript = path.join(__dirname, 'socket-bridge.js');
  const relays: ChildProcess[] = [];
  for (const r of RELAYED) {
    const relaySocket = path.join(dir, `${r.name}.sock`);
    const outside = spawn(process.execPath, [bridgeScript, relaySocket, r.outside], { stdio: ['ignore', 'pipe', 'pipe'] });
    relays.push(outside);
    await waitForLine(outside, 'listening', `the ${r.name} relay outside the namespace`);
    const inside = spawn('nsenter', [`--net=${nsPath}`, process.execPath, bridgeScript, r.inside, relaySocket], { stdio: ['ignore', 'pipe', 'pipe'] });
    relays.push(inside);
    await waitForLine(inside, 'listening', `the ${r.name} relay inside the namespace`);
  }

  return {
    netns,
    dockerHost,
    docker,
    enter: ['nsenter', `--net=${nsPath}`],
    async stop() {
      for (const r of relays) r.kill('SIGKILL');
      stopByPidFile(pidFile);
      const until = Date.now() + 15_000;
      while (Date.now() < until && (await docker.ping().then(() => true, () => false))) await new Promise((r) => setTimeout(r, 200));
      spawnSync('ip', ['netns', 'del', netns]);
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // a mount the engine left: the next start removes it
      }
    },
  };
}
