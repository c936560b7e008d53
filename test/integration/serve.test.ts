/**
 * The dashboard as a person uses it, in headless Chromium: two real short runs of one experiment
 * (a busybox container of this file's own paused for 2 s, an HTTP probe against a local server;
 * the second expects a status the server never sends, so it fails), a Temporal Schedule of this
 * file's own, and `gameday serve` started through the CLI. The runs page filtered by the
 * experiment's id lists both runs with their verdicts; a click opens a run's HTML report, whose
 * chart draws; /experiments shows the score the score function gives for those runs; /schedules
 * shows the schedule's next run and, once triggered, its last run and verdict. Then the errors: a busy port, an unknown run, a store that is down.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import YAML from 'yaml';
import { experimentScore } from '../../src/history';
import { syncSchedules } from '../../src/schedules/sync';
import type { Experiment } from '../../src/spec/schema';
import { openResultsStore } from '../../src/store/postgres';
import type { ExperimentResult } from '../../src/types';
import { launchHeadlessChromium, screenshotOnFailure, type HeadlessBrowser } from '../browser';
import { eventually, removeContainer, startOkServer, startSleeper, startWorker, type TestWorker } from '../helpers';

// The page's globals these tests touch: the project compiles without the DOM library.
interface Context2d {
  canvas: { width: number; height: number };
  getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
}
declare const window: { gamedayCharts?: { id: string; uplot: { ctx: Context2d } }[] };

const RUN = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const BOX = 'h-srv-box';
const ID = `h-srv-pause-${RUN}`;
const SCHEDULED = `h-srv-sched-${RUN}`;
const SCHEDULE_ID = `gameday-${SCHEDULED}`;
const ROOT = path.resolve(__dirname, '..', '..', '..');

interface Served {
  url: string;
  stderr: () => string;
  child: ChildProcess;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

const serving: Served[] = [];

/** `gameday serve <args>` in a process of its own, once it has printed its URL. */
function serve(args: string[], env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'gameday.js'), 'serve', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gameday serve printed no URL in 30 s: ${stderr}`)), 30_000);
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      // Its last line at start-up, so the ones before it are in too.
      const url = /gameday dashboard: (http:\/\/\S+)/.exec(stderr)?.[1];
      if (!url || !stderr.includes('Ctrl-C to stop')) return;
      clearTimeout(timer);
      const served: Served = { url, stderr: () => stderr, child, stop: () => (child.kill('SIGTERM'), exited) };
      serving.push(served);
      resolve(served);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`gameday serve exited (${code}): ${stderr}`), { code, stderr }));
    });
  });
}

function pauseSpec(url: string, observedStatus: number): Experiment {
  return {
    id: ID,
    title: 'busybox paused <i>for the dashboard</i>',
    hypothesis: 'the server answers throughout',
    targets: { box: { kind: 'docker', container: BOX } },
    steadyState: [{ name: 'server answers', probe: { kind: 'http', url, timeout: '1s' }, expect: { status: { equals: 200 } } }],
    method: [{ fault: { kind: 'docker-pause', target: 'box' }, duration: '2s' }],
    observe: { interval: '250ms', probes: [{ name: 'server during the pause', probe: { kind: 'http', url, timeout: '1s' }, expect: { status: { equals: observedStatus } } }] },
    recovery: { within: '10s', interval: '250ms' },
  };
}

describe('gameday serve in a real browser', () => {
  let w: TestWorker;
  let okServer: Awaited<ReturnType<typeof startOkServer>>;
  let browser: HeadlessBrowser;
  let root: string;
  let dashboard: Served;
  const runs: (ExperimentResult & { runId: string })[] = [];

  before(async () => {
    okServer = await startOkServer();
    await startSleeper(BOX);
    // No freeze window may hold the scheduled run back.
    w = await startWorker('h-srv', { deps: { freezeFile: path.join(os.tmpdir(), `h-srv-no-freeze-windows-${RUN}.yaml`) } });
    browser = await launchHeadlessChromium({ viewport: { width: 1300, height: 900 }, scratch: 'h-srv-' });
    root = browser.scratch;
    await mkdir(path.join(root, 'catalog'));
    const scheduled = { ...pauseSpec(okServer.url, 200), id: SCHEDULED, schedule: { cron: '0 3 * * *', timezone: 'UTC' } };
    await writeFile(path.join(root, 'catalog', `${SCHEDULED}.yaml`), YAML.stringify(scheduled));
  });

  after(async () => {
    await Promise.all(serving.map((s) => s.stop()));
    await w?.client.schedule.getHandle(SCHEDULE_ID).delete().catch(() => undefined);
    await browser?.close();
    await w?.stop();
    await removeContainer(BOX);
    okServer?.close();
  });

  test('two runs, a schedule, and the dashboard started on 127.0.0.1, saying so', { timeout: 120_000 }, async () => {
    for (const [n, status] of [
      [1, 200],
      [2, 201],
    ] as const) {
      const handle = await w.start({ spec: pauseSpec(okServer.url, status) }, `h-srv-run-${RUN}-${n}`);
      runs.push({ ...((await handle.result()) as ExperimentResult), runId: handle.firstExecutionRunId });
    }
    assert.deepEqual(
      runs.map((r) => r.verdict),
      ['passed', 'failed'],
      runs.map((r) => r.reason).join('; '),
    );
    const synced = await syncSchedules(w.client, w.config, path.join(root, 'catalog'));
    assert.deepEqual(
      synced.map((a) => [a.scheduleId, a.outcome]),
      [[SCHEDULE_ID, 'created']],
    );

    dashboard = await serve(['--port', '0']);
    assert.match(dashboard.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.match(dashboard.stderr(), /listening on 127\.0\.0\.1 only/);
  });

  test('the runs page filtered by the experiment id lists both runs, newest first, with their verdicts and Web UI links', { timeout: 60_000 }, async () => {
    assert.ok(dashboard, 'the dashboard of the test before');
    const { page } = browser;
    await screenshotOnFailure(page, 'h-srv-runs', async () => {
      await page.goto(dashboard.url);
      await page.fill('input[name="experiment"]', ID);
      await Promise.all([page.waitForURL(/experiment=/), page.click('button[type="submit"]')]);
      const rows = await page.$$eval('#runs tbody tr', (trs) =>
        trs.map((tr) => ({ id: tr.getAttribute('data-workflow-id'), verdict: tr.querySelector('td.verdict')?.textContent, temporal: tr.querySelector('a.temporal')?.getAttribute('href'), title: tr.children[2]?.textContent })),
      );
      assert.deepEqual(
        rows.map((r) => [r.id, r.verdict]),
        [
          [runs[1].workflowId, 'failed'],
          [runs[0].workflowId, 'passed'],
        ],
      );
      assert.equal(rows[0].title, 'busybox paused <i>for the dashboard</i>', 'the title shown as text');
      assert.equal(rows[1].temporal, `http://127.0.0.1:8233/namespaces/default/workflows/${runs[0].workflowId}/${runs[0].runId}`);

      await page.selectOption('select[name="verdict"]', 'passed');
      await Promise.all([page.waitForURL(/verdict=passed/), page.click('button[type="submit"]')]);
      assert.deepEqual(await page.$$eval('#runs tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-workflow-id'))), [runs[0].workflowId]);

      // Started by a plain Temporal client, as the Web UI does: none of them by the CLI.
      await page.goto(`${dashboard.url}?experiment=${encodeURIComponent(ID)}&trigger=web-ui&since=1h`);
      assert.equal(await page.locator('#runs tbody tr').count(), 2);
      await page.goto(`${dashboard.url}?experiment=${encodeURIComponent(ID)}&trigger=cli`);
      assert.equal(await page.textContent('#no-runs'), 'No runs in the results store for these filters.');
    });
  });

  test("a click on a run opens its HTML report, served from the store, and the report's chart draws", { timeout: 60_000 }, async () => {
    assert.ok(dashboard, 'the dashboard of the test before');
    const { page } = browser;
    await screenshotOnFailure(page, 'h-srv-report', async () => {
      await page.goto(`${dashboard.url}?experiment=${encodeURIComponent(ID)}`);
      await Promise.all([page.waitForURL(/\/runs\//), page.click(`tr[data-workflow-id="${runs[0].workflowId}"] a.report`)]);
      await page.waitForFunction(() => (window.gamedayCharts?.length ?? 0) > 0, undefined, { timeout: 10_000 });
      assert.equal(await page.textContent('h1'), `${ID} — busybox paused <i>for the dashboard</i>`);
      const drawn = await page.evaluate(() =>
        (window.gamedayCharts ?? []).map(({ uplot }) => {
          const { width, height } = uplot.ctx.canvas;
          const px = uplot.ctx.getImageData(0, 0, width, height).data;
          let blue = 0;
          for (let i = 0; i < px.length; i += 4) if (Math.abs(px[i] - 37) < 30 && Math.abs(px[i + 1] - 99) < 30 && Math.abs(px[i + 2] - 235) < 30) blue++;
          return blue;
        }),
      );
      assert.ok(drawn.length > 0 && drawn.every((n) => n > 20), `every chart drew its series: ${drawn.join(', ')} pixels of its colour`);
      const verdicts = await page.$$eval('#hypothesis-vs-reality tbody tr td:last-child', (tds) => tds.map((td) => td.textContent));
      assert.ok(verdicts.length > 0 && verdicts.every((v) => v === 'PASS'), verdicts.join(', '));
      assert.match((await page.textContent('#re-validation')) ?? '', /No earlier closed run of `?h-srv-pause-\S+ in the results store: this is the first/);

      // The second run, against the first: its observation expected a status the server never sends.
      await page.goto(`${dashboard.url}runs/${encodeURIComponent(runs[1].workflowId)}`);
      const revalidation = (await page.textContent('#re-validation')) ?? '';
      assert.match(revalidation, new RegExp(`Compared with the previous run of ${ID}: workflow ${runs[0].workflowId} \\(run ${runs[0].runId}\\), started \\S+, verdict passed\\.`));
      const during = await page.$$eval('#re-validation tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')).find((c) => c[0] === 'server during the pause'));
      assert.deepEqual(during?.slice(2, 4), ['every sample: status equals 201', 'regressed'], 'the expectation changed to 201: met then, not now');
      assert.match(during[4], /^met: /);
      assert.match(during[5], /^not met: /);
    });
  });

  test("/experiments shows the experiment's score as the score function computes it from those runs", { timeout: 60_000 }, async () => {
    assert.ok(dashboard, 'the dashboard of the test before');
    const store = openResultsStore(w.config.resultsUrl);
    const expected = experimentScore(await store.listRuns({ experimentId: ID, limit: 100 }).finally(() => store.close()));
    assert.equal(expected.runs, 2);
    assert.ok(expected.score !== undefined && expected.score > 0 && expected.score < 100, `a passed and a failed run score between: ${expected.score}`);
    const { page } = browser;
    await screenshotOnFailure(page, 'h-srv-experiments', async () => {
      await page.goto(`${dashboard.url}experiments`);
      const row = page.locator(`tr[data-experiment-id="${ID}"]`);
      assert.equal(await row.locator('td.score').textContent(), String(expected.score));
      assert.equal(await row.locator('td.trend').textContent(), 'no earlier window');
      assert.equal(await row.locator('svg.trend').getAttribute('aria-label'), `scores ${expected.series.map((s) => s.score).join(', ')}`);
    });
  });

  test('/schedules shows the schedule with its next run time as Temporal has it; once triggered, its last run and verdict', { timeout: 60_000 }, async () => {
    assert.ok(dashboard, 'the dashboard of the test before');
    const next = (await w.client.schedule.getHandle(SCHEDULE_ID).describe()).info.nextActionTimes[0];
    const { page } = browser;
    await screenshotOnFailure(page, 'h-srv-schedules', async () => {
      await page.goto(`${dashboard.url}schedules`);
      const row = page.locator(`tr[data-schedule-id="${SCHEDULE_ID}"]`);
      const shown = (await row.locator('td.next-run').innerText()).split('\n')[0];
      assert.equal(shown, next.toISOString().replace('T', ' ').slice(0, 19));
      assert.match(shown, / 03:00:00$/);
      assert.equal(await row.locator('td.last-run').textContent(), 'no run yet');

      await w.client.schedule.getHandle(SCHEDULE_ID).trigger();
      const started = await eventually('the triggered run to start', async () => (await w.client.schedule.getHandle(SCHEDULE_ID).describe()).info.recentActions[0]?.action.workflow.workflowId, 30_000);
      assert.equal(((await w.client.workflow.getHandle(started).result()) as ExperimentResult).verdict, 'passed');
      await page.reload();
      assert.equal(await row.locator('td.last-run').textContent(), `${started} completed, passed`);
      assert.equal(await row.locator('td.last-run a').getAttribute('href'), `/runs/${encodeURIComponent(started)}`);
    });
  });

  test('an unknown run is a 404 page naming it; the JSON variant says the same', { timeout: 30_000 }, async () => {
    assert.ok(dashboard, 'the dashboard of the test before');
    const { page } = browser;
    const res = await page.goto(`${dashboard.url}runs/h-srv-no-such-run`);
    assert.equal(res?.status(), 404);
    assert.equal(await page.textContent('#error-message'), 'the results store at postgres://postgres@127.0.0.1:55432/gameday has no run of workflow h-srv-no-such-run');
    const api = await fetch(`${dashboard.url}api/runs/h-srv-no-such-run`);
    assert.equal(api.status, 404);
    assert.match(((await api.json()) as { error: string }).error, /has no run of workflow h-srv-no-such-run/);
    const bad = await page.goto(`${dashboard.url}?since=soon`);
    assert.equal(bad?.status(), 400);
    assert.equal(await page.textContent('#error-message'), "since: expected a duration such as 90m, 24h or 7d, not 'soon'");
  });

  test('a second dashboard on the same port refuses to start, saying the port is in use', { timeout: 60_000 }, async () => {
    assert.ok(dashboard, 'the dashboard of the test before');
    const port = new URL(dashboard.url).port;
    const refused = await serve(['--port', port]).then(
      () => assert.fail('a second dashboard started on a busy port'),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`gameday: cannot serve the dashboard: port ${port} on 127\\.0\\.0\\.1 is already in use; pick another with --port`));
  });

  test('with the store down, the page says so, naming its URL with the password masked; the dashboard stops cleanly', { timeout: 60_000 }, async () => {
    const down = await serve(['--port', '0'], { GAMEDAY_RESULTS_URL: 'postgres://gameday:hunter2@127.0.0.1:1/gameday' });
    const { page } = browser;
    const res = await page.goto(down.url);
    assert.equal(res?.status(), 503);
    assert.equal(await page.textContent('h1'), 'Results store unreachable');
    assert.match((await page.textContent('#error-message')) ?? '', /^the results store at postgres:\/\/gameday:\*\*\*@127\.0\.0\.1:1\/gameday is unreachable/);
    assert.doesNotMatch(await page.content(), /hunter2/);
    assert.equal(await down.stop(), 0, down.stderr());
  });
});
