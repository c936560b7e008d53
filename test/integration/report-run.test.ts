import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { asyncLocalStorage } from '@temporalio/activity';
import { createSamplingActivities } from '../../activities/sampling';
import { gamedayMetrics } from '../../src/metrics/gameday';
import { steadyStateRows } from '../../src/judge';
import { migrateResultsStore } from '../../src/store/migrate';
import { openResultsStore } from '../../src/store/postgres';
import type { ResultsStore } from '../../src/store/types';
import type { StoreWriter } from '../../src/store/writer';
import type { Journal } from '../../src/types';
import { dropDatabase, PG_SERVER } from '../store-db';
import { journalFixture, storedSamples } from '../store-fixtures';

// The reportRun activity against a database of this file's own, outside a worker: the activity's
// context is the little of it reportRun reads.
const DB = `gameday_test_report_run_${process.pid}`;
let store: ResultsStore;
let reportsDir: string;

before(async () => {
  await migrateResultsStore(`${PG_SERVER}/${DB}`);
  store = openResultsStore(`${PG_SERVER}/${DB}`);
  reportsDir = await mkdtemp(path.join(os.tmpdir(), 'gameday-report-run-'));
});

after(async () => {
  await store.close();
  await dropDatabase(DB);
  await rm(reportsDir, { recursive: true, force: true });
});

function reportRun(s: ResultsStore, journal: Journal) {
  const activities = createSamplingActivities({ probe: {} as never, store: s, writer: {} as StoreWriter, reportsDir, metrics: gamedayMetrics() });
  const info = { attempt: 1, scheduledTimestampMs: Date.now(), isLocal: false };
  return asyncLocalStorage.run({ info } as never, () => activities.reportRun({ journal }));
}

async function stored(j: Journal): Promise<Journal> {
  await store.writeSamples(j, storedSamples(j));
  return { ...j, baseline: [], observations: [], guardrails: [], verification: [] };
}

async function reportedRows(j: Journal) {
  return (JSON.parse(await readFile(path.join(reportsDir, j.workflowId, 'journal.json'), 'utf8')) as Journal).hypothesisVsReality;
}

test("the store keeps the report's hypothesis rows, judged from every sample, when they are not the workflow's", async () => {
  const j = journalFixture('report-run-rows', 'run-1');
  // The workflow judged the baseline and the recovery only; the report adds the rows during the fault.
  const workflowRows = j.hypothesisVsReality.filter((r) => r.when !== 'during the fault');
  await reportRun(store, { ...(await stored(j)), hypothesisVsReality: workflowRows });
  const rows = await reportedRows(j);
  assert.ok(rows.some((r) => r.when === 'during the fault'));
  assert.deepEqual((await store.readJournal(j.workflowId, j.runId))?.hypothesisVsReality, rows);
});

test("rows the same as the workflow's are not written again, and a failure to store the report's rows fails the activity", async () => {
  const calls: string[] = [];
  const refused = new Error('the expectations could not be written');
  const failing: ResultsStore = {
    ...store,
    recordExpectations: async (run) => {
      calls.push(run.workflowId);
      throw refused;
    },
  };
  const same = journalFixture('report-run-same', 'run-1');
  const plan = same.plan;
  assert.ok(plan);
  // No observe probe: the workflow's rows (the baseline, the recovery) are the report's.
  const quiet: Journal = { ...same, plan: { ...plan, spec: { ...plan.spec, observe: undefined } }, observations: [] };
  const workflowRows = [...steadyStateRows(plan, quiet.baseline, 'baseline'), ...steadyStateRows(plan, quiet.verification, 'after recovery')];
  await reportRun(failing, { ...(await stored(quiet)), hypothesisVsReality: workflowRows });
  assert.deepEqual(calls, []);
  assert.deepEqual(await reportedRows(quiet), workflowRows);
  assert.deepEqual((await store.readJournal(quiet.workflowId, quiet.runId))?.hypothesisVsReality, workflowRows);

  const differ = journalFixture('report-run-refused', 'run-1');
  await assert.rejects(reportRun(failing, { ...(await stored(differ)), hypothesisVsReality: [] }), (e) => e === refused);
  assert.deepEqual(calls, [differ.workflowId]);
});
