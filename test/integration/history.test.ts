/**
 * History across runs on the real stack: the same experiment run four times against an HTTP
 * service of the test's own (twice with `gameday run`, once by its Temporal Schedule, once by a
 * plain Temporal client as the Web UI does), its bug fixed between the first and the second. The
 * second report's Re-validation section says "fixed" with both values and names the first run;
 * `gameday history --json` lists every run with how it was started, and scores them.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import YAML from 'yaml';
import type { History } from '../../src/history';
import { syncSchedules } from '../../src/schedules/sync';
import type { ExperimentResult } from '../../src/types';
import { eventually, gameday, gamedayLoading, startWorker, type TestWorker } from '../helpers';

const RUN = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const ID = `h-hist-${RUN}`;
const SYSTEM = `h-hist-shop-${RUN}`;
// A database of this file's own on the stack's server, created by the worker's migrations and dropped after.
const SERVER = 'postgres://postgres@127.0.0.1:55432';
const DB = `gameday_test_h_hist_${process.pid}`;
const RESULTS_URL = `${SERVER}/${DB}`;

/**
 * The service under test: GET answers 500 while a fault is set, and its fault endpoint sets one.
 * With the bug, clearing the fault does not heal it (it stays broken, as a service that caches a
 * failed connection); the fix makes DELETE heal it.
 */
const service = { broken: false, bug: true };
let server: http.Server;
let url: string;
let w: TestWorker;
let root: string;
let file: string;
const scheduleId = `gameday-${ID}`;

before(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/fault' && req.method === 'PUT') service.broken = true;
    else if (req.url === '/fault' && req.method === 'DELETE') service.broken &&= service.bug;
    else res.statusCode = service.broken ? 500 : 200;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  root = await mkdtemp(path.join(os.tmpdir(), 'gameday-history-'));
  await mkdir(path.join(root, 'catalog'));
  file = path.join(root, 'catalog', `${ID}.yaml`);
  await writeFile(
    file,
    YAML.stringify({
      id: ID,
      title: 'the shop answers again once its dependency is healed',
      hypothesis: 'after an error burst the shop answers 200 again',
      system: SYSTEM,
      targets: { shop: { kind: 'http', url } },
      steadyState: [{ name: 'shop answers', probe: { kind: 'http', url: `${url}/`, timeout: '1s' }, expect: { status: { equals: 200 } } }],
      method: [{ fault: { kind: 'http-error', target: 'shop', status: 500 }, duration: '1s' }],
      recovery: { within: '2s', interval: '500ms' },
      schedule: { cron: '0 2 * * *', timezone: 'UTC' },
    }),
  );
  w = await startWorker('h-hist', { taskQueue: `h-hist-${RUN}`, resultsUrl: RESULTS_URL, deps: { freezeFile: path.join(root, 'no-freeze-windows.yaml') } });
});

after(async () => {
  await w.client.schedule.getHandle(scheduleId).delete().catch(() => undefined);
  await w.stop();
  server.close();
  await rm(root, { recursive: true, force: true });
  const c = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(DB)} WITH (FORCE)`);
  await c.end();
});

const cli = (args: string[]) => gameday(args, { GAMEDAY_TASK_QUEUE: w.taskQueue, GAMEDAY_RESULTS_URL: RESULTS_URL });

async function runByCli(): Promise<ExperimentResult & { workflowId: string }> {
  const r = await cli(['run', file, '--wait', '--json']);
  assert.ok(r.stdout.trim(), r.stderr);
  return JSON.parse(r.stdout) as ExperimentResult & { workflowId: string };
}

const reportOf = (result: ExperimentResult): Promise<string> => readFile(path.join(result.reportDir, 'report.md'), 'utf8');

let first: ExperimentResult;
let second: ExperimentResult;

test('the first run has nothing to compare with; after the fix the second report says the expectation was fixed, with both values, naming the first run', async () => {
  first = await runByCli();
  assert.equal(first.verdict, 'failed', first.reason);
  const firstReport = await reportOf(first);
  assert.match(firstReport, /## Re-validation\n\nNo earlier closed run of `h-hist-[^`]+` in the results store: this is the first/);

  service.bug = false;
  service.broken = false;
  second = await runByCli();
  assert.equal(second.verdict, 'passed', second.reason);
  const report = await reportOf(second);
  const section = /## Re-validation\n\n([\s\S]*?)\n\n## /.exec(report)?.[1] ?? '';
  assert.match(section, new RegExp(`Compared with the previous run of \`${ID}\`: workflow \`${first.workflowId}\` \\(run \`[^\`]+\`\\), started [^,]+, verdict failed\\.`));
  assert.match(section, /1 fixed, 0 regressed, 1 unchanged, 0 new, 0 removed\./);
  assert.match(section, /\| shop answers \| after recovery \| status equals 200 \| fixed \| not met: status 500 \| met: status 200 \|/);
  assert.match(section, /\| shop answers \| baseline \| status equals 200 \| unchanged \| met: status 200 \| met: status 200 \|/);
});

test('gameday history lists each run with its verdict, rollback, duration, trigger (cli, schedule, web-ui) and Web UI link, and scores them', async () => {
  assert.ok(second, 'the runs of the test before');
  // A run by the experiment's schedule, triggered now, and one started by a plain client as the Web UI does.
  await syncSchedules(w.client, w.config, path.dirname(file));
  assert.equal((await cli(['schedule', 'trigger', scheduleId])).code, 0);
  const scheduled = await eventually('the triggered run to start', async () => (await w.client.schedule.getHandle(scheduleId).describe()).info.recentActions[0]?.action.workflow.workflowId, 30_000);
  assert.equal(((await w.client.workflow.getHandle(scheduled).result()) as ExperimentResult).verdict, 'passed');
  const byClient = await w.start({ spec: YAML.parse(await readFile(file, 'utf8')) as unknown }, `h-hist-ui-${RUN}`);
  assert.equal(((await byClient.result()) as ExperimentResult).verdict, 'passed');

  const r = await cli(['history', ID, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const h = JSON.parse(r.stdout) as History;
  assert.deepEqual(
    h.runs.map((x) => [x.workflowId, x.verdict, x.rollback, x.trigger, x.system, x.score]),
    [
      [byClient.workflowId, 'passed', 'complete', 'web-ui', SYSTEM, 100],
      [scheduled, 'passed', 'complete', 'schedule', SYSTEM, 100],
      [second.workflowId, 'passed', 'complete', 'cli', SYSTEM, 100],
      [first.workflowId, 'failed', 'complete', 'cli', SYSTEM, 0],
    ],
    'newest first',
  );
  for (const x of h.runs) {
    // A scheduled run's id has colons (its start time): encoded, as the Web UI's own links do.
    assert.equal(x.url, `http://127.0.0.1:8233/namespaces/default/workflows/${encodeURIComponent(x.workflowId)}/${x.runId}`);
    assert.equal(x.durationMs, Date.parse(x.finishedAt!) - Date.parse(x.startedAt));
    assert.ok(x.durationMs > 1000, `${x.workflowId} lasted at least its 1 s fault: ${x.durationMs} ms`);
  }
  // Four scored runs at 0, 100, 100, 100: a mean of 75; no earlier window, so no trend.
  assert.deepEqual(h.experiments.map((e) => [e.experimentId, e.system, e.score, e.trend, e.runs]), [[ID, SYSTEM, 75, undefined, 4]]);
  assert.deepEqual(h.experiments[0].series.map((s) => s.score), [0, 100, 100, 100], 'oldest first');
  assert.deepEqual(h.systems, [{ system: SYSTEM, experiments: [ID], score: 75, runs: 4 }]);
  // With N = 2 the last two scored runs (100, 100) against the two before (0, 100): up 50.
  const n2 = JSON.parse((await cli(['history', ID, '--json', '--runs', '2'])).stdout) as History;
  assert.deepEqual([n2.experiments[0].score, n2.experiments[0].trend], [100, 50]);

  const { run: table, loaded } = await gamedayLoading(['history', ID], { GAMEDAY_RESULTS_URL: RESULTS_URL });
  assert.equal(table.code, 0, table.stderr);
  // The connection settings (envconfig) give the namespace of the Web UI links; nothing connects to Temporal.
  for (const heavy of ['@temporalio/client', '@temporalio/proto', '@temporalio/worker', '@grpc/', 'protobufjs', 'dockerode', 'nats', 'webpack']) assert.deepEqual(loaded.filter((f) => f.includes(`/node_modules/${heavy}`)), [], `history loads no ${heavy}`);
  const lines = table.stdout.split('\n');
  assert.match(lines[0], /^STARTED \(UTC\)\s+EXPERIMENT\s+VERDICT\s+ROLLBACK\s+DURATION\s+TRIGGER\s+SCORE\s+WORKFLOW\s+TEMPORAL WEB UI$/);
  assert.match(lines.find((l) => l.includes(first.workflowId)) ?? '', new RegExp(`${ID}\\s+failed\\s+complete\\s+\\d+\\.\\d s\\s+cli\\s+0\\s+${first.workflowId}\\s+http://127\\.0\\.0\\.1:8233/namespaces/default/workflows/${first.workflowId}/`));
  assert.match(table.stdout, new RegExp(`experiment ${ID} \\(${SYSTEM}\\): 75 over 4 runs, no earlier window`));
  assert.match(table.stdout, new RegExp(`system ${SYSTEM}: 75 over 1 experiment, no earlier window`));

  const none = await cli(['history', ID, '--since', '1ms']);
  assert.match(none.stdout, /no runs in the results store for this query/);
  const bad = await cli(['history', '--since', 'soon']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--since: expected a duration such as 90m, 24h or 7d, not 'soon'/);
});

test("a scenario's stages take the trigger of the scenario: started by the CLI, its stage's run reads cli", async () => {
  const stageId = `${ID}-stage`;
  const spec = YAML.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  delete spec.schedule;
  const scenarioFile = path.join(root, `${ID}-scenario.yaml`);
  await writeFile(scenarioFile, YAML.stringify({ kind: 'scenario', id: `${ID}-scenario`, title: 'one stage', hypothesis: 'the shop heals', stages: [{ name: 'shop', spec: { ...spec, id: stageId } }] }));
  const r = await cli(['run', scenarioFile, '--wait', '--json']);
  assert.equal((JSON.parse(r.stdout) as { verdict: string }).verdict, 'passed', r.stderr);
  const h = JSON.parse((await cli(['history', stageId, '--json'])).stdout) as History;
  assert.deepEqual(h.runs.map((x) => [x.experimentId, x.trigger, x.verdict]), [[stageId, 'cli', 'passed']]);
});
