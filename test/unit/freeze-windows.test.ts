/**
 * Freeze windows: the file's validation messages (naming file and field), and which moments fall
 * in a dated or a weekly window, in the window's own time zone.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { GamedayError } from '../../src/errors';
import { activeFreeze, loadFreezeWindows, type FreezeFile } from '../../src/spec/freeze-windows';

async function fileWith(text: string): Promise<string> {
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'gameday-freeze-')), 'freeze-windows.yaml');
  await writeFile(file, text);
  return file;
}

async function rejection(text: string): Promise<{ file: string; message: string }> {
  const file = await fileWith(text);
  try {
    await loadFreezeWindows(file);
  } catch (e) {
    assert.ok(e instanceof GamedayError && e.type === 'InvalidFreezeWindows', String(e));
    return { file, message: e.message };
  }
  assert.fail('expected the freeze file to be rejected');
}

describe('the freeze-window file', () => {
  test('A missing file means no windows, unless it was named explicitly.', async () => {
    const missing = path.join(os.tmpdir(), `gameday-no-such-${process.pid}.yaml`);
    assert.deepEqual(await loadFreezeWindows(missing), { windows: [] });
    await assert.rejects(loadFreezeWindows(missing, true), (e: unknown) => e instanceof GamedayError && e.message === `${missing}: cannot read the freeze-window file: ENOENT`);
  });

  test('A dated and a weekly window validate.', async () => {
    const file = await fileWith('timezone: Europe/Berlin\nwindows:\n  - { reason: release, from: 2026-12-20, to: "2027-01-04T12:00" }\n  - { reason: weekend, days: [fri, sat], from: "16:00", to: "23:59" }\n');
    assert.equal((await loadFreezeWindows(file)).windows.length, 2);
  });

  test('A window without a reason is rejected at windows.N.reason, naming the file.', async () => {
    const r = await rejection('windows:\n  - { from: 2026-12-20, to: 2026-12-21 }\n');
    assert.equal(r.message, `${r.file}: windows.0.reason: a freeze window states its reason`);
  });

  test('A dated window without to is rejected at windows.N.to.', async () => {
    const r = await rejection('windows:\n  - { reason: r, from: 2026-12-20 }\n');
    assert.equal(r.message, `${r.file}: windows.0.to: required: a dated window has from and to (or give days for a weekly one)`);
  });

  test('A date that is not a date is rejected at its field.', async () => {
    const r = await rejection('windows:\n  - { reason: r, from: christmas, to: 2026-12-27 }\n');
    assert.equal(r.message, `${r.file}: windows.0.from: "christmas" is not a date or time: write 2026-12-20 or 2026-12-20T18:00`);
  });

  test('A weekly window with a bad day or a bad clock time is rejected at the field.', async () => {
    const r = await rejection('windows:\n  - { reason: r, days: [fri, funday], from: "4pm" }\n');
    assert.equal(
      r.message,
      [`${r.file}: windows.0.days.1: "funday" is not a day of the week: write mon, tue … sun`, `${r.file}: windows.0.from: "4pm" is not a clock time: with days, write "16:00"`].join('\n'),
    );
  });

  test('An unknown time zone and an unknown key are rejected at their paths.', async () => {
    const r = await rejection('timezone: Mars/Olympus\nwindow: []\n');
    assert.match(r.message, /timezone: unknown time zone "Mars\/Olympus"/);
    assert.match(r.message, /window: unknown field/);
    assert.match(r.message, /windows: expected a list of windows/);
  });

  test('A YAML syntax error names the file and the line.', async () => {
    const r = await rejection('windows:\n  - { reason: r\n');
    assert.match(r.message, /freeze-windows\.yaml: line \d+: /);
  });
});

describe('which moments are frozen', () => {
  const file: FreezeFile = {
    timezone: 'Europe/Berlin',
    windows: [
      { reason: 'year-end freeze', from: '2026-12-20', to: '2027-01-04' },
      { reason: 'no chaos before the weekend', days: ['fri'], from: '16:00', to: '23:59' },
      { reason: 'night batch', days: ['wed'], from: '22:00', to: '02:00', timezone: 'UTC' },
      { reason: 'exact instant', from: '2026-06-01T10:00:00Z', to: '2026-06-01T10:30:00Z' },
    ],
  };

  test('A date range covers its last day whole, in its own time zone.', () => {
    assert.equal(activeFreeze(file, new Date('2027-01-04T22:30:00Z'))?.reason, 'year-end freeze', '23:30 in Berlin on the last day');
    assert.equal(activeFreeze(file, new Date('2027-01-04T23:30:00Z')), undefined, 'already 00:30 on the 5th in Berlin');
    assert.equal(activeFreeze(file, new Date('2026-12-19T23:30:00Z'))?.reason, 'year-end freeze', '00:30 on the 20th in Berlin');
  });

  test('A weekly window holds on its days between its clock times, and says which window.', () => {
    // Friday 2026-11-27, 16:30 in Berlin (UTC+1).
    assert.deepEqual(activeFreeze(file, new Date('2026-11-27T15:30:00Z')), { reason: 'no chaos before the weekend', window: 'fri 16:00–23:59 (Europe/Berlin)' });
    assert.equal(activeFreeze(file, new Date('2026-11-27T14:30:00Z')), undefined, '15:30 in Berlin');
    assert.equal(activeFreeze(file, new Date('2026-11-26T15:30:00Z')), undefined, 'a Thursday');
  });

  test('A weekly window whose end is before its start runs past midnight into the next day.', () => {
    assert.equal(activeFreeze(file, new Date('2026-11-25T23:00:00Z'))?.reason, 'night batch', 'Wednesday 23:00 UTC');
    assert.equal(activeFreeze(file, new Date('2026-11-26T01:30:00Z'))?.reason, 'night batch', 'Thursday 01:30 UTC');
    assert.equal(activeFreeze(file, new Date('2026-11-26T03:00:00Z')), undefined, 'Thursday 03:00 UTC');
    assert.equal(activeFreeze(file, new Date('2026-11-24T23:00:00Z')), undefined, 'Tuesday 23:00 UTC');
  });

  test('A window given as instants (Z) is compared as instants.', () => {
    assert.equal(activeFreeze(file, new Date('2026-06-01T10:15:00Z'))?.reason, 'exact instant');
    assert.equal(activeFreeze(file, new Date('2026-06-01T10:31:00Z')), undefined);
  });
});
