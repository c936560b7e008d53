import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_RESULTS_URL, loadConfig } from '../../src/config';
import { GamedayError } from '../../src/errors';
import { isUnreachable, ResultsStoreUnreachable, storeFailure } from '../../src/store/errors';
import { eventRows, finishRows, journalFromRows, sampleRows, timestamp, WORKFLOW_SOURCE } from '../../src/store/rows';
import { databaseOf, maskUrl, withDatabase } from '../../src/store/url';
import { journalFixture, sample, storedSamples } from '../store-fixtures';

test('a batch that names the same phase, check and seq twice keeps one row, the later', () => {
  const rows = sampleRows([
    { phase: 'observe', seq: 0, sample: sample('a', 0, { latencyMs: 1 }) },
    { phase: 'observe', seq: 1, sample: sample('a', 1) },
    { phase: 'observe', seq: 0, sample: sample('a', 0, { latencyMs: 2 }) },
    { phase: 'guardrail', seq: 0, sample: sample('a', 0) },
  ]);
  assert.equal(rows.length, 3);
  assert.deepEqual(rows.find((r) => r.phase === 'observe' && r.seq === 0)?.measurement, { latencyMs: 2 });
});

test('a sample whose seq is negative or fractional is refused, naming the check', () => {
  assert.throws(() => sampleRows([{ phase: 'observe', seq: -1, sample: sample('webhooks', 0) }]), /sample webhooks's seq must be a whole number from 0: -1/);
  assert.throws(() => eventRows([{ source: 'observe', seq: 1.5, at: new Date().toISOString(), stage: 'observe', message: 'x' }]), /event observe's seq/);
});

test('a time that does not parse is refused, naming what it was', () => {
  assert.throws(() => sampleRows([{ phase: 'baseline', seq: 0, sample: { ...sample('nats', 0), at: 'yesterday' } }]), /the sample nats #0's at is not a time: "yesterday"/);
  assert.equal(timestamp('2026-12-01T21:00:00+01:00', 'x'), '2026-12-01T20:00:00.000Z');
});

test('a finished journal maps to a run row, its faults, hypothesis rows, breach and the workflow events', () => {
  const j = journalFixture();
  const rows = finishRows(j);
  assert.equal(rows.run.verdict, 'failed');
  assert.equal(rows.run.rollback_status, 'complete');
  assert.deepEqual(rows.run.spec, j.plan?.spec);
  assert.deepEqual(Object.keys(rows.run.details).sort(), ['abort', 'freeze', 'plan', 'targets']);
  assert.deepEqual(rows.faults.map((f) => [f.fault_id, f.idx, f.kind, f.target, f.status]), [['f1', 0, 'docker-pause', 'nats', 'reverted']]);
  assert.equal(rows.expectations.length, j.hypothesisVsReality.length);
  assert.deepEqual(rows.breaches.map((b) => b.guardrail), ['api answers']);
  assert.deepEqual(rows.events.map((e) => [e.source, e.seq]), j.events.map((_, i) => [WORKFLOW_SOURCE, i]));
});

test('rows read back rebuild the journal that was written, samples split by phase', () => {
  const j = journalFixture();
  const f = finishRows(j);
  const samples = sampleRows(storedSamples(j));
  const back = journalFromRows({
    run: { workflow_id: j.workflowId, run_id: j.runId, ...f.run, details: JSON.parse(JSON.stringify(f.run.details)) },
    samples,
    events: f.events,
    faults: f.faults.map((x) => x.planned),
    expectations: f.expectations,
    breaches: f.breaches,
  });
  assert.deepEqual(back, JSON.parse(JSON.stringify(j)));
});

test('a run with no outcome yet reads as unfinished: verdict error, rollback incomplete, ending at its newest sample', () => {
  const back = journalFromRows({
    run: { workflow_id: 'w', run_id: 'r', experiment_id: 'e', title: 't', hypothesis: 'h', source: 'inline', started_at: '2026-12-01T20:00:00.000Z', finished_at: null, verdict: null, reason: null, rollback_status: null, details: {} },
    samples: sampleRows([{ phase: 'observe', seq: 0, sample: { ...sample('a', 0), at: '2026-12-01T20:00:07.000Z' } }]),
    events: [],
    faults: [],
    expectations: [],
    breaches: [],
  });
  assert.equal(back.verdict, 'error');
  assert.equal(back.rollback.status, 'incomplete');
  assert.equal(back.finishedAt, '2026-12-01T20:00:07.000Z');
  assert.match(back.reason, /no outcome in the results store yet/);
  assert.deepEqual(back.targets, []);
});

test('a password in a store URL is masked, and an unparsable URL is not echoed', () => {
  assert.equal(maskUrl('postgres://gameday:s3cret@db.example:5432/gameday'), 'postgres://gameday:***@db.example:5432/gameday');
  assert.equal(maskUrl('postgres://postgres@127.0.0.1:55432/gameday'), 'postgres://postgres@127.0.0.1:55432/gameday');
  assert.equal(maskUrl('postgres://u:s3cret@[nope'), '<an unparsable URL>');
});

test('the database of a store URL is its path, and can be swapped for another', () => {
  assert.equal(databaseOf('postgres://u@h:1/gameday_x'), 'gameday_x');
  assert.equal(databaseOf('postgres://u@h:1'), 'postgres');
  assert.equal(withDatabase('postgres://u:p@h:1/gameday?sslmode=disable', 'postgres'), 'postgres://u:p@h:1/postgres?sslmode=disable');
});

test('a refused connection is an unreachable store, and its error names the URL with the password masked', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  const e = storeFailure('postgres://u:s3cret@127.0.0.1:1/gameday', 'write 3 samples of w', refused);
  assert.ok(e instanceof ResultsStoreUnreachable);
  assert.equal(e.message, 'the results store at postgres://u:***@127.0.0.1:1/gameday is unreachable (write 3 samples of w): connect ECONNREFUSED 127.0.0.1:1');
  assert.ok(isUnreachable(new Error('timeout exceeded when trying to connect')));
  assert.ok(isUnreachable({ code: '57P01', message: 'terminating connection due to administrator command' }));
  assert.ok(!isUnreachable({ code: '23505', message: 'duplicate key value violates unique constraint' }));
});

test('the results store defaults to the local stack and must be a PostgreSQL URL', () => {
  assert.equal(loadConfig({}).resultsUrl, DEFAULT_RESULTS_URL);
  assert.equal(DEFAULT_RESULTS_URL, 'postgres://postgres@127.0.0.1:55432/gameday');
  assert.equal(loadConfig({ GAMEDAY_RESULTS_URL: 'postgresql://u:p@db:5432/results' }).resultsUrl, 'postgresql://u:p@db:5432/results');
  assert.throws(
    () => loadConfig({ GAMEDAY_RESULTS_URL: 'mysql://u:p@db/results' }),
    (e: unknown) => e instanceof GamedayError && e.type === 'InvalidConfig' && /GAMEDAY_RESULTS_URL: expected a PostgreSQL URL/.test(e.message) && !e.message.includes('mysql://u:p'),
  );
});
