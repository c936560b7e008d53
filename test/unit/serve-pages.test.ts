import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HistoryRun } from '../../src/history';
import { runHref, runsPage, sparkline } from '../../src/serve/pages';
import { BadQuery, runsFilter, scoresQuery } from '../../src/serve/query';

const links = { temporalUi: 'http://127.0.0.1:8233/namespaces/default/workflows' };

const run: HistoryRun = {
  workflowId: 'nightly-x-2026-12-01T02:00:00Z',
  runId: 'r1',
  experimentId: 'x',
  title: '<script>window.pwned=1</script> & "quotes"',
  system: null,
  trigger: 'schedule',
  startedAt: '2026-12-01T02:00:00.000Z',
  finishedAt: '2026-12-01T02:00:09.500Z',
  verdict: 'failed',
  rollback: 'complete',
  expectations: { met: 1, total: 2 },
  durationMs: 9500,
  url: 'http://127.0.0.1:8233/namespaces/default/workflows/nightly-x/r1',
  score: 50,
};

test('each bad filter is an error naming the parameter, its value and what it takes', () => {
  const cases: [Record<string, string>, string][] = [
    [{ verdict: 'won' }, "verdict: expected one of passed, failed, aborted, not-run, error, skipped, not 'won'"],
    [{ trigger: 'cron' }, "trigger: expected one of cli, schedule, web-ui, manual, not 'cron'"],
    [{ since: 'soon' }, "since: expected a duration such as 90m, 24h or 7d, not 'soon'"],
  ];
  for (const [q, message] of cases) assert.throws(() => runsFilter(q), (e: Error) => e instanceof BadQuery && e.message === message);
  assert.throws(() => scoresQuery({ runs: '0' }), { message: "runs: expected a whole number from 1 to 9999, not '0'" });
  assert.deepEqual(runsFilter({ experiment: ' x ', verdict: 'failed', trigger: '', since: '7d' }), { experimentId: 'x', verdict: 'failed', trigger: undefined, since: '7d' });
});

test('the runs page shows a title holding a script as text, keeps the filter in the form, and links the report with its id encoded', () => {
  const html = runsPage([run], { experimentId: 'x" onfocus="alert(1)', verdict: 'failed' }, links);
  assert.ok(!html.includes('<script'), 'no script element');
  assert.ok(html.includes('&lt;script&gt;window.pwned=1&lt;/script&gt; &amp; &quot;quotes&quot;'));
  assert.ok(html.includes('value="x&quot; onfocus=&quot;alert(1)"'), 'the filter value cannot leave its attribute');
  assert.ok(html.includes('<option value="failed" selected>'));
  assert.equal(runHref(run), '/runs/nightly-x-2026-12-01T02%3A00%3A00Z?runId=r1');
  assert.ok(html.includes(`href="${runHref(run)}"`));
  assert.match(html, /<td class="num">9\.5 s<\/td><td>schedule<\/td>\s*<td class="num score">50<\/td>/);
});

test('the trend line puts 0 at the bottom and 100 at the top, and needs two scores', () => {
  assert.equal(sparkline([{ score: 100 }]), '');
  assert.match(sparkline([{ score: 0 }, { score: 100 }]), /points="0\.0,24\.0 120\.0,0\.0"/);
});
