/**
 * A private PostgreSQL server for a test that must fill every connection slot: doing that to the
 * shared server on 127.0.0.1:55432 would break every other test using it meanwhile. It runs from
 * the binaries scripts/provision.sh installs, as the 'postgres' user when we are root (PostgreSQL
 * refuses to run as root).
 */
import { execFile } from 'node:child_process';
import { chown, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function pgBin(): Promise<string> {
  const versions = (await readdir('/usr/lib/postgresql')).sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error('no PostgreSQL in /usr/lib/postgresql: run scripts/provision.sh');
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres (a superuser). */
  url: string;
  port: number;
  /** The folder of its Unix socket, where the superuser connects without a password whatever `hostAuth` says. */
  socketDir: string;
  /** The server's processes (the postmaster and its children), for a test that pauses them. */
  pids(): Promise<number[]>;
  stop(): Promise<void>;
}

/**
 * Starts a throwaway server with `maxConnections` slots (3 of them reserved for superusers), on
 * `opts.port` when given (a server back on the port of one stopped before), else a free port.
 * `opts.hostAuth: 'scram-sha-256'` makes TCP connections need a password (the Unix socket stays trusted).
 */
export async function startPrivatePostgres(maxConnections: number, opts: { port?: number; hostAuth?: 'trust' | 'scram-sha-256' } = {}): Promise<PrivatePostgres> {
  const bin = await pgBin();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gameday-pg-'));
  const asPostgres = process.getuid?.() === 0;
  const sudo = (cmd: string, args: string[]) => (asPostgres ? run('runuser', ['-u', 'postgres', '--', cmd, ...args]) : run(cmd, args));
  if (asPostgres) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = path.join(dir, 'data');
  await sudo(`${bin}/initdb`, ['-D', data, '--auth-local=trust', `--auth-host=${opts.hostAuth ?? 'trust'}`, '-U', 'postgres']);
  const port = opts.port ?? (await freePort());
  await sudo(`${bin}/pg_ctl`, ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-o', `-p ${port} -k ${dir} -h 127.0.0.1 -c max_connections=${maxConnections} -c superuser_reserved_connections=3`, 'start']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    socketDir: dir,
    async pids() {
      const postmaster = Number((await readFile(path.join(data, 'postmaster.pid'), 'utf8')).split('\n')[0]);
      const children: number[] = [];
      for (const entry of await readdir('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
        // The fields after the command name (which may hold spaces): state, then the parent's pid.
        if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster) children.push(Number(entry));
      }
      return [postmaster, ...children];
    },
    async stop() {
      await sudo(`${bin}/pg_ctl`, ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
