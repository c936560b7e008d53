import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config';
import { experimentScore, experimentScores, parseSince, runScore, runUrl, systemScores } from '../../src/history';
import { compareExpectations, revalidationMarkdown } from '../../src/report/revalidation';
import { parseExperiment } from '../../src/spec/loader';
import { targetSystemOf } from '../../src/spec/system';
import type { RunSummary } from '../../src/store/types';
import type { HypothesisRow } from '../../src/types';

function run(experimentId: string, minute: number, verdict: RunSummary['verdict'], met: number, total: number, extra: Partial<RunSummary> = {}): RunSummary {
  const startedAt = new Date(Date.UTC(2026, 11, 1, 0, minute)).toISOString();
  return { workflowId: `${experimentId}-${minute}`, runId: `r${minute}`, experimentId, title: '', system: 'shop', trigger: 'cli', startedAt, finishedAt: startedAt, verdict, rollback: 'complete', expectations: { met, total }, ...extra };
}

test("a run's score is the share of its expectations met after baseline; aborted or rolled back incompletely scores 0; not-run, error and skipped are not scored", () => {
  assert.equal(runScore(run('a', 0, 'passed', 4, 4)), 100);
  assert.equal(runScore(run('a', 0, 'failed', 1, 4)), 25);
  assert.equal(runScore(run('a', 0, 'aborted', 3, 4)), 0);
  assert.equal(runScore(run('a', 0, 'passed', 4, 4, { rollback: 'incomplete' })), 0);
  assert.equal(runScore(run('a', 0, 'error', 0, 0, { rollback: 'incomplete' })), 0, 'a rollback left incomplete scores whatever the verdict');
  for (const verdict of ['not-run', 'error', 'skipped', null] as const) assert.equal(runScore(run('a', 0, verdict, 0, 0)), undefined, String(verdict));
});

test("an experiment's score is the mean over its last N scored runs, its trend the difference with the N before", () => {
  // Oldest first: 0, 50 (the previous window, mean 25), then 50, 100, 100 (this window, mean 83.3).
  const runs = [run('a', 1, 'failed', 0, 2), run('a', 2, 'failed', 1, 2), run('a', 3, 'not-run', 0, 0), run('a', 4, 'failed', 1, 2), run('a', 5, 'passed', 2, 2), run('a', 6, 'passed', 2, 2)];
  const s = experimentScore(runs, 3);
  assert.equal(s.score, 83.3);
  assert.equal(s.trend, 58.3);
  assert.equal(s.runs, 3);
  assert.deepEqual(s.series.map((x) => [x.workflowId, x.score]), [['a-4', 50], ['a-5', 100], ['a-6', 100]], 'oldest first, the not-run left out');
  assert.equal(experimentScore(runs.slice(3), 3).trend, undefined, 'no previous window, no trend');
  assert.deepEqual(experimentScore([run('a', 1, 'not-run', 0, 0)], 3), { runs: 0, series: [] });
});

test("a target system's score weighs each of its experiments the same", () => {
  // Experiment a: ten runs at 100; b: one at 0. By runs that would be 90.9; by experiments, 50.
  const runs = [...Array.from({ length: 10 }, (_, i) => run('a', i, 'passed', 1, 1)), run('b', 30, 'failed', 0, 1), run('c', 31, 'passed', 1, 1, { system: 'other' })];
  const experiments = experimentScores(runs, 10);
  assert.deepEqual(experiments.map((e) => [e.experimentId, e.system, e.score]), [['a', 'shop', 100], ['b', 'shop', 0], ['c', 'other', 100]]);
  assert.deepEqual(systemScores(experiments), [
    { system: 'other', experiments: ['c'], score: 100, runs: 1 },
    { system: 'shop', experiments: ['a', 'b'], score: 50, runs: 11 },
  ]);
});

const row = (expectation: string, ok: boolean, observed: string, when: HypothesisRow['when'] = 'after recovery'): HypothesisRow => ({ expectation, when, expected: 'status = 200', observed, ok });

test('re-validation matches expectations by name and phase: fixed, regressed, unchanged, new and removed, with both observed values', () => {
  const previous = [row('api answers', false, 'status 500'), row('queue drained', true, 'pending 0'), row('p99', true, '120 ms', 'during the fault'), row('gone', true, 'x')];
  const current = [row('api answers', true, 'status 200'), row('queue drained', false, 'pending 40'), row('p99', true, '110 ms', 'during the fault'), row('added', true, 'y')];
  assert.deepEqual(
    compareExpectations(previous, current).map((r) => [r.expectation, r.status, r.previous?.observed, r.current?.observed]),
    [
      ['api answers', 'fixed', 'status 500', 'status 200'],
      ['queue drained', 'regressed', 'pending 0', 'pending 40'],
      ['p99', 'unchanged', '120 ms', '110 ms'],
      ['added', 'new', undefined, 'y'],
      ['gone', 'removed', 'x', undefined],
    ],
  );
  assert.equal(compareExpectations([row('a', true, '1', 'baseline')], [row('a', true, '1')])[0].status, 'new', 'the same name in another phase is another expectation');
});

test('the Re-validation section names the previous run, counts the changes, and says so when there is no previous run', () => {
  const rows = compareExpectations([row('api answers', false, 'status 500')], [row('api answers', true, 'status 200')]);
  const md = revalidationMarkdown({ experimentId: 'x', revalidation: { previous: { workflowId: 'x-1', runId: 'r1', startedAt: '2026-12-01T00:00:00.000Z', verdict: 'failed' }, rows } });
  assert.match(md, /^## Re-validation\n/);
  assert.match(md, /Compared with the previous run of `x`: workflow `x-1` \(run `r1`\), started 2026-12-01T00:00:00.000Z, verdict failed\./);
  assert.match(md, /1 fixed, 0 regressed, 0 unchanged, 0 new, 0 removed\./);
  assert.match(md, /\| api answers \| after recovery \| status = 200 \| fixed \| not met: status 500 \| met: status 200 \|/);
  assert.match(revalidationMarkdown({ experimentId: 'x', revalidation: { rows: [] } }), /No earlier closed run of `x` in the results store/);
});

test("the target system is the file's system, else the prefix its containers share, else the experiment's id", () => {
  const spec = (targets: Record<string, unknown>, system?: string) => parseExperiment({ id: 'e1', title: 't', hypothesis: 'h', ...(system ? { system } : {}), targets, steadyState: [{ name: 's', probe: { kind: 'http', url: 'http://127.0.0.1:1/' }, expect: { status: { equals: 200 } } }], method: [{ fault: { kind: 'docker-pause', target: Object.keys(targets)[0] }, duration: '1s' }] }, 'e1.yaml');
  assert.equal(targetSystemOf(spec({ a: { kind: 'docker', container: 'demo-target-nats' } })), 'demo-target');
  assert.equal(targetSystemOf(spec({ a: { kind: 'docker', container: 'demo-target-nats' }, b: { kind: 'docker', container: 'demo-target-api' } })), 'demo-target');
  assert.equal(targetSystemOf(spec({ a: { kind: 'docker', container: 'shop-db' }, b: { kind: 'docker', container: 'blog-db' } })), 'e1');
  assert.equal(targetSystemOf(spec({ a: { kind: 'docker', labels: { app: 'x' } } })), 'e1');
  assert.equal(targetSystemOf(spec({ a: { kind: 'docker', container: 'demo-target-nats' } }, 'payments')), 'payments');
});

test('a system name that is not a plain name is refused, naming the field', () => {
  assert.throws(
    () => parseExperiment({ id: 'e1', title: 't', hypothesis: 'h', system: 'my system', targets: { a: { kind: 'docker', container: 'x' } }, steadyState: [{ name: 's', probe: { kind: 'http', url: 'http://127.0.0.1:1/' }, expect: { status: { equals: 200 } } }], method: [{ fault: { kind: 'docker-pause', target: 'a' }, duration: '1s' }] }, 'e1.yaml'),
    { message: "e1.yaml: system: expected a name of letters, digits, dots, dashes and underscores, e.g. demo-target" },
  );
});

test('--since takes durations such as 90m, 24h and 7d, and names itself when refusing one', () => {
  assert.equal(parseSince('90m'), 90 * 60_000);
  assert.equal(parseSince('7d'), 7 * 24 * 3_600_000);
  assert.throws(() => parseSince('yesterday'), /--since: expected a duration such as 90m, 24h or 7d, not 'yesterday'/);
  assert.throws(() => parseSince('0s'), /--since/);
});

test("a run's link goes to its page in the Temporal Web UI, whose base GAMEDAY_TEMPORAL_UI_URL moves", () => {
  const key = { workflowId: 'chaos-001-20261201T000000Z-ab12', runId: '01a2' };
  assert.equal(runUrl(loadConfig({}), key), 'http://127.0.0.1:8233/namespaces/default/workflows/chaos-001-20261201T000000Z-ab12/01a2');
  assert.equal(runUrl(loadConfig({ GAMEDAY_TEMPORAL_UI_URL: 'https://temporal.example.com/', TEMPORAL_NAMESPACE: 'chaos' }), key), 'https://temporal.example.com/namespaces/chaos/workflows/chaos-001-20261201T000000Z-ab12/01a2');
  assert.throws(() => loadConfig({ GAMEDAY_TEMPORAL_UI_URL: 'temporal:8233' }), /GAMEDAY_TEMPORAL_UI_URL: expected the Temporal Web UI's base URL/);
});
