/**
 * The demo api's dashboard in headless Chromium while chaos-008 runs: a person watching the page
 * through the proxy `dashboard` sees it go offline when the connections are reset, come back on
 * its own once they are possible again, and end up showing every status change the api emitted,
 * in order, none missed.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TARGET_SYSTEM, ensureTargetSystem, sendWebhook } from '../../src/stack';
import type { ExperimentResult } from '../../src/types';
import { launchHeadlessChromium, screenshotOnFailure, type HeadlessBrowser } from '../browser';
import { docker, startWorker, type TestWorker } from '../helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');

interface FeedEvent {
  seq: number;
  id: number;
  status: string;
}

/** The events the api emitted, asked of the api itself (port 18081, not through the proxy). */
async function apiEvents(): Promise<{ latest: number; events: FeedEvent[] }> {
  const res = await fetch(`${TARGET_SYSTEM.apiUrl}/events?since=0`, { signal: AbortSignal.timeout(5000) });
  return (await res.json()) as { latest: number; events: FeedEvent[] };
}

describe('the dashboard page while chaos-008 drops its WebSocket', () => {
  let w: TestWorker;
  let browser: HeadlessBrowser;

  before(async () => {
    await ensureTargetSystem(docker);
    w = await startWorker('dashboard', { experimentsDir: path.join(ROOT, 'experiments') });
    browser = await launchHeadlessChromium();
  });
  after(async () => {
    await browser?.close();
    await w?.stop();
  });

  test('the page shows it is offline during the drops, reconnects by itself, and ends up showing every event the api emitted', async () => {
    const { page } = browser;
    await screenshotOnFailure(page, 'dashboard-chaos-008', async () => {
      await page.goto(`${TARGET_SYSTEM.dashboardUrl}/dashboard`);
      await page.waitForSelector('#connection[data-state=online]', { timeout: 10_000 });
      await sendWebhook('dashboard test before the drops');

      const run = (await w.start({ experiment: 'chaos-008-dashboard-websocket-drops' })).result() as Promise<ExperimentResult>;
      await page.waitForSelector('#connection[data-state=offline]', { timeout: 10_000 });
      const whileOffline = [];
      for (const n of [1, 2, 3]) whileOffline.push(await sendWebhook(`dashboard test while offline ${n}`));
      assert.equal(await page.textContent('#connection'), 'offline', 'still offline while the connections are reset');

      const result = await run;
      assert.equal(result.rollback, 'complete');
      assert.equal(result.verdict, 'passed', result.reason);
      await page.waitForSelector('#connection[data-state=online]', { timeout: 10_000 });
      assert.ok(Number(await page.textContent('#reconnects')) >= 1, 'the page reconnected');

      // Scoring goes on after the run: wait until the page has caught up with the api's latest event.
      const id = await sendWebhook('dashboard test after the drops');
      await page.waitForSelector(`tr[data-id="${id}"] td:nth-child(2):text-is("scored")`, { timeout: 15_000 });
      const emitted = await apiEvents();
      await page.waitForSelector(`#log li[data-seq="${emitted.latest}"]`, { timeout: 10_000 });
      const shown = await page.$$eval('#log li', (items) => items.map((li) => li.textContent ?? ''));
      const expected = emitted.events.map((e) => `#${e.seq} message ${e.id} ${e.status}`);
      assert.deepEqual(
        shown.slice(0, expected.length).map((line) => line.replace(/ \S+$/, '')),
        expected,
        'the page shows every event the api emitted, in order',
      );
      assert.equal(await page.textContent('#missed'), '0');
      const rows = await page.$$eval('#messages tr', (trs) => trs.map((tr) => [Number(tr.getAttribute('data-id')), tr.children[1]?.textContent]));
      for (const offline of whileOffline) assert.deepEqual(rows.find(([rowId]) => rowId === offline), [offline, 'scored'], `message ${offline}, sent while the page was offline, is shown scored`);
    });
  });
});
