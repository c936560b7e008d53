/**
 * Every validation message of the `schedule` block, with the field path it is reported at,
 * through parseExperiment and parseScenario (what `gameday validate` and `schedule sync` use).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidExperimentError, type SpecProblem } from '../../src/errors';
import { parseExperiment, parseScenario } from '../../src/spec/loader';
import { experimentProblems, minimalExperiment } from '../spec-fixtures';

const FILE = 'nightly.yaml';

function experimentWith(schedule: unknown): Record<string, unknown> {
  return minimalExperiment({ id: 'nightly', title: 'nightly pause', schedule });
}

function problemsOf(schedule: unknown): SpecProblem[] {
  return experimentProblems(experimentWith(schedule), FILE);
}

function assertOnlyProblem(schedule: unknown, path: string, message: string): void {
  assert.deepEqual(problemsOf(schedule), [{ file: FILE, path, message }]);
}

describe('the schedule block', () => {
  test('A cron schedule with a time zone validates and keeps its values.', () => {
    const spec = parseExperiment(experimentWith({ cron: '0 2 * * *', timezone: 'Europe/Berlin', jitter: '5m' }), FILE);
    assert.deepEqual(spec.schedule, { cron: '0 2 * * *', timezone: 'Europe/Berlin', jitter: '5m' });
  });

  test('Every, calendar entries with names and ranges, and every policy validate.', () => {
    const schedule = {
      every: '3s',
      calendar: [{ hour: 2, minute: [0, 30], dayOfWeek: { start: 'mon', end: 'fri' }, month: '*' }],
      catchupWindow: '1h',
      overlap: 'buffer-one',
      pauseOnFailure: false,
      paused: true,
      note: 'nightly',
    };
    assert.deepEqual(parseExperiment(experimentWith(schedule), FILE).schedule, schedule);
  });

  test('A schedule with none of cron, calendar, every is rejected at schedule.', () => {
    assertOnlyProblem({ timezone: 'UTC' }, 'schedule', 'a schedule needs at least one of cron, calendar or every');
  });

  test('An unknown time zone is rejected at schedule.timezone, naming it.', () => {
    assertOnlyProblem({ cron: '0 2 * * *', timezone: 'Mars/Olympus' }, 'schedule.timezone', 'unknown time zone "Mars/Olympus": use an IANA name such as Europe/Berlin or UTC');
  });

  test('A cron line with too few fields is rejected at schedule.cron.', () => {
    assertOnlyProblem({ cron: '0 2 *' }, 'schedule.cron', '"0 2 *" is not a cron expression: write five fields such as "0 2 * * *" (02:00 every day), or @daily');
  });

  test('A bad line in a list of cron lines is rejected at its index.', () => {
    assertOnlyProblem({ cron: ['@daily', 'nightly'] }, 'schedule.cron.1', '"nightly" is not a cron expression: write five fields such as "0 2 * * *" (02:00 every day), or @daily');
  });

  test('A time zone inside the cron line is rejected: it belongs in timezone.', () => {
    assertOnlyProblem({ cron: 'CRON_TZ=Europe/Berlin 0 2 * * *' }, 'schedule.cron', 'give the time zone in timezone, not in the cron expression');
  });

  test('An every that is not a duration is rejected at schedule.every.', () => {
    assertOnlyProblem({ every: 'nightly' }, 'schedule.every', '"nightly" is not a duration: write a number and a unit (ms, s, m, h, d), e.g. "10m"');
  });

  test('An every under a second is rejected.', () => {
    assertOnlyProblem({ every: '500ms' }, 'schedule.every', 'every 500ms is less than a second');
  });

  test('A catch-up window out of its bounds is rejected, naming them.', () => {
    assertOnlyProblem({ every: '1h', catchupWindow: '2d' }, 'schedule.catchupWindow', 'catchupWindow 2d is out of bounds: between 10s and 24h');
    assertOnlyProblem({ every: '1h', catchupWindow: '5s' }, 'schedule.catchupWindow', 'catchupWindow 5s is out of bounds: between 10s and 24h');
  });

  test('An unknown overlap policy is rejected, listing the policies.', () => {
    assertOnlyProblem({ every: '1h', overlap: 'queue' }, 'schedule.overlap', '"queue" is not one of "skip", "buffer-one", "allow-all"');
  });

  test('A misspelt key in the schedule is rejected at its own path.', () => {
    assertOnlyProblem({ every: '1h', timeZone: 'UTC' }, 'schedule.timeZone', 'unknown field (misspelt, or not part of this object)');
  });

  test('An empty calendar list is rejected.', () => {
    assertOnlyProblem({ calendar: [] }, 'schedule.calendar', 'give at least one calendar entry');
  });

  test('An hour out of range in a calendar entry is rejected at its field.', () => {
    assertOnlyProblem({ calendar: [{ hour: 25 }] }, 'schedule.calendar.0.hour', '25 is not a valid hour (0-23)');
  });

  test('A bad day name inside a list is rejected at its index.', () => {
    assertOnlyProblem({ calendar: [{ dayOfWeek: ['mon', 'funday'] }] }, 'schedule.calendar.0.dayOfWeek.1', '"funday" is not a valid day of the week (0-6, 0 = Sunday, or a name such as mon)');
  });

  test('A scenario takes the same schedule block, and its problems are reported the same way.', () => {
    const scenario = { kind: 'scenario', id: 'cascade', title: 'cascade', hypothesis: 'h', stages: [{ name: 'a', experiment: 'x' }] };
    assert.deepEqual(parseScenario({ ...scenario, schedule: { cron: '@daily' } }, FILE).schedule, { cron: '@daily' });
    assert.throws(
      () => parseScenario({ ...scenario, schedule: {} }, FILE),
      (e: unknown) => e instanceof InvalidExperimentError && e.problems[0].path === 'schedule' && e.problems[0].message === 'a schedule needs at least one of cron, calendar or every',
    );
  });
});
