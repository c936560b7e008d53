/**
 * The Temporal Web UI end to end: a person starts chaos-001 from the UI's Start Workflow form
 * (workflow type `experiment`, input `{"experiment": "<id>"}`), watches the run complete in the UI
 * and finds it by its search attribute. Real headless Chromium on the real Web UI of the dev server,
 * a real worker, and the demo target system's NATS container, paused and resumed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { parseDocument, stringify } from 'yaml';
import { ensureTargetSystem, targetContainer } from '../../src/stack';
import type { ExperimentResult, ExperimentStatus } from '../../src/types';
import { launchHeadlessChromium, screenshotOnFailure, type HeadlessBrowser } from '../browser';
import { containerState, docker, eventually, startWorker, type TestWorker } from '../helpers';
import { openFilteredList, openRunPage, openUserMetadata, startWorkflowFromForm, waitForRunStatus } from '../temporal-ui';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const EXPERIMENT = 'chaos-001-nats-broker-pause';
const NATS = targetContainer('nats');
const FAULT = `pause container ${NATS}`;
const SUMMARY = 'chaos-001 started from the Start Workflow form';
const MINUTES = 60_000;

/**
 * The catalog's chaos-001 with the same id, a 5 s pause instead of 15 s, and a lock that waits:
 * other tests run experiments on the demo system's NATS too, and this run must queue behind them.
 */
async function writeShortChaos001(dir: string): Promise<void> {
  const doc = parseDocument(await readFile(path.join(ROOT, 'experiments', `${EXPERIMENT}.yaml`), 'utf8'));
  doc.setIn(['method', 0, 'duration'], '5s');
  doc.set('lock', doc.createNode({ whenBusy: 'wait', waitAtMost: '5m' }));
  await writeFile(path.join(dir, `${EXPERIMENT}.yaml`), stringify(doc));
}

/**
 * Watches a run from the outside until it closes or `stop()` is called: whether docker inspect
 * ever said the NATS container was paused while the run's status query listed its pause as in place.
 */
function watchPause(handle: WorkflowHandle): { pausedDuringRun: Promise<boolean>; stop(): void } {
  let stopped = false;
  const pausedDuringRun = (async () => {
    let seen = false;
    while (!stopped) {
      const description = await handle.describe().catch(() => undefined);
      if (description && description.status.name !== 'RUNNING') break;
      const status = await handle.query<ExperimentStatus>('status').catch(() => undefined);
      if (status?.activeFaults.some((f) => f.description === FAULT)) {
        seen ||= (await containerState(NATS).catch(() => undefined))?.Paused === true;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return seen;
  })();
  return { pausedDuringRun, stop: () => void (stopped = true) };
}

describe('chaos-001 started from the Temporal Web UI', () => {
  let w: TestWorker;
  let browser: HeadlessBrowser | undefined;
  let experimentsDir: string | undefined;
  const workflowId = `ui-e2e-${EXPERIMENT}-${process.pid}-${Date.now()}`;

  before(async () => {
    await ensureTargetSystem(docker);
    experimentsDir = await mkdtemp(path.join(os.tmpdir(), 'gameday-ui-experiments-'));
    await writeShortChaos001(experimentsDir);
    w = await startWorker('ui', { experimentsDir });
    browser = await launchHeadlessChromium();
    browser.page.setDefaultTimeout(2 * MINUTES);
  });

  after(async () => {
    await browser?.close();
    // A run left behind by a failed test is cancelled, which rolls its fault back, before its worker goes.
    const handle = w?.client.workflow.getHandle(workflowId);
    const running = await handle?.describe().then((d) => d.status.name === 'RUNNING', () => false);
    if (running) {
      await handle!.cancel();
      await handle!.result().catch(() => undefined);
    }
    await w?.stop();
    if (experimentsDir) await rm(experimentsDir, { recursive: true, force: true });
  });

  test('the form starts the run, the UI shows it Completed, NATS was paused and runs again, the list finds it', { timeout: 15 * MINUTES }, async () => {
    const { page } = browser!;
    const ui = `http://127.0.0.1:${w.config.uiPort}`;
    const ns = w.config.namespace;
    await screenshotOnFailure(page, workflowId, async () => {
      await startWorkflowFromForm(page, ui, ns, {
        workflowId,
        taskQueue: w.taskQueue,
        workflowType: 'experiment',
        input: JSON.stringify({ experiment: EXPERIMENT }),
        summary: SUMMARY,
      });
      const handle = w.client.workflow.getHandle(workflowId);
      const watch = watchPause(handle);
      try {
        await openRunPage(page, ui, ns, workflowId);
        await waitForRunStatus(page, ui, ns, workflowId, 'Completed', 10 * MINUTES);

        const result = (await handle.result()) as ExperimentResult;
        assert.equal(result.experimentId, EXPERIMENT, 'the worker resolved the id from its catalog');
        // The same finding as `gameday run` makes: the demo's webhook waits on the paused broker.
        assert.equal(result.verdict, 'failed', result.reason);
        assert.match(result.reason, /webhook answers 202 within 5 s during the pause/);
        assert.equal(result.rollback, 'complete');
        assert.equal(await watch.pausedDuringRun, true, 'docker inspect said the NATS container was paused while the run held its fault');
        const state = await containerState(NATS);
        assert.equal(state.Running && !state.Paused, true, `${NATS} runs after the run (docker inspect: ${state.Status})`);
      } finally {
        // Also when the test fails half-way: the watcher must not keep the process alive.
        watch.stop();
      }

      const query = `GamedayExperimentId = "${EXPERIMENT}" AND WorkflowId = "${workflowId}"`;
      const found = await eventually(`the list query ${query} to find the run`, async () => {
        for await (const run of w.client.workflow.list({ query })) return run;
        return undefined;
      }, 2 * MINUTES);
      assert.equal(found.status.name, 'COMPLETED');

      // The run's User Metadata: the summary typed into the form, and the fault in words as the
      // summary of its inject and revert activities.
      await openRunPage(page, ui, ns, workflowId);
      const metadata = await openUserMetadata(page);
      await metadata.summary.getByText(SUMMARY).waitFor();
      await metadata.tab.getByText(FAULT, { exact: true }).waitFor();
      await metadata.tab.getByText(`revert: ${FAULT}`, { exact: true }).waitFor();

      // The workflow list, filtered as a user types it, shows the run.
      await openFilteredList(page, ui, ns, query);
      await page.getByRole('link', { name: workflowId }).first().waitFor();
    });
  });
});
