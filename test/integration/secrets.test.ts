/**
 * Secrets by reference, end to end: a `gameday worker` process with the secret in its environment
 * runs an experiment whose probes and target reach a PostgreSQL role with that password. The
 * server is one of the test's own, with password (SCRAM) authentication on TCP, so that the probe
 * succeeding proves the worker resolved the reference and used the value; the test then looks for
 * the value everywhere a run leaves something and finds it nowhere. A run whose variable is unset
 * fails before anything is injected.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client as TemporalClient } from '@temporalio/client';
import { Client } from 'pg';
import { loadConfig } from '../../src/config';
import type { ExperimentResult, Journal } from '../../src/types';
import { connectTestClient, containerState, killSpawnedWorkers, removeContainer, spawnWorker, startSleeper, type WorkerProcess } from '../helpers';
import { startPrivatePostgres, type PrivatePostgres } from '../pg-server';

const RUN = `${process.pid}-${Date.now().toString(36)}`;
const SECRET = `h-sec-${randomBytes(12).toString('hex')}`;
const SLEEPER = `h-sec-sleeper-${RUN}`;

async function query(connection: string | { host: string; port: number; user: string; database: string }, text: string): Promise<unknown[][]> {
  const c = new Client({ ...(typeof connection === 'string' ? { connectionString: connection } : connection), connectionTimeoutMillis: 5000 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return (await c.query({ text, rowMode: 'array' })).rows as unknown[][];
  } finally {
    await c.end().catch(() => undefined);
  }
}

/**
 * Every text a Temporal history holds, its payloads' bytes decoded (they are JSON): walked by hand,
 * since the history's own toJSON would give the bytes as base64.
 */
function historyText(value: unknown, seen = new Set<unknown>()): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (value === null || typeof value !== 'object') return String(value);
  if (seen.has(value)) return '';
  seen.add(value);
  return Object.entries(value).map(([k, v]) => `${k}: ${historyText(v, seen)}`).join('\n');
}

/** Every file of a report folder, concatenated. */
async function reportText(dir: string): Promise<string> {
  const files = await readdir(dir);
  assert.ok(files.includes('report.md') && files.includes('journal.json'), `report files in ${dir}: ${files.join(', ')}`);
  return (await Promise.all(files.map((f) => readFile(path.join(dir, f), 'utf8')))).join('\n');
}

/** The results store's rows of a run, every table, as JSON. */
async function storeRows(workflowId: string): Promise<string> {
  const tables = ['runs', 'samples', 'events', 'faults', 'expectations', 'breaches'];
  const rows = await Promise.all(tables.map((t) => query(loadConfig().resultsUrl!, `SELECT row_to_json(t)::text FROM ${t} t WHERE workflow_id = '${workflowId}'`)));
  return rows.flat(2).join('\n');
}

describe('secrets by reference', () => {
  let pg: PrivatePostgres;
  let worker: WorkerProcess;
  let client: TemporalClient;
  let dir: string;
  const taskQueue = `h-sec-${RUN}`;

  before(async () => {
    pg = await startPrivatePostgres(20, { hostAuth: 'scram-sha-256' });
    await query({ host: pg.socketDir, port: pg.port, user: 'postgres', database: 'postgres' }, `CREATE ROLE h_sec_user LOGIN PASSWORD '${SECRET}'`);
    dir = await mkdtemp(path.join(os.tmpdir(), 'h-sec-'));
    await startSleeper(SLEEPER);
    worker = await spawnWorker(taskQueue, { H_SEC_PG_PASSWORD: SECRET, GAMEDAY_REPORTS_DIR: path.join(dir, 'reports'), GAMEDAY_LOG_LEVEL: 'INFO' });
    client = await connectTestClient();
  });
  after(async () => {
    await worker?.kill('SIGTERM');
    killSpawnedWorkers();
    await client?.connection.close();
    await pg?.stop();
    await removeContainer(SLEEPER);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const run = async (file: string, spec: object): Promise<{ workflowId: string; result: ExperimentResult }> => {
    const source = path.join(dir, file);
    await writeFile(source, JSON.stringify(spec));
    const workflowId = `h-sec-${file.replace(/\W/g, '-')}-${RUN}`;
    // Started as `gameday run` starts a file: the spec as written (references, not values) is the input.
    const handle = await client.workflow.start('experiment', { taskQueue, workflowId, workflowTaskTimeout: '5s', args: [{ spec, source }] });
    return { workflowId, result: (await handle.result()) as ExperimentResult };
  };

  test('a probe and a target that need a password get it on the worker, and the value is nowhere else: history, memo, search attributes, store, report, log', async () => {
    const url = `postgres://h_sec_user:\${env:H_SEC_PG_PASSWORD}@127.0.0.1:${pg.port}/postgres`;
    // What this proves: the server asks TCP clients for the password, so a probe that connects had the value.
    await assert.rejects(query(`postgres://h_sec_user:wrong@127.0.0.1:${pg.port}/postgres`, 'SELECT 1'), /password authentication failed/);
    const { workflowId, result } = await run('secret-probe.json', {
      id: 'h-sec-secret-probe',
      title: 'a probe with a password from the worker',
      hypothesis: 'the role answers with the password the worker holds',
      targets: { db: { kind: 'postgres', connectionString: url } },
      steadyState: [{ name: 'role answers', probe: { kind: 'postgres', connectionString: url, query: 'SELECT current_user' }, expect: { value: { equals: 'h_sec_user' } } }],
      // Touches the target's connection, terminating nothing (no backend has this application name).
      method: [{ fault: { kind: 'postgres-terminate-backends', target: 'db', applicationName: 'h-sec-nobody' }, duration: '3s' }],
      observe: {
        interval: '500ms',
        // A query whose error message quotes the secret back: the sample must not.
        probes: [{ name: 'error that quotes the secret', probe: { kind: 'postgres', connectionString: url, query: "SELECT '${env:H_SEC_PG_PASSWORD}'::int" } }],
      },
      recovery: { within: '10s', interval: '500ms' },
    });
    assert.equal(result.verdict, 'passed', result.reason);

    const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
    assert.equal(journal.baseline[0]?.measurement.value, 'h_sec_user', 'the probe connected as the role: it had the password');
    assert.match(journal.events.map((e) => e.message).join('\n'), /terminated 0 of 0 matching backends on postgres 127\.0\.0\.1/, 'the fault connected to the target as the role');
    const quoted = journal.observations.find((s) => s.error.includes('invalid input syntax'));
    assert.ok(quoted, `an observe sample with the cast error: ${JSON.stringify(journal.observations.slice(0, 2))}`);
    assert.match(quoted.error, /"\*\*\*"/, 'the secret the server quoted back is shown as ***');

    const handle = client.workflow.getHandle(workflowId);
    const history = historyText(await handle.fetchHistory());
    const described = await handle.describe();
    const places = {
      history,
      memo: JSON.stringify(described.memo),
      'search attributes': JSON.stringify(described.typedSearchAttributes),
      'results store': await storeRows(workflowId),
      report: await reportText(result.reportDir),
      'worker log': worker.output(),
    };
    // The search is not blind: the history holds the spec as written, with its reference.
    assert.ok(history.includes('${env:H_SEC_PG_PASSWORD}'), 'the decoded history holds the reference');
    assert.ok(places['results store'].includes('h_sec_user') && places.report.includes('h_sec_user'), 'the store and the report hold the run');
    for (const [where, text] of Object.entries(places)) assert.ok(!text.includes(SECRET), `the secret is in the ${where}`);
  });

  test('a variable the worker does not set fails the run before anything is injected, naming the variable, the field and the file', async () => {
    const { workflowId, result } = await run('missing-secret.json', {
      id: 'h-sec-missing-secret',
      title: 'a probe whose password the worker lacks',
      hypothesis: 'the container is paused only when every secret is there',
      targets: { box: { kind: 'docker', container: SLEEPER } },
      steadyState: [{ name: 'box runs', probe: { kind: 'docker-container', container: SLEEPER }, expect: { running: { equals: true } } }],
      method: [{ fault: { kind: 'docker-pause', target: 'box' }, duration: '2s' }],
      guardrails: [{ name: 'db answers', probe: { kind: 'postgres', connectionString: `postgres://h_sec_user:\${env:H_SEC_UNSET_PASSWORD}@127.0.0.1:${pg.port}/postgres`, query: 'SELECT 1' }, abortWhen: { error: { regex: '.+' } } }],
    });
    assert.equal(result.verdict, 'error');
    assert.equal(result.rollback, 'nothing-injected');
    assert.match(result.reason, /H_SEC_UNSET_PASSWORD is not set on the worker/);
    assert.match(result.reason, /guardrails\.0\.probe\.connectionString/);
    assert.ok(result.reason.includes(path.join(dir, 'missing-secret.json')), result.reason);
    assert.match(result.reason, /nothing was injected/);

    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const scheduled = (history.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes?.activityType?.name ? [e.activityTaskScheduledEventAttributes.activityType.name] : []));
    assert.ok(!scheduled.includes('injectFault') && !scheduled.includes('probeBaseline'), `activities scheduled: ${scheduled.join(', ')}`);
    // Targets are resolved in a local activity (patch local-start): its failure is in its marker.
    const failed = (history.events ?? []).map((e) => e.activityTaskFailedEventAttributes?.failure ?? e.markerRecordedEventAttributes?.failure).find(Boolean);
    assert.equal(failed?.applicationFailureInfo?.type, 'SecretMissing');
    assert.equal(failed?.applicationFailureInfo?.nonRetryable, true);
    const state = await containerState(SLEEPER);
    assert.equal(state.Paused, false);
    assert.equal(state.Running, true);
  });

  test("a scenario whose later stage lacks a variable fails before its first stage starts", async () => {
    const stage = (id: string, probe: object) => ({
      id,
      title: id,
      hypothesis: 'the box keeps running',
      targets: { box: { kind: 'docker', container: SLEEPER } },
      steadyState: [{ name: 'box runs', probe, expect: { error: { equals: '' } } }],
      method: [{ fault: { kind: 'docker-pause', target: 'box' }, duration: '2s' }],
    });
    const spec = {
      kind: 'scenario',
      id: 'h-sec-scenario',
      title: 'two stages',
      hypothesis: 'every secret is checked first',
      stages: [
        { name: 'first', spec: stage('h-sec-first', { kind: 'docker-container', container: SLEEPER }) },
        { name: 'second', spec: stage('h-sec-second', { kind: 'http', url: 'http://127.0.0.1:9/', headers: { Authorization: 'Bearer ${env:H_SEC_UNSET_TOKEN}' } }) },
      ],
    };
    const handle = await client.workflow.start('scenario', { taskQueue, workflowId: `h-sec-scenario-${RUN}`, workflowTaskTimeout: '5s', args: [{ spec, source: 'scenario.json' }] });
    const failure = await handle.result().then(
      () => assert.fail('the scenario should have failed'),
      (e: Error & { cause?: Error & { cause?: Error & { type?: string } } }) => e.cause?.cause ?? e.cause,
    );
    assert.ok(failure, 'the scenario failed with a cause');
    assert.equal((failure as { type?: string }).type, 'SecretMissing');
    assert.match(failure.message, /stage second of scenario h-sec-scenario.*H_SEC_UNSET_TOKEN is not set on the worker \(\$\{env:H_SEC_UNSET_TOKEN\} in steadyState\.0\.probe\.headers\.Authorization\).*nothing was injected/);
    const history = await handle.fetchHistory();
    assert.ok(!(history.events ?? []).some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes), 'no stage was started');
    assert.equal((await containerState(SLEEPER)).Paused, false);
  });
});
