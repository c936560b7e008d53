/**
 * What `gameday schedule sync` asks Temporal for, from a schedule block: the spec, the safe
 * defaults, the input that marks a scheduled run, and the memo that marks Gameday's schedules.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config';
import { describeSchedule, scheduleOptionsFor, scheduleSpecFor, specHash, type ScheduledSpec } from '../../src/schedules/options';
import { parseExperiment } from '../../src/spec/loader';
import { minimalExperiment } from '../spec-fixtures';

const config = { ...loadConfig({}), taskQueue: 'nightly-queue' };

function wish(schedule: Record<string, unknown>): ScheduledSpec {
  const spec = parseExperiment(minimalExperiment({ id: 'nightly', title: 'nightly pause', schedule }));
  return { kind: 'experiment', spec: spec as ScheduledSpec['spec'], file: '/catalog/nightly.yaml' };
}

test('a bare cron block gets the safe defaults: overlap skip, a 10 m catch-up window, pause on failure, not paused', () => {
  const o = scheduleOptionsFor(wish({ cron: '0 2 * * *', timezone: 'Europe/Berlin' }), config, '/catalog');
  assert.equal(o.scheduleId, 'gameday-nightly');
  assert.deepEqual(o.spec, { cronExpressions: ['0 2 * * *'], timezone: 'Europe/Berlin' });
  assert.deepEqual(o.policies, { overlap: 'SKIP', catchupWindow: '10m', pauseOnFailure: true });
  assert.equal(o.state?.paused, false);
});

test('the run it starts is the experiment on the configured queue, marked as started by the schedule', () => {
  const w = wish({ every: '6h' });
  const o = scheduleOptionsFor(w, config, '/catalog');
  assert.equal(o.action.workflowType, 'experiment');
  assert.equal(o.action.taskQueue, 'nightly-queue');
  assert.equal(o.action.workflowTaskTimeout, config.workflowTaskTimeout);
  assert.deepEqual(o.action.args, [{ spec: w.spec, source: '/catalog/nightly.yaml', trigger: 'schedule', scheduleId: 'gameday-nightly' }]);
  assert.deepEqual(o.memo, { gamedayOwner: 'gameday', gamedayCatalog: '/catalog' });
});

test('the spec hash changes with the file and with the task queue, and only then', () => {
  const a = specHash(wish({ every: '6h' }), config);
  assert.equal(specHash(wish({ every: '6h' }), config), a);
  assert.notEqual(specHash(wish({ every: '7h' }), config), a);
  assert.notEqual(specHash(wish({ every: '6h' }), { ...config, taskQueue: 'other' }), a);
});

test('calendar names become the names Temporal wants; policies and jitter carry over', () => {
  const w = wish({ calendar: [{ hour: 2, minute: [0, 30], dayOfWeek: { start: 'mon', end: 'fri' }, month: ['jan', 12] }], jitter: '5m', overlap: 'buffer-one', catchupWindow: '1h', pauseOnFailure: false, paused: true });
  assert.deepEqual(scheduleSpecFor(w.spec.schedule), {
    calendars: [{ second: undefined, minute: [0, 30], hour: 2, dayOfMonth: undefined, month: ['JANUARY', 'DECEMBER'], year: undefined, dayOfWeek: { start: 'MONDAY', end: 'FRIDAY' }, comment: undefined }],
    jitter: '5m',
  });
  const o = scheduleOptionsFor(w, config, '/catalog');
  assert.deepEqual(o.policies, { overlap: 'BUFFER_ONE', catchupWindow: '1h', pauseOnFailure: false });
  assert.equal(o.state?.paused, true);
});

test('a schedule reads in words with its zone and overlap policy', () => {
  assert.equal(describeSchedule(wish({ cron: ['0 2 * * *', '@weekly'], timezone: 'Europe/Berlin', jitter: '5m' }).spec.schedule), 'cron 0 2 * * * | @weekly (Europe/Berlin), jitter 5m, overlap skip');
  assert.equal(describeSchedule(wish({ calendar: [{ hour: 2, dayOfWeek: 'sat' }], overlap: 'allow-all' }).spec.schedule), 'calendar hour=2 dayOfWeek="sat" (UTC), overlap allow-all');
});
