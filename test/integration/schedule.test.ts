/**
 * Nightly chaos: schedule blocks synced to real Temporal Schedules on the dev server, runs they
 * start against real containers, overlap skipped, freeze windows, pause on failure, and sync
 * touching only the schedules Gameday made from its folder.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ScheduleNotFoundError, type ScheduleDescription } from '@temporalio/client';
import YAML from 'yaml';
import { syncSchedules } from '../../src/schedules/sync';
import type { ExperimentResult, Journal, ScenarioJournal } from '../../src/types';
import { containerState, docker, eventually, gameday, recordHistory, removeContainer, startWorker, type TestWorker } from '../helpers';

const RUN = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
// A container per test: a run still going from one test must not hold the next test's target.
const SLEEPER = `gameday-test-sched-${RUN}`;
const OVERLAP_SLEEPER = `gameday-test-sched-overlap-${RUN}`;
const FROZEN_SLEEPER = `gameday-test-sched-frozen-${RUN}`;
const SLEEPERS = [SLEEPER, OVERLAP_SLEEPER, FROZEN_SLEEPER];

/** A tiny experiment: pause the sleeper for `duration`, the steady state an HTTP server of the test. */
function experiment(id: string, container: string, url: string, schedule: Record<string, unknown>, duration = '1s'): Record<string, unknown> {
  return {
    id,
    title: `pause ${container}`,
    hypothesis: 'the service answers before and after',
    targets: { app: { kind: 'docker', container } },
    steadyState: [{ name: 'service answers', probe: { kind: 'http', url, timeout: '1s' }, expect: { status: { equals: 200 } } }],
    method: [{ fault: { kind: 'docker-pause', target: 'app' }, duration }],
    recovery: { within: '5s', interval: '500ms' },
    schedule,
  };
}

describe('schedules', () => {
  let w: TestWorker;
  let frozen: TestWorker;
  let server: http.Server;
  let url: string;
  let root: string;
  const created = new Set<string>();
  const NIGHTLY = { cron: '0 2 * * *', timezone: 'Europe/Berlin' };
  const WEEKDAYS = { calendar: [{ hour: 2, minute: 30, dayOfWeek: { start: 'mon', end: 'fri' } }], timezone: 'Europe/Berlin' };

  /** A catalog folder of its own holding these files; returns its path. */
  async function catalog(name: string, files: Record<string, unknown>): Promise<string> {
    const dir = path.join(root, name);
    await mkdir(dir, { recursive: true });
    for (const [file, doc] of Object.entries(files)) await writeFile(path.join(dir, file), YAML.stringify(doc));
    return dir;
  }
  const describeSchedule = (id: string): Promise<ScheduleDescription> => w.client.schedule.getHandle(id).describe();
  const cli = (args: string[], taskQueue = w.taskQueue) => gameday(args, { GAMEDAY_TASK_QUEUE: taskQueue });
  async function sync(dir: string, worker = w): Promise<Record<string, string>> {
    const actions = await syncSchedules(worker.client, worker.config, dir);
    actions.forEach((a) => created.add(a.scheduleId));
    return Object.fromEntries(actions.map((a) => [a.scheduleId, a.outcome]));
  }
  async function sleeper(name: string): Promise<void> {
    await removeContainer(name);
    await (await docker.createContainer({ name, Image: 'gameday/busybox:local', Cmd: ['sleep', '3600'], Labels: { 'gameday.enabled': 'true' } })).start();
  }

  before(async () => {
    server = http.createServer((_, res) => res.end('ok')).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    root = await mkdtemp(path.join(os.tmpdir(), 'gameday-schedules-'));
    for (const name of SLEEPERS) await sleeper(name);
    // No freeze file for this worker; the other one's covers every day, all day.
    w = await startWorker('schedules', { deps: { freezeFile: path.join(root, 'no-freeze-windows.yaml') } });
    const freezeFile = path.join(root, 'freeze-windows.yaml');
    await writeFile(freezeFile, YAML.stringify({ windows: [{ reason: 'release week: no chaos', days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], timezone: 'UTC' }] }));
    frozen = await startWorker('schedules-frozen', { deps: { freezeFile, freezeFileRequired: true } });
  });

  after(async () => {
    for (const id of created) {
      const handle = w?.client.schedule.getHandle(id);
      // Runs a test left going (a failed overlap test's long one) are aborted: they roll back.
      const info = (await handle?.describe().catch(() => undefined))?.info;
      const runs = [...(info?.runningActions ?? []), ...(info?.recentActions ?? []).map((a) => a.action)].map((a) => a.workflow.workflowId);
      await handle?.delete().catch(() => undefined);
      for (const id of new Set(runs)) {
        const run = w.client.workflow.getHandle(id);
        if ((await run.describe().catch(() => undefined))?.status.name !== 'RUNNING') continue;
        await run.signal('abort', 'test cleanup').catch(() => undefined);
        await run.result().catch(() => undefined);
      }
    }
    await frozen?.stop();
    await w?.stop();
    for (const name of SLEEPERS) await removeContainer(name);
    server?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  test('sync from the CLI creates a schedule every 3 s whose runs pause the container and pass; list shows it; pause, unpause, delete', async () => {
    const id = `sched-every-${RUN}`;
    const scheduleId = `gameday-${id}`;
    const dir = await catalog('every', { [`${id}.yaml`]: experiment(id, SLEEPER, url, { every: '3s' }) });
    created.add(scheduleId);
    const synced = await cli(['schedule', 'sync', '--dir', dir]);
    assert.equal(synced.code, 0, synced.stderr);
    assert.equal(synced.stdout.split('\n')[0], `created: ${scheduleId} (${path.join(dir, `${id}.yaml`)})`);

    const desc = await describeSchedule(scheduleId);
    assert.equal(desc.policies.overlap, 'SKIP', 'overlap defaults to skip');
    assert.equal(desc.policies.pauseOnFailure, true, 'pause on failure by default');
    assert.equal(desc.policies.catchupWindow, 600_000, 'a catch-up window of 10 minutes');

    // Two runs the schedule started on its own, each ending passed with the container running.
    const runs = await eventually('two runs started by the schedule to finish', async () => {
      const recent = (await describeSchedule(scheduleId)).info.recentActions;
      if (recent.length < 2) return false;
      return Promise.all(recent.slice(0, 2).map((a) => w.client.workflow.getHandle(a.action.workflow.workflowId).result() as Promise<ExperimentResult>));
    }, 60_000);
    for (const r of runs) {
      assert.equal(r.verdict, 'passed', r.reason);
      assert.equal(r.rollback, 'complete');
      const journal = JSON.parse(await readFile(path.join(r.reportDir, 'journal.json'), 'utf8')) as Journal;
      assert.equal(journal.rollback.faults[0].description, `pause container ${SLEEPER}`, 'the container was paused, then reverted');
    }
    assert.equal((await containerState(SLEEPER)).Paused, false);

    const again = await cli(['schedule', 'sync', '--dir', dir]);
    assert.equal(again.stdout.split('\n')[0], `unchanged: ${scheduleId} (${path.join(dir, `${id}.yaml`)})`);

    const listed = await eventually('schedule list to show the schedule', async () => {
      const list = await cli(['schedule', 'list']);
      return list.stdout.includes(scheduleId) && list.stdout;
    });
    const block = listed.slice(listed.indexOf(scheduleId)).split('\n').slice(0, 6).join('\n');
    assert.match(block, /when: every 3s \(UTC\), overlap skip/);
    assert.match(block, /last: sched-every-\S+-scheduled-\S+ (running|completed)(, verdict passed)?$/m);

    assert.equal((await cli(['schedule', 'pause', id, '--note', 'investigating'])).stdout.trim(), `paused ${scheduleId}`);
    let state = (await describeSchedule(scheduleId)).state;
    assert.equal(state.paused, true);
    assert.equal(state.note, 'investigating');
    assert.equal((await cli(['schedule', 'unpause', scheduleId])).stdout.trim(), `unpaused ${scheduleId}`);
    state = (await describeSchedule(scheduleId)).state;
    assert.equal(state.paused, false);

    const last = (await describeSchedule(scheduleId)).info.recentActions;
    assert.equal((await cli(['schedule', 'delete', id])).stdout.trim(), `deleted ${scheduleId}`);
    await assert.rejects(describeSchedule(scheduleId), ScheduleNotFoundError);
    // Runs already started go on after a delete: each ends passed, leaving the container running.
    for (const a of last) assert.equal(((await w.client.workflow.getHandle(a.action.workflow.workflowId).result()) as ExperimentResult).verdict, 'passed');
    assert.equal((await containerState(SLEEPER)).Running, true);
  });

  test('trigger runs one now; a second trigger while it runs is skipped as an overlap; abort rolls it back', async () => {
    const id = `sched-overlap-${RUN}`;
    const scheduleId = `gameday-${id}`;
    assert.deepEqual(await sync(await catalog('overlap', { [`${id}.yaml`]: experiment(id, OVERLAP_SLEEPER, url, NIGHTLY, '5m') })), { [scheduleId]: 'created' });
    const nightly = await describeSchedule(scheduleId);
    assert.ok(nightly.info.nextActionTimes.length > 0 && nightly.info.recentActions.length === 0, 'nothing runs before 02:00');

    const trigger = await cli(['schedule', 'trigger', id]);
    assert.equal(trigger.stdout.trim(), `triggered ${scheduleId}`, trigger.stderr);
    await eventually('the triggered run to pause the container', async () => (await containerState(OVERLAP_SLEEPER)).Paused, 30_000);
    const running = await eventually('the schedule to show the run as running', async () => {
      const r = (await describeSchedule(scheduleId)).info.runningActions;
      return r.length === 1 && r;
    });

    await cli(['schedule', 'trigger', id]);
    const skipped = await eventually('the second trigger to be skipped', async () => {
      const d = await describeSchedule(scheduleId);
      return d.info.numActionsSkippedOverlap >= 1 && d;
    });
    assert.equal(skipped.info.runningActions.length, 1, 'still only the first run');
    assert.equal(skipped.info.runningActions[0].workflow.workflowId, running[0].workflow.workflowId);

    const handle = w.client.workflow.getHandle(running[0].workflow.workflowId);
    await handle.signal('abort', 'overlap test done');
    await assert.rejects(
      handle.result(),
      (e: Error) => (e.cause as Error | undefined)?.message === 'verdict aborted: aborted: overlap test done',
      'a scheduled run with a bad verdict fails its execution',
    );
    await recordHistory(handle.workflowId, 'scheduled-aborted');
    assert.equal((await containerState(OVERLAP_SLEEPER)).Paused, false, 'rolled back');
    // The schedule learns of the failure from the server a moment after the run closes.
    const paused = await eventually('pause on failure to pause the schedule', async () => {
      const d = await describeSchedule(scheduleId);
      return d.state.paused && d;
    });
    assert.match(paused.state.note ?? '', /fail/i);
  });

  test('inside a freeze window a scheduled run is skipped with the reason, the container never paused; a run by hand is not', async () => {
    const id = `sched-frozen-${RUN}`;
    const scheduleId = `gameday-${id}`;
    const spec = experiment(id, FROZEN_SLEEPER, url, NIGHTLY);
    assert.deepEqual(await sync(await catalog('frozen', { [`${id}.yaml`]: spec }), frozen), { [scheduleId]: 'created' });
    assert.equal((await cli(['schedule', 'trigger', scheduleId], frozen.taskQueue)).code, 0);
    const workflowId = await eventually('the triggered run to start', async () => (await describeSchedule(scheduleId)).info.recentActions[0]?.action.workflow.workflowId);
    const result = (await w.client.workflow.getHandle(workflowId).result()) as ExperimentResult;
    await recordHistory(workflowId, 'scheduled-frozen');
    assert.equal(result.verdict, 'skipped');
    assert.equal(result.reason, 'inside a freeze window (sun, mon, tue, wed, thu, fri, sat 00:00–24:00 (UTC)): release week: no chaos; nothing resolved or injected');
    assert.equal(result.rollback, 'nothing-injected');
    const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
    assert.deepEqual(journal.targets, [], 'no target was resolved');
    assert.equal(journal.freeze?.reason, 'release week: no chaos');
    const report = await readFile(path.join(result.reportDir, 'report.md'), 'utf8');
    assert.match(report, /\*\*Verdict: SKIPPED\*\* — inside a freeze window/);
    assert.match(report, /Skipped: inside the freeze window .*release week: no chaos/);
    const state = await containerState(FROZEN_SLEEPER);
    assert.equal(state.Paused, false);
    assert.equal(state.Running, true);
    assert.equal((await describeSchedule(scheduleId)).state.paused, false, 'a skipped run is no failure: the schedule stays on');

    const byHand = (await (await frozen.start({ spec: { ...spec, id: `${id}-by-hand` } })).result()) as ExperimentResult;
    assert.equal(byHand.verdict, 'passed', 'gameday run ignores freeze windows');
  });

  test('a scheduled scenario inside a freeze window starts no stage: verdict skipped, each stage skipped with the reason', async () => {
    const id = `sched-frozen-scenario-${RUN}`;
    const scheduleId = `gameday-${id}`;
    const { schedule: _, ...stage } = experiment(`${id}-stage`, FROZEN_SLEEPER, url, NIGHTLY);
    const scenario = { kind: 'scenario', id, title: 'frozen cascade', hypothesis: 'nothing runs in a freeze', stages: [{ name: 'pause', spec: stage }], schedule: NIGHTLY };
    assert.deepEqual(await sync(await catalog('frozen-scenario', { [`${id}.yaml`]: scenario }), frozen), { [scheduleId]: 'created' });
    assert.equal((await cli(['schedule', 'trigger', id], frozen.taskQueue)).code, 0);
    const workflowId = await eventually('the triggered scenario to start', async () => (await describeSchedule(scheduleId)).info.recentActions[0]?.action.workflow.workflowId);
    const result = (await w.client.workflow.getHandle(workflowId).result()) as ScenarioJournal['result'];
    await recordHistory(workflowId, 'scheduled-scenario-frozen');
    assert.equal(result.verdict, 'skipped');
    assert.match(result.reason, /^inside a freeze window .*: release week: no chaos; nothing resolved or injected$/);
    const journal = JSON.parse(await readFile(path.join(result.reportDir, 'scenario.json'), 'utf8')) as ScenarioJournal;
    assert.deepEqual(journal.stages.map((st) => [st.name, st.status, st.workflowId]), [['pause', 'skipped', undefined]], 'no child experiment was started');
    assert.match(journal.stages[0].skippedBecause ?? '', /release week: no chaos/);
    assert.equal((await containerState(FROZEN_SLEEPER)).Paused, false);
  });

  test('sync creates, updates and deletes only the schedules it made from its folder; others are left alone', async () => {
    const [a, b, taken] = ['a', 'b', 'taken'].map((n) => `sched-sync-${n}-${RUN}`);
    const foreignId = `gameday-${taken}`;
    created.add(foreignId);
    await w.client.schedule.create({
      scheduleId: foreignId,
      spec: { cronExpressions: ['0 3 * * *'] },
      action: { type: 'startWorkflow', workflowType: 'janitor', taskQueue: w.taskQueue, args: [{ lookbackMs: 1000 }] },
      state: { paused: true },
    });
    const dir = await catalog('sync', { 'a.yaml': experiment(a, SLEEPER, url, NIGHTLY), 'b.yaml': experiment(b, SLEEPER, url, WEEKDAYS) });

    const dry = await cli(['schedule', 'sync', '--dir', dir, '--dry-run']);
    assert.match(dry.stdout, new RegExp(`would be created: gameday-${a}`));
    await assert.rejects(describeSchedule(`gameday-${a}`), ScheduleNotFoundError, 'a dry run creates nothing');

    assert.deepEqual(await sync(dir), { [`gameday-${a}`]: 'created', [`gameday-${b}`]: 'created' });
    const weekdays = await describeSchedule(`gameday-${b}`);
    assert.deepEqual(weekdays.spec.calendars?.[0]?.dayOfWeek, [{ start: 'MONDAY', end: 'FRIDAY', step: 1 }], 'the calendar entry as the server holds it');
    assert.ok(weekdays.info.nextActionTimes.length > 0);
    for (const t of weekdays.info.nextActionTimes) {
      const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', weekday: 'short', hour: '2-digit', minute: '2-digit' }).format(t);
      assert.match(local, /^(Mon|Tue|Wed|Thu|Fri) 02:30$/);
    }
    await writeFile(path.join(dir, 'a.yaml'), YAML.stringify(experiment(a, SLEEPER, url, { ...NIGHTLY, cron: '30 4 * * *' })));
    await writeFile(path.join(dir, 'taken.yaml'), YAML.stringify(experiment(taken, SLEEPER, url, NIGHTLY)));
    assert.deepEqual(await sync(dir), { [`gameday-${a}`]: 'updated', [`gameday-${b}`]: 'unchanged', [foreignId]: 'conflict' });
    const updated = await describeSchedule(`gameday-${a}`);
    assert.equal((updated.action.args?.[0] as { spec: { schedule: { cron: string } } }).spec.schedule.cron, '30 4 * * *', 'the new cron line is on the server');

    await rm(path.join(dir, 'b.yaml'));
    await rm(path.join(dir, 'taken.yaml'));
    await eventually('the schedule listing to show b', async () => {
      for await (const s of w.client.schedule.list()) if (s.scheduleId === `gameday-${b}`) return true;
      return false;
    });
    assert.deepEqual(await sync(dir), { [`gameday-${a}`]: 'unchanged', [`gameday-${b}`]: 'deleted' });
    await assert.rejects(describeSchedule(`gameday-${b}`), ScheduleNotFoundError);
    assert.equal((await describeSchedule(foreignId)).state.paused, true, 'the foreign schedule is still there, untouched');

    const refused = await cli(['schedule', 'delete', foreignId]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr.trim(), `gameday: schedule ${foreignId} was not made by gameday schedule sync: refusing to touch it (use the Temporal CLI or Web UI)`);
    await describeSchedule(foreignId);
  });

  test('a file with a bad schedule block fails the sync, naming file, field and problem, and changes nothing', async () => {
    const good = `sched-good-${RUN}`;
    const dir = await catalog('bad', { 'good.yaml': experiment(good, SLEEPER, url, NIGHTLY), 'bad.yaml': experiment(`sched-bad-${RUN}`, SLEEPER, url, { cron: '0 2 * * *', timezone: 'Europe/Berlinn' }) });
    const run = await cli(['schedule', 'sync', '--dir', dir]);
    assert.equal(run.code, 1);
    assert.equal(run.stderr.trim(), `${path.join(dir, 'bad.yaml')}: schedule.timezone: unknown time zone "Europe/Berlinn": use an IANA name such as Europe/Berlin or UTC`);
    await assert.rejects(describeSchedule(`gameday-${good}`), ScheduleNotFoundError, 'not even the good file was synced');

    // A freeze file that does not validate refuses the sync too, and `validate` names its problem.
    await rm(path.join(dir, 'bad.yaml'));
    const freezeFile = path.join(dir, 'freeze-windows.yaml');
    await writeFile(freezeFile, YAML.stringify({ windows: [{ reason: 'release', from: 'christmas', to: '2026-12-27' }] }));
    const problem = `${freezeFile}: windows.0.from: "christmas" is not a date or time: write 2026-12-20 or 2026-12-20T18:00`;
    const refused = await gameday(['schedule', 'sync', '--dir', dir], { GAMEDAY_TASK_QUEUE: w.taskQueue, GAMEDAY_FREEZE_FILE: freezeFile });
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr.trim(), `gameday: ${problem}`);
    await assert.rejects(describeSchedule(`gameday-${good}`), ScheduleNotFoundError);
    const validated = await gameday(['validate', freezeFile]);
    assert.equal(validated.code, 1);
    assert.equal(validated.stderr.trim(), problem);
  });
});
