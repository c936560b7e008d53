/**
 * The README's first command, `npm run demo` (gameday demo): a real game day on the local stack,
 * chaos-001 of the reference method against the demo-nats container.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { Journal } from '../../src/types';
import { containerState } from '../helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');

test('gameday demo runs chaos-001 against demo-nats and reports the timed-out publishes and the recovery', async () => {
  const reportsDir = await mkdtemp(path.join(os.tmpdir(), 'gameday-demo-'));
  const env = { ...process.env, GAMEDAY_TASK_QUEUE: `test-demo-${process.pid}`, GAMEDAY_REPORTS_DIR: reportsDir };
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
    execFile(process.execPath, [path.join(ROOT, 'bin', 'gameday.js'), 'demo'], { env, cwd: ROOT }, (error, stdout, stderr) =>
      error ? reject(new Error(`demo failed: ${error.message}\n${stderr}`)) : resolve({ stdout, stderr }),
    ),
  );
  assert.match(stdout, /^verdict: passed/m, stdout + stderr);
  assert.match(stdout, /^rollback: complete/m);
  assert.match(stdout, /Temporal Web UI: http:\/\/127\.0\.0\.1:8233\//);
  assert.match(stderr, /\[observe\]/);
  const reportPath = /^report: (.*)$/m.exec(stdout)?.[1];
  assert.ok(reportPath);
  const report = await readFile(reportPath, 'utf8');
  assert.match(report, /\| publishes fail fast during the pause \| \d+ \| \d+ \| [\d–]+ \| TIMEOUT/, 'the publishes that timed out during the pause');
  const journal = JSON.parse(await readFile(path.join(path.dirname(reportPath), 'journal.json'), 'utf8')) as Journal;
  const during = journal.observations.filter((s) => s.check === 'publishes fail fast during the pause');
  assert.ok(during.length >= 5 && during.every((s) => s.error !== ''), 'every publish during the 15 s pause timed out');
  const messages = (samples: typeof journal.baseline): number => Number(samples.find((s) => s.check === 'stream tasks answers')?.measurement.messages);
  assert.ok(messages(journal.verification) > messages(journal.baseline), 'the stream answers again after recovery, with more messages');
  const state = await containerState('demo-nats');
  assert.equal(state.Running && !state.Paused, true, 'demo-nats runs after the game day');
});
