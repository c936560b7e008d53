/**
 * The HTML report as a person opens it: a real short experiment (a busybox container of this
 * file's own paused for 3 s, an HTTP probe against a local server) on a real worker, its
 * report.html opened from disk in headless Chromium with every network request refused, the chart
 * drawn from the run's samples, the fault's window shaded, the tables there and a screenshot that
 * is not blank. Then `gameday report` renders the same run from the results store through the CLI.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { renderHtml } from '../../src/report/html';
import type { Experiment } from '../../src/spec/schema';
import type { ExperimentResult, Journal } from '../../src/types';
import { launchHeadlessChromium, screenshotOnFailure, type HeadlessBrowser } from '../browser';
import { containerState, eventually, gameday, removeContainer, startOkServer, startSleeper, startWorker, type TestWorker } from '../helpers';
import { journalFixture } from '../store-fixtures';

// The page's globals these tests touch, declared here: the project compiles without the DOM library.
interface PageElement {
  dataset: Record<string, string | undefined>;
  offsetLeft: number;
  offsetWidth: number;
  className: string;
  querySelectorAll(selector: string): Iterable<PageElement>;
}
interface Canvas {
  width: number;
  height: number;
  getContext(kind: '2d'): Context2d | null;
}
interface Context2d {
  canvas: Canvas;
  getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  drawImage(image: Image, x: number, y: number): void;
}
interface UPlot {
  data: number[][];
  ctx: Context2d;
  over: PageElement;
  valToPos(value: number, scale: string): number;
}
declare const window: { gamedayCharts?: { id: string; uplot: UPlot; points: number; samples: number }[]; pwned?: number };
declare const document: { createElement(tag: 'canvas'): Canvas };
declare class Image {
  src: string;
  width: number;
  height: number;
  decode(): Promise<void>;
}

const BOX = 'h-html-box';
const BLUE = [37, 99, 235]; // the series' stroke, #2563eb

interface ChartFacts {
  id: string;
  points: number;
  samples: number;
  seriesLength: number;
  seriesPixels: number;
  faultWindows: { fault: string; left: number; width: number; expectedLeft: number; expectedWidth: number }[];
  marks: string[];
}

/** What each chart on the page holds and drew, read from uPlot and the canvas. */
function chartFacts(page: Page, fault?: { from: number; to: number }): Promise<ChartFacts[]> {
  return page.evaluate(
    ({ blue, fault }) => {
      return (window.gamedayCharts ?? []).map(({ id, uplot, points, samples }) => {
        const { width, height } = uplot.ctx.canvas;
        const pixels = uplot.ctx.getImageData(0, 0, width, height).data;
        let seriesPixels = 0;
        for (let i = 0; i < pixels.length; i += 4) if (Math.abs(pixels[i] - blue[0]) < 30 && Math.abs(pixels[i + 1] - blue[1]) < 30 && Math.abs(pixels[i + 2] - blue[2]) < 30) seriesPixels++;
        const faultWindows = [...uplot.over.querySelectorAll('.fault-window')].map((w) => ({
          fault: w.dataset.fault ?? '',
          left: w.offsetLeft,
          width: w.offsetWidth,
          expectedLeft: fault ? uplot.valToPos(fault.from, 'x') : 0,
          expectedWidth: fault ? uplot.valToPos(fault.to, 'x') - uplot.valToPos(fault.from, 'x') : 0,
        }));
        const marks = [...uplot.over.querySelectorAll('.mark')].map((m) => m.className);
        return { id, points, samples, seriesLength: uplot.data[1].length, seriesPixels, faultWindows, marks };
      });
    },
    { blue: BLUE, fault },
  );
}

/** How many distinct colours a PNG has, counted by drawing it on a canvas in a blank page. */
async function coloursIn(browser: HeadlessBrowser, png: Buffer): Promise<number> {
  const page = await browser.context.newPage();
  try {
    return await page.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.width;
      canvas.height = img.height;
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const data = ctx.getImageData(0, 0, img.width, img.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < data.length; i += 4) seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
      return seen.size;
    }, png.toString('base64'));
  } finally {
    await page.close();
  }
}

/** Opens a report from disk with every request other than the file itself refused; returns what was asked for. */
async function openOffline(browser: HeadlessBrowser, file: string): Promise<{ requested: string[]; errors: string[] }> {
  const { page, context } = browser;
  const requested: string[] = [];
  const errors: string[] = [];
  const own = pathToFileURL(file).href;
  await context.route('**/*', (route) => {
    if (route.request().url() === own) return route.continue();
    requested.push(route.request().url());
    return route.abort();
  });
  page.on('pageerror', (e) => void errors.push(e.message));
  await page.goto(own);
  await page.waitForFunction(() => (window.gamedayCharts?.length ?? 0) > 0, undefined, { timeout: 10_000 });
  return { requested, errors };
}

describe('the HTML report of a real run', () => {
  let w: TestWorker;
  let server: Awaited<ReturnType<typeof startOkServer>>;
  let browser: HeadlessBrowser;
  let result: ExperimentResult;
  let journal: Journal;
  let scratch: string;

  before(async () => {
    server = await startOkServer();
    await startSleeper(BOX);
    w = await startWorker('h-html');
    browser = await launchHeadlessChromium({ viewport: { width: 1200, height: 900 }, scratch: 'h-html-' });
    scratch = browser.scratch;
  });
  after(async () => {
    await browser?.close();
    await w?.stop();
    await removeContainer(BOX);
    server?.close();
  });

  test('a 3 s pause: report.html draws every sample, shades the fault window, has the tables, fetches nothing and is not blank', { timeout: 120_000 }, async () => {
    const spec: Experiment = {
      id: 'h-html-pause',
      title: 'busybox paused <b>for the HTML report</b>',
      hypothesis: 'the server answers throughout',
      targets: { box: { kind: 'docker', container: BOX } },
      steadyState: [{ name: 'server answers', probe: { kind: 'http', url: server.url, timeout: '1s' }, expect: { status: { equals: 200 } } }],
      method: [{ fault: { kind: 'docker-pause', target: 'box' }, duration: '3s' }],
      observe: { interval: '200ms', probes: [{ name: 'server during the pause', probe: { kind: 'http', url: server.url, timeout: '1s' }, expect: { latencyMs: { atMost: 1000 } } }] },
      recovery: { within: '10s', interval: '200ms' },
      lessonsLearned: ['A paused sidecar does not slow the server.'],
      nextExperiments: [{ description: 'Pause it for 30 s.', experiment: 'h-html-pause-long' }],
    };
    const handle = await w.start({ spec }, `h-html-run-${Date.now()}`);
    await eventually('the box to be paused', async () => (await containerState(BOX)).Paused, 30_000);
    result = (await handle.result()) as ExperimentResult;
    assert.equal(result.verdict, 'passed', result.reason);
    assert.equal((await containerState(BOX)).Paused, false, 'the pause was reverted');
    journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
    const fault = journal.rollback.faults[0];
    const observed = journal.observations.filter((s) => s.check === 'server during the pause').length;
    assert.ok(observed >= 5, `${observed} samples during the pause`);

    const file = path.join(result.reportDir, 'report.html');
    const { page } = browser;
    await screenshotOnFailure(page, 'h-html-report', async () => {
      const { requested, errors } = await openOffline(browser, file);
      const charts = await chartFacts(page, { from: Date.parse(fault.injectedAt!) / 1000, to: Date.parse(fault.revertedAt!) / 1000 });
      assert.deepEqual(errors, [], 'no script error');
      assert.deepEqual(requested, [], 'nothing but the file itself was requested');

      const during = charts.find((c) => c.samples === observed && c.points === observed);
      assert.ok(during, `a chart of the ${observed} samples during the pause: ${JSON.stringify(charts.map((c) => [c.points, c.samples]))}`);
      assert.equal(during.seriesLength, observed, "uPlot's series holds every sample");
      for (const c of charts) {
        assert.ok(c.seriesPixels > 20, `chart ${c.id} drew its series (${c.seriesPixels} pixels of its colour)`);
        assert.equal(c.faultWindows.length, 1, `chart ${c.id} shades the fault's window`);
        const [shade] = c.faultWindows;
        assert.equal(shade.fault, fault.id);
        assert.ok(shade.width > 10 && Math.abs(shade.left - shade.expectedLeft) <= 1 && Math.abs(shade.width - shade.expectedWidth) <= 2, JSON.stringify(shade));
        assert.ok(c.marks.some((m) => m.includes('mark-inject')) && c.marks.some((m) => m.includes('mark-revert')), `chart ${c.id} marks the inject and the revert`);
      }

      const table = await page.$$eval('#hypothesis-vs-reality tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
      assert.deepEqual(table, journal.hypothesisVsReality.map((r) => [r.expectation, r.when, r.expected, r.observed, r.ok ? 'PASS' : 'FAIL']));
      const rollback = await page.$$eval('#rollback-record tbody td', (cells) => cells.map((td) => td.textContent));
      assert.deepEqual(rollback.slice(0, 3), ['f1', `pause container ${BOX}`, 'reverted']);
      assert.match((await page.textContent('#rollback-procedure')) ?? '', new RegExp(`undo: docker unpause ${BOX}`));
      assert.match((await page.textContent('#lessons-learned')) ?? '', /A paused sidecar does not slow the server\./);
      assert.match((await page.textContent('#next-experiments')) ?? '', /h-html-pause-long: Pause it for 30 s\./);
      assert.equal(await page.textContent('h1'), `h-html-pause — ${spec.title}`, 'the title is shown as text');

      const shot = await page.screenshot({ fullPage: true });
      const colours = await coloursIn(browser, shot);
      assert.ok(colours > 50, `the screenshot has ${colours} colours`);
    });
  });

  test('gameday report renders the run from the results store as Markdown, JSON and HTML, to standard output or a file', { timeout: 60_000 }, async () => {
    assert.ok(result, 'the run of the test before');
    const id = result.workflowId;
    const md = await gameday(['report', id]);
    assert.equal(md.code, 0, md.stderr);
    assert.equal(md.stdout, await readFile(path.join(result.reportDir, 'report.md'), 'utf8'), "the worker's report.md, from the store");

    const json = await gameday(['report', id, '--json', '--out', path.join(scratch, 'run.json')]);
    assert.equal(json.code, 0, json.stderr);
    const stored = JSON.parse(await readFile(path.join(scratch, 'run.json'), 'utf8')) as Journal;
    assert.equal(stored.workflowId, id);
    assert.equal(stored.observations.length, journal.observations.length);
    assert.deepEqual(stored.hypothesisVsReality, journal.hypothesisVsReality);

    const html = await gameday(['report', id, '--html', '--out', path.join(scratch, 'run.html')]);
    assert.equal(html.code, 0, html.stderr);
    assert.match(html.stderr, /wrote .*run\.html/);
    const text = await readFile(path.join(scratch, 'run.html'), 'utf8');
    assert.match(text, /<section id="timeline">/);
    assert.ok(!/<script[^>]+src=/i.test(text), 'no script from elsewhere');

    const mdFile = await gameday(['report', id, '--md', '--out', path.join(scratch, 'run.md')]);
    assert.equal(mdFile.code, 0, mdFile.stderr);
    assert.equal(await readFile(path.join(scratch, 'run.md'), 'utf8'), md.stdout);
  });

  test('gameday report says which run is unknown, and which store is unreachable with its password masked', { timeout: 60_000 }, async () => {
    const unknown = await gameday(['report', 'h-html-no-such-run']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /the results store at postgres:\/\/postgres@127\.0\.0\.1:55432\/gameday has no run of workflow h-html-no-such-run/);
    const down = await gameday(['report', 'h-html-no-such-run'], { GAMEDAY_RESULTS_URL: 'postgres://gameday:hunter2@127.0.0.1:1/gameday' });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /the results store at postgres:\/\/gameday:\*\*\*@127\.0\.0\.1:1\/gameday is unreachable/);
    assert.doesNotMatch(down.stderr + down.stdout, /hunter2/);
    const two = await gameday(['report', 'x', '--md', '--html']);
    assert.equal(two.code, 1);
    assert.match(two.stderr, /report takes one of --md, --html, --json, not --md and --html/);
  });

  test('a report whose names hold <script> runs none of it, and a downsampled chart holds its downsampled points', { timeout: 60_000 }, async () => {
    const hostile = `<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">`;
    const j = journalFixture('h-html-hostile', 'run-1');
    const long = Array.from({ length: 3000 }, (_, i) => ({ ...j.observations[0], at: new Date(Date.parse(j.startedAt) + i * 10).toISOString(), measurement: { latencyMs: i % 17 } }));
    const file = path.join(scratch, 'hostile.html');
    await writeFile(file, renderHtml({ ...j, title: hostile, reason: hostile, observations: long, events: [...j.events, { at: j.startedAt, stage: 'observe', message: hostile }] }, { maxPoints: 500 }));
    const fresh = await launchHeadlessChromium();
    try {
      await screenshotOnFailure(fresh.page, 'h-html-hostile', async () => {
        const { requested, errors } = await openOffline(fresh, file);
        assert.deepEqual(requested, [], 'the hostile <img> fetched nothing');
        assert.deepEqual(errors, []);
        assert.equal(await fresh.page.evaluate(() => window.pwned), undefined, 'no injected script ran');
        assert.equal(await fresh.page.textContent('h1'), `store-001-nats-pause — ${hostile}`);
        const observe = (await chartFacts(fresh.page)).find((c) => c.samples === 3000);
        assert.ok(observe && observe.points <= 500 && observe.points > 250, JSON.stringify(observe));
        assert.equal(observe.seriesLength, observe.points);
        assert.match((await fresh.page.textContent(`figure[data-chart="${observe.id}"] figcaption`)) ?? '', /3000 samples, downsampled to \d+ points/);
      });
    } finally {
      await fresh.close();
    }
  });
});
