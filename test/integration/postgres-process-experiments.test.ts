/**
 * One experiment per family through the real `experiment` workflow (Temporal dev server, a worker
 * on a task queue of its own): a table lock on the shared PostgreSQL, and a paused host process
 * serving HTTP. The fault is in place during observe and gone after rollback; the report records it.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from 'pg';
import type { Experiment } from '../../src/spec/schema';
import type { ExperimentResult, ExperimentStatus, Journal } from '../../src/types';
import { eventually, startWorker, type TestWorker } from '../helpers';

const RUN = `${process.pid}${Date.now().toString(36)}`;
const SHARED = 'postgres://postgres@127.0.0.1:55432';

async function sql(url: string, text: string): Promise<string> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 5000, application_name: 'fpg-e2e' });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.query(text);
    return '';
  } catch (e) {
    return (e as Error).message;
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function observing(w: TestWorker, spec: Experiment): Promise<{ handle: Awaited<ReturnType<TestWorker['start']>>; status: ExperimentStatus }> {
  const handle = await w.start({ spec });
  const status = await eventually('the observe stage', async () => {
    const s = await handle.query<ExperimentStatus>('status');
    return s.stage === 'observe' && s;
  });
  return { handle, status };
}

async function reportOf(result: ExperimentResult): Promise<{ md: string; journal: Journal }> {
  return {
    md: await readFile(path.join(result.reportDir, 'report.md'), 'utf8'),
    journal: JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal,
  };
}

describe('postgres and process faults through the experiment workflow', () => {
  let w: TestWorker;
  before(async () => {
    w = await startWorker('fpg-e2e');
  });
  after(async () => w?.stop());

  test('a locked table: writes cannot get the lock during observe, work after rollback; the report records the revert', async () => {
    const db = `gameday_fpg_e2e_${RUN}`;
    const url = `${SHARED}/${db}`;
    assert.equal(await sql(`${SHARED}/postgres`, `CREATE DATABASE ${db}`), '');
    try {
      assert.equal(await sql(url, 'CREATE TABLE messages (id serial PRIMARY KEY, body text)'), '');
      const count = { kind: 'postgres', connectionString: url, query: 'SELECT count(*) FROM messages', timeout: '1s' } as const;
      const spec: Experiment = {
        id: 'chaos-fpg-lock',
        title: 'messages table locked',
        hypothesis: 'writers wait for the lock and recover once it is released',
        targets: { db: { kind: 'postgres', connectionString: url } },
        steadyState: [{ name: 'messages readable', probe: count, expect: { error: { equals: '' } } }],
        method: [{ fault: { kind: 'postgres-lock-table', target: 'db', table: 'messages' }, duration: '4s' }],
        observe: { interval: '1s', probes: [{ name: 'messages during the lock', probe: count }] },
        recovery: { within: '15s', interval: '500ms' },
      };
      const insert = "SET lock_timeout = '300ms'; INSERT INTO messages (body) VALUES ('hi')";
      const { handle, status } = await observing(w, spec);
      assert.deepEqual(status.activeFaults.map((f) => f.description), [`lock table messages (ACCESS EXCLUSIVE) on postgres 127.0.0.1:55432/${db}`]);
      assert.match(await sql(url, insert), /lock timeout/, 'a write cannot get the lock during observe');

      const result = (await handle.result()) as ExperimentResult;
      assert.equal(result.rollback, 'complete');
      assert.equal(result.verdict, 'passed', result.reason);
      assert.equal(await sql(url, insert), '', 'a write works after rollback');
      const { md, journal } = await reportOf(result);
      assert.match(md, /\| f1 \| lock table messages \(ACCESS EXCLUSIVE\) on postgres 127\.0\.0\.1:55432\/gameday_fpg_e2e_\w+ \| reverted \|/);
      // Closed by the worker that holds it, or, when the due-time revert came from the worker's
      // reverter process, which holds no connection, terminated on the server by its tag.
      assert.ok(journal.events.some((e) => /reverted f1 .*(closed|terminated) 1 (connection|backend) tagged gameday-[0-9a-f]{8}-f1/.test(e.message)), 'the revert line names the closed connection');
      assert.ok(journal.observations.some((s) => s.error !== ''), 'reads during the lock recorded their failure');
    } finally {
      await sql(`${SHARED}/postgres`, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    }
  });

  test('a paused HTTP server process: state T during observe, answering after rollback; the report records the revert', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gameday-fpg-'));
    const script = path.join(dir, `server-${RUN}.js`);
    await writeFile(script, "require('http').createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1', function () { console.log(this.address().port); });\n");
    let server: ChildProcess | undefined;
    try {
      server = spawn(process.execPath, [script], { env: { ...process.env, GAMEDAY_ENABLED: 'true' }, stdio: ['ignore', 'pipe', 'ignore'] });
      const port = await new Promise<number>((resolve) => server!.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
      const health = { kind: 'http', url: `http://127.0.0.1:${port}/`, timeout: '500ms' } as const;
      const spec: Experiment = {
        id: 'chaos-fpg-pause',
        title: 'HTTP server frozen',
        hypothesis: 'the server answers again once it resumes',
        targets: { server: { kind: 'process', pattern: `server-${RUN}\\.js` } },
        steadyState: [{ name: 'server answers', probe: health, expect: { status: { equals: 200 } } }],
        method: [{ fault: { kind: 'process-pause', target: 'server' }, duration: '3s' }],
        observe: { interval: '500ms', probes: [{ name: 'server during the pause', probe: health }] },
        recovery: { within: '15s', interval: '500ms' },
      };
      const { handle } = await observing(w, spec);
      const stat = await readFile(`/proc/${server.pid}/stat`, 'utf8');
      assert.equal(stat.slice(stat.lastIndexOf(')') + 2)[0], 'T', '/proc says stopped during observe');

      const result = (await handle.result()) as ExperimentResult;
      assert.equal(result.rollback, 'complete');
      assert.equal(result.verdict, 'passed', result.reason);
      const after = await readFile(`/proc/${server.pid}/stat`, 'utf8');
      assert.notEqual(after.slice(after.lastIndexOf(')') + 2)[0], 'T', 'running after rollback');
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'ok', 'answers after rollback');
      const { md, journal } = await reportOf(result);
      assert.match(md, new RegExp(`\\| f1 \\| pause \\(SIGSTOP\\) pid ${server.pid} \\(.*\\) \\| reverted \\| .* \\| \`kill -CONT ${server.pid}\` \\|`));
      assert.ok(journal.events.some((e) => new RegExp(`reverted f1 .*resumed \\(SIGCONT\\) pid ${server!.pid}`).test(e.message)), 'the revert line names the resumed pid');
      assert.ok(journal.observations.some((s) => s.error !== ''), 'requests during the pause recorded their failure');
    } finally {
      server?.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
