/**
 * The HTML and Markdown reports rendered from a journal (no store, no browser): user text escaped,
 * charts bounded however long the run, the rollback procedure derived from the faults' families,
 * and the method's closing sections. The browser draws them in test/integration/html-report.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseExperiment, planExperiment } from '../../src/spec/loader';
import { escapeHtml, scriptJson } from '../../src/report/html-text';
import { renderHtml } from '../../src/report/html';
import { renderMarkdown } from '../../src/report/markdown';
import { maskPasswords } from '../../src/mask';
import { rollbackProcedure } from '../../src/report/procedure';
import { buildTimeline, downsample, type Timeline } from '../../src/report/timeline';
import type { Journal, PlannedFault, ProbeSample } from '../../src/types';
import { at, journalFixture, SPEC } from '../store-fixtures';

const HOSTILE = `</script><script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">`;

/** The JSON the page's charts read, parsed back from the HTML. */
function timelineOf(html: string): Timeline {
  const m = /<script type="application\/json" id="timeline-data">([^<]*)<\/script>/.exec(html);
  assert.ok(m, 'the page carries its timeline data');
  return JSON.parse(m[1]) as Timeline;
}

/** A journal whose experiment and probe names, fault and error messages are all hostile. */
function hostileJournal(): Journal {
  const j = journalFixture('html-hostile', 'run-1');
  const spec = parseExperiment({ ...SPEC, title: HOSTILE, observe: { ...SPEC.observe, probes: SPEC.observe!.probes!.map((p) => ({ ...p, name: HOSTILE })) }, lessonsLearned: [HOSTILE], nextExperiments: [{ description: HOSTILE }] });
  return {
    ...j,
    title: HOSTILE,
    reason: HOSTILE,
    plan: planExperiment(spec, 'inline'),
    observations: j.observations.map((s) => ({ ...s, check: HOSTILE, error: s.error && HOSTILE })),
    hypothesisVsReality: j.hypothesisVsReality.map((r) => ({ ...r, expectation: HOSTILE })),
    rollback: { ...j.rollback, faults: j.rollback.faults.map((f) => ({ ...f, description: HOSTILE })) },
    events: [...j.events, { at: at(2000), stage: 'observe', message: HOSTILE }],
  };
}

/** `count` observe samples of SPEC's observe probe, evenly over `seconds`, one value in 1000 a spike. */
function* longObservation(count: number, seconds: number): Generator<ProbeSample> {
  for (let i = 0; i < count; i++) {
    const latencyMs = i === 123_457 ? 9_999 : i === 654_321 ? 0.5 : 3 + (i % 11);
    yield { check: 'publishes fail fast', stage: 'observe', at: at((i * seconds * 1000) / count), measurement: { latencyMs }, error: '', expectations: [], ok: i % 1000 !== 0 };
  }
}

describe('escaping', () => {
  test('escapeHtml escapes the five characters that matter, and scriptJson cannot close its element', () => {
    assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    const json = scriptJson({ name: HOSTILE, sep: '\u2028' });
    assert.doesNotMatch(json, /[<>]|\u2028/);
    assert.deepEqual(JSON.parse(json), { name: HOSTILE, sep: '\u2028' });
  });

  test('a title, probe name, error, fault and lesson holding <script> appear as text and add no element to the page', () => {
    const html = renderHtml(hostileJournal());
    // The page's own three: the timeline's data, uPlot, the chart script.
    assert.equal(html.match(/<script/gi)?.length, 3);
    assert.doesNotMatch(html, /<img/i);
    assert.doesNotMatch(html, /onerror="/i);
    assert.ok(html.includes(`<h1>store-001-nats-pause — ${escapeHtml(HOSTILE)}</h1>`), 'the title is shown, escaped');
    assert.ok(html.includes(`<li>${escapeHtml(HOSTILE)}</li>`), 'the lesson is shown, escaped');
    assert.ok(timelineOf(html).charts.some((c) => c.check === HOSTILE), "the probe's name reaches the chart as data");
  });
});

describe('charts', () => {
  test('a short run keeps every sample, with the bound of its expectation, each fault window and the marks', () => {
    const j = journalFixture();
    const t = buildTimeline(j);
    const observe = t.charts.find((c) => c.group === 'observe' && c.field === 'latencyMs');
    assert.ok(observe);
    assert.equal(observe.x.length, j.observations.length);
    assert.equal(observe.bucketSeconds, undefined);
    assert.deepEqual(observe.bounds, [{ label: 'latencyMs at most 2500', value: 2500, kind: 'expect' }]);
    assert.equal(observe.misses.length, j.observations.filter((s) => !s.ok).length);
    const guard = t.charts.find((c) => c.group === 'guardrail');
    assert.deepEqual(guard?.bounds, [{ label: 'abort when latencyMs at least 5000', value: 5000, kind: 'abort' }]);
    assert.deepEqual(t.faults, [{ id: 'f1', label: 'f1: pause container store-nats', from: Date.parse(at(1000)) / 1000, to: Date.parse(at(6100)) / 1000, reverted: true }]);
    assert.deepEqual(t.marks.map((m) => m.kind), ['inject', 'breach', 'abort', 'revert']);
  });

  test('downsampling a million samples over 24 h yields at most 2 points per bucket, in time order, keeping the highest and lowest values', () => {
    const count = 1_000_000;
    const buckets = 2000;
    const range: [number, number] = [Date.parse(at(0)) / 1000, Date.parse(at(86_400_000)) / 1000];
    const d = downsample(longObservation(count, 86_400), 'latencyMs', range, buckets);
    assert.ok(d.x.length <= 2 * buckets, `${d.x.length} points`);
    assert.ok(d.x.length > buckets, 'every bucket holds samples, so each gives its lowest and highest');
    assert.equal(d.x.length, d.y.length);
    assert.ok(d.x.every((x, i) => i === 0 || x >= d.x[i - 1]), 'in time order');
    const values = d.y.filter((v): v is number => v !== null);
    assert.equal(Math.max(...values), 9_999, 'the spike survives');
    assert.equal(Math.min(...values), 0.5, 'the dip survives');
    assert.equal(d.misses.length, 1000, 'one miss per bucket it fell in');
    assert.equal(d.bucketSeconds, 86_400 / buckets);
  });

  test('an HTML report of a 24 h run of 200,000 samples stays small and says that its chart is downsampled', () => {
    const j = journalFixture('html-long', 'run-1');
    const observations = [...longObservation(200_000, 86_400)];
    const html = renderHtml({ ...j, observations, finishedAt: at(86_400_000) });
    assert.ok(html.length < 1_000_000, `${html.length} characters`);
    const chart = timelineOf(html).charts.find((c) => c.group === 'observe');
    assert.ok(chart && chart.x.length <= 4000, `${chart?.x.length} points`);
    assert.equal(chart.samples, 200_000);
    assert.match(html, /200000 samples, downsampled to \d+ points \(the lowest and highest of every 43\.2 s\)/);
  });
});

describe('rollback procedure', () => {
  const fault = (f: Partial<PlannedFault>): PlannedFault => ({ ...journalFixture().rollback.faults[0], ...f });

  test('each family says how to undo it by hand and how to check, newest first, passwords masked', () => {
    const steps = rollbackProcedure([
      fault({}),
      fault({
        id: 'f2',
        fault: { kind: 'toxiproxy-latency', target: 'proxy', latency: '2s' },
        target: { name: 'proxy', kind: 'toxiproxy', selector: 'proxy db', refs: [{ id: 'x', name: 'db' }], spec: { kind: 'toxiproxy', api: 'http://127.0.0.1:8474', proxy: 'db' } },
        tag: 'gameday-1-f2',
        revertedAt: undefined,
        status: 'injected',
      }),
      fault({
        id: 'f3',
        fault: { kind: 'postgres-lock-table', target: 'db', table: 'jobs' },
        target: { name: 'db', kind: 'postgres', selector: 'db', refs: [{ id: 'y', name: 'db' }], spec: { kind: 'postgres', connectionString: 'postgres://app:s3cret@127.0.0.1:5432/app' } },
        tag: 'gameday-1-f3',
      }),
    ]);
    assert.deepEqual(steps.map((s) => s.id), ['f3', 'f2', 'f1']);
    assert.equal(steps[2].revert, 'docker unpause store-nats');
    assert.deepEqual(steps[2].check, { command: "docker inspect -f '{{.State.Paused}}' store-nats", shows: 'prints false' });
    assert.equal(steps[1].revert, 'curl -X DELETE http://127.0.0.1:8474/proxies/db/toxics/gameday-1-f2');
    assert.equal(steps[1].state, 'NOT REVERTED');
    assert.match(steps[0].revert, /^psql 'postgres:\/\/app:\*\*\*@127\.0\.0\.1:5432\/app'/);
    assert.doesNotMatch(JSON.stringify(steps), /s3cret/);
    assert.equal(maskPasswords('nats://u:p@h:4222 and http://h/x'), 'nats://u:***@h:4222 and http://h/x');
  });
});

describe('the method sections', () => {
  test('lessons, next experiments, the procedure and a section passed in appear in Markdown and HTML, in the method order', () => {
    const j = journalFixture();
    const spec = parseExperiment({ ...SPEC, lessonsLearned: ['Publishes need an outbox.'], nextExperiments: ['Pause it for 60 s.', { description: 'Exhaust the pool.', experiment: 'chaos-002-postgres-pool-exhaustion' }] });
    const journal = { ...j, plan: planExperiment(spec, 'inline') };
    const sections = [{ title: 'Re-validation', markdown: 'Compared with run `prev-1`: 1 fixed.', html: '<p class="revalidation">Compared with run <code>prev-1</code>: 1 fixed.</p>' }];
    const md = renderMarkdown(journal, { sections });
    const order = ['## Remediation', '## Re-validation', '## Rollback record', '## Rollback procedure', '## Summary', '## Lessons learned', '## Next experiments'];
    assert.deepEqual(order.map((h) => md.indexOf(h)), order.map((h) => md.indexOf(h)).sort((a, b) => a - b));
    assert.ok(order.every((h) => md.includes(h)));
    assert.match(md, /- Publishes need an outbox\./);
    assert.match(md, /- \*\*chaos-002-postgres-pool-exhaustion\*\*: Exhaust the pool\./);
    assert.match(md, /1\. \*\*f1\*\* pause container store-nats \(reverted at .*\)\n {3}- undo: `docker unpause store-nats`/);

    const html = renderHtml(journal, { sections });
    const ids = ['remediation', 're-validation', 'rollback-record', 'rollback-procedure', 'summary', 'lessons-learned', 'next-experiments'].map((id) => html.indexOf(`<section id="${id}">`));
    assert.ok(ids.every((i) => i > 0), String(ids));
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    assert.ok(html.includes('<p class="revalidation">Compared with run <code>prev-1</code>: 1 fixed.</p>'), 'the html of a section passed in, as given');
    assert.ok(html.includes('<li><b>chaos-002-postgres-pool-exhaustion</b>: Exhaust the pool.</li>'));
  });

  test('a run without lessons or next experiments says how to add them', () => {
    const md = renderMarkdown(journalFixture());
    assert.match(md, /## Lessons learned\n\n_none recorded: add `lessonsLearned` to the experiment file_/);
    assert.match(md, /## Next experiments\n\n_none planned: add `nextExperiments` to the experiment file_/);
  });

  test('a next experiment with a bad id is reported at its path', () => {
    assert.throws(
      () => parseExperiment({ ...SPEC, nextExperiments: [{ description: 'x', experiment: 'Not An Id' }] }, 'exp.yaml'),
      (e: { problems: unknown }) => {
        assert.deepEqual(e.problems, [{ file: 'exp.yaml', path: 'nextExperiments.0.experiment', message: 'expected lower-case letters, digits and dashes, e.g. chaos-001-nats-broker-pause' }]);
        return true;
      },
    );
  });
});
