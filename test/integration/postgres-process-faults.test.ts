/**
 * PostgreSQL and host-process faults against the real thing: the provisioned PostgreSQL on
 * 127.0.0.1:55432 (a database of our own), a private PostgreSQL for filling every connection slot,
 * and host processes we spawn ourselves. Each test checks what a person would: a query that fails,
 * a write that cannot get its lock, /proc/<pid>/stat saying T (stopped).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { Client } from 'pg';
import { FAMILIES, injectFault, revertFault, type FaultDeps } from '../../src/faults';
import { planFault } from '../../src/faults/describe';
import { heldCount } from '../../src/faults/postgres-held';
import { findProcesses } from '../../src/faults/host-processes';
import type { FaultSpec, TargetSpec } from '../../src/spec/schema';
import { resolveTargets } from '../../src/targets';
import type { PlannedFault, ResolvedTarget } from '../../src/types';
import { docker, eventually } from '../helpers';
import { startPrivatePostgres, type PrivatePostgres } from '../pg-server';

const SHARED = 'postgres://postgres@127.0.0.1:55432';
const RUN = `${process.pid}${Date.now().toString(36)}`;
const deps: FaultDeps = { docker };
let faults = 0;

/** Resolves a target through its family, as the workflow's resolve stage does. */
async function resolved(spec: TargetSpec, name = 'target'): Promise<ResolvedTarget> {
  const family = FAMILIES[spec.kind] as (typeof FAMILIES)['postgres'];
  const r = await family.resolve(deps, name, spec as never, { allowlist: [] });
  return { name, kind: spec.kind, selector: r.selector, refs: r.refs, spec };
}

/** A fault as the workflow plans it, with a tag of its own. */
function plan(fault: FaultSpec, target: ResolvedTarget, durationMs = 60_000): PlannedFault {
  return planFault(`fpg-${RUN}-${++faults}`, 'f1', 0, fault, target, durationMs);
}

async function connect(url: string, applicationName = 'fpg-test'): Promise<Client> {
  const c = new Client({ connectionString: url, application_name: applicationName, connectionTimeoutMillis: 5000 });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

/** Runs one statement on a fresh connection; returns the error message, or '' when it worked. */
async function tryQuery(url: string, sql: string): Promise<string> {
  let c: Client | undefined;
  try {
    c = await connect(url);
    await c.query(sql);
    return '';
  } catch (e) {
    return (e as Error).message;
  } finally {
    await c?.end().catch(() => undefined);
  }
}

async function tagged(url: string, tag: string): Promise<number> {
  const c = await connect(url);
  try {
    return (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [tag])).rows[0].n;
  } finally {
    await c.end();
  }
}

describe('postgres faults on the shared server, in a database of our own', () => {
  const db = `gameday_fpg_${RUN}`;
  const url = `${SHARED}/${db}`;
  let target: ResolvedTarget;

  before(async () => {
    const admin = await connect(`${SHARED}/postgres`);
    await admin.query(`CREATE DATABASE ${db}`);
    await admin.end();
    const c = await connect(url);
    await c.query('CREATE TABLE messages (id serial PRIMARY KEY, body text)');
    await c.end();
    target = await resolved({ kind: 'postgres', connectionString: url }, 'db');
  });
  after(async () => {
    const admin = await connect(`${SHARED}/postgres`);
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.end();
  });

  test('terminate-backends ends the matching backends (their next query fails) but spares Gameday connections', async () => {
    const victim = await connect(url, 'webhook-api');
    const probe = await connect(url, 'gameday-probe');
    try {
      assert.equal((await victim.query('SELECT 1 AS one')).rows[0].one, 1, 'the victim works before');
      const f = plan({ kind: 'postgres-terminate-backends', target: 'db', database: db }, target);
      const lines = await injectFault(deps, f);
      assert.match(lines.join('\n'), /terminated 1 of 1 matching backend on postgres 127\.0\.0\.1:55432/);
      await assert.rejects(victim.query('SELECT 1'), /terminat|connection error/, "the victim's next query fails");
      assert.equal((await probe.query('SELECT 1 AS one')).rows[0].one, 1, 'a gameday-tagged connection is spared');
      assert.match((await revertFault(deps, f)).join('\n'), /nothing to undo/);
      assert.match((await revertFault(deps, f)).join('\n'), /nothing to undo/, 'revert twice succeeds');
    } finally {
      await victim.end().catch(() => undefined);
      await probe.end().catch(() => undefined);
    }
  });

  test('lock-table blocks writes to the table during the fault (lock_timeout) and not after; inject and revert are idempotent', async () => {
    const insert = "SET lock_timeout = '300ms'; INSERT INTO messages (body) VALUES ('hello')";
    assert.equal(await tryQuery(url, insert), '', 'a write works before');
    const f = plan({ kind: 'postgres-lock-table', target: 'db', table: 'messages' }, target);
    await injectFault(deps, f);
    assert.match((await injectFault(deps, f)).join('\n'), /already locked/, 'a retried inject takes no second lock');
    assert.equal(await tagged(url, f.tag!), 1, 'exactly one backend carries the tag');
    assert.match(await tryQuery(url, insert), /lock timeout/, 'a write cannot get the lock during the fault');
    assert.match((await revertFault(deps, f)).join('\n'), /closed 1 connection tagged/);
    assert.equal(await tryQuery(url, insert), '', 'a write works after revert');
    assert.match((await revertFault(deps, f)).join('\n'), /held no connection.*no backend tagged/, 'revert twice succeeds');
  });

  test('another worker reverts a lock by its tag: the backend carrying the tag is terminated', async () => {
    const f = plan({ kind: 'postgres-lock-table', target: 'db', table: 'messages', mode: 'EXCLUSIVE' }, target);
    // A lock held under the tag by a connection this process's registry does not know: another worker's.
    const other = await connect(url, f.tag);
    await other.query('BEGIN');
    await other.query('LOCK TABLE messages IN EXCLUSIVE MODE');
    try {
      assert.match(await tryQuery(url, "SET lock_timeout = '300ms'; INSERT INTO messages (body) VALUES ('x')"), /lock timeout/);
      assert.match((await revertFault(deps, f)).join('\n'), /terminated 1 backend tagged/);
      assert.equal(await tryQuery(url, "SET lock_timeout = '300ms'; INSERT INTO messages (body) VALUES ('x')"), '', 'a write works after');
    } finally {
      await other.end().catch(() => undefined);
    }
  });

  test('lock-table on a table that does not exist fails with TargetNotFound naming the table; its revert succeeds', async () => {
    const f = plan({ kind: 'postgres-lock-table', target: 'db', table: 'no_such_table' }, target);
    await assert.rejects(injectFault(deps, f), (e: Error) => e.name === 'TargetNotFound' && /has no table no_such_table/.test(e.message));
    assert.match((await revertFault(deps, f)).join('\n'), /no backend tagged/, 'revert without inject succeeds');
  });
});

describe('postgres-exhaust-connections on a private server (12 slots, 3 reserved)', () => {
  let pg: PrivatePostgres;
  let appUrl: string;
  let target: ResolvedTarget;

  before(async () => {
    pg = await startPrivatePostgres(12);
    const admin = await connect(pg.url);
    await admin.query('CREATE ROLE app LOGIN');
    await admin.end();
    appUrl = `postgres://app@127.0.0.1:${pg.port}/postgres`;
    target = await resolved({ kind: 'postgres', connectionString: pg.url }, 'db');
  });
  after(async () => pg?.stop());

  test('holds every free slot: an application connection is refused during the fault and works after', async () => {
    assert.equal(await tryQuery(appUrl, 'SELECT 1'), '', 'the application connects before');
    const f = plan({ kind: 'postgres-exhaust-connections', target: 'db' }, target);
    const lines = await injectFault(deps, f);
    assert.match(lines.join('\n'), /holding 9 connections tagged/);
    assert.match(await tryQuery(appUrl, 'SELECT 1'), /remaining connection slots are reserved|too many clients/, 'refused during the fault');
    assert.match((await injectFault(deps, f)).join('\n'), /holding 9 connections .*9 already held/, 'a retried inject opens none more');
    assert.match((await revertFault(deps, f)).join('\n'), /closed 9 connections tagged/);
    assert.equal(await tryQuery(appUrl, 'SELECT 1'), '', 'the application connects after revert');
    assert.match((await revertFault(deps, f)).join('\n'), /held no connection/, 'revert twice succeeds');
  });

  test('the held connections end on their own after the self-limit when no revert comes', async () => {
    const f = plan({ kind: 'postgres-exhaust-connections', target: 'db', connections: 2 }, target, 0);
    await injectFault({ docker, selfLimitGraceMs: 1000 }, f);
    assert.equal(await tagged(pg.url, f.tag!), 2, 'two tagged backends during the fault');
    await eventually('the server to end the idle held sessions', async () => (await tagged(pg.url, f.tag!)) === 0);
    await eventually('the worker to forget them', async () => heldCount(f.tag!) === 0);
    assert.match((await revertFault(deps, f)).join('\n'), /held no connection.*no backend tagged/);
  });
});

/** /proc/<pid>/stat's state letter: R running, S sleeping, T stopped. */
async function procState(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
}

describe('process faults on host processes we spawn', () => {
  const children: ChildProcess[] = [];
  /** `sleep` with a duration unique to this test run, so that a pattern matches only it. */
  const sleeper = (n: number): string => `3600.${RUN.replace(/\D/g, '').slice(-6)}${n}`;
  const spawnSleep = (arg: string, optIn = true): ChildProcess => {
    const env = { ...process.env };
    if (optIn) env.GAMEDAY_ENABLED = 'true';
    else delete env.GAMEDAY_ENABLED;
    const c = spawn('sleep', [arg], { env, stdio: 'ignore' });
    children.push(c);
    return c;
  };
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    // Processes a restart command started are ours too: end them by pid.
    for (const p of await findProcesses(`^sleep 3600\\.${RUN.replace(/\D/g, '').slice(-6)}`)) process.kill(p.pid, 'SIGKILL');
  });

  test('process-pause stops the process (state T) with a watchdog, and revert resumes it; revert twice succeeds', async () => {
    const arg = sleeper(1);
    const child = spawnSleep(arg);
    const target = await eventually('the process to be visible', async () => (await findProcesses(`^sleep ${arg}$`)).length > 0 && resolved({ kind: 'process', pattern: `^sleep ${arg}$` }, 'sleeper'));
    assert.equal(target.refs[0].pid, child.pid);
    const f = plan({ kind: 'process-pause', target: 'sleeper' }, target);
    await injectFault(deps, f);
    await injectFault(deps, f);
    assert.equal(await procState(child.pid!), 'T', '/proc says stopped during the fault');
    assert.equal((await findProcesses(`gameday-watchdog-${f.tag}`)).length, 1, 'one watchdog, even after a retried inject');
    assert.match((await revertFault(deps, f)).join('\n'), /resumed \(SIGCONT\) pid/);
    assert.notEqual(await procState(child.pid!), 'T', 'running after revert');
    await eventually('the watchdog to be gone', async () => (await findProcesses(`gameday-watchdog-${f.tag}`)).length === 0);
    assert.match((await revertFault(deps, f)).join('\n'), /resumed/, 'revert twice succeeds');
  });

  test('a paused process resumes on its own after the self-limit when no revert comes (every worker dead)', async () => {
    const arg = sleeper(2);
    const child = spawnSleep(arg);
    const target = await eventually('the process to be visible', async () => (await findProcesses(`^sleep ${arg}$`)).length > 0 && resolved({ kind: 'process', pattern: `^sleep ${arg}$` }, 'sleeper'));
    const f = plan({ kind: 'process-pause', target: 'sleeper' }, target, 0);
    await injectFault({ docker, selfLimitGraceMs: 1000 }, f);
    assert.equal(await procState(child.pid!), 'T');
    await eventually('the watchdog to resume it', async () => (await procState(child.pid!)) !== 'T');
    assert.match((await revertFault(deps, f)).join('\n'), /resumed/);
  });

  test('process-kill kills the process; revert runs the restart command and a matching process runs again', async () => {
    const arg = sleeper(3);
    const pattern = `^sleep ${arg}$`;
    const child = spawnSleep(arg);
    const target = await eventually('the process to be visible', async () => (await findProcesses(pattern)).length > 0 && resolved({ kind: 'process', pattern }, 'sleeper'));
    const f = plan({ kind: 'process-kill', target: 'sleeper', signal: 'SIGTERM', restart: `sleep ${arg}` }, target);
    assert.match((await injectFault(deps, f)).join('\n'), /sent SIGTERM to pid/);
    await eventually('the process to be gone', async () => (await findProcesses(pattern)).length === 0);
    assert.match((await injectFault(deps, f)).join('\n'), /gone already/, 'a retried inject kills nothing more');
    const lines = (await revertFault(deps, f)).join('\n');
    assert.match(lines, /ran `sleep 3600\.\d+`: pid \d+ matches/);
    const again = await findProcesses(pattern);
    assert.equal(again.length, 1, 'one matching process after revert');
    assert.notEqual(again[0].pid, child.pid, 'a new process');
    assert.match((await revertFault(deps, f)).join('\n'), /nothing to restart/, 'revert twice starts no second one');
  });

  test('process-kill revert with a restart command that starts nothing fails clearly, naming the pattern and the log', async () => {
    const arg = sleeper(4);
    const pattern = `^sleep ${arg}$`;
    spawnSleep(arg);
    const target = await eventually('the process to be visible', async () => (await findProcesses(pattern)).length > 0 && resolved({ kind: 'process', pattern }, 'sleeper'));
    const f = plan({ kind: 'process-kill', target: 'sleeper', restart: 'exit 3' }, target);
    await injectFault(deps, f);
    await eventually('the process to be gone', async () => (await findProcesses(pattern)).length === 0);
    await assert.rejects(revertFault(deps, f), new RegExp(`exited with 3 and no process matches /\\^sleep ${arg.replace('.', '\\.')}\\$/: see .*restart\\.log`));
  });

  test('a process without GAMEDAY_ENABLED=true is refused by resolveTargets (TargetNotAllowed)', async () => {
    const arg = sleeper(5);
    spawnSleep(arg, false);
    await eventually('the process to be visible', async () => (await findProcesses(`^sleep ${arg}$`)).length > 0);
    const spec = { targets: { sleeper: { kind: 'process', pattern: `^sleep ${arg}$` } }, method: [{ fault: { kind: 'process-pause', target: 'sleeper' }, duration: '1s' }] };
    await assert.rejects(resolveTargets(deps, spec as never, { allowlist: [] }), (e: Error) => e.name === 'TargetNotAllowed' && /has not opted in.*GAMEDAY_ENABLED=true/.test(e.message));
  });
});
