/**
 * The HTML report: one self-contained file (uPlot, its CSS and the data inlined; nothing fetched),
 * with a timeline per probe, the hypothesis-vs-reality table, the rollback record and procedure,
 * and the method's closing sections. Every user string is escaped (html-text.ts).
 */
import type { Journal } from '../types';
import { escapeHtml as e, inlineCode, scriptJson } from './html-text';
import { outcome } from './markdown';
import { maskPasswords } from '../mask';
import { rollbackProcedure } from './procedure';
import { lessonsOf, nextExperimentsOf, type ReportOptions, type ReportSection } from './sections';
import { buildTimeline, type ChartData, MAX_POINTS } from './timeline';
import { TIMELINE_SCRIPT } from './timeline-script';
import { uplotAssets } from './uplot-assets';
import { STYLE } from './html-style';

/** How an HTML report is rendered: the shared options, and the bound on each chart's points. */
export interface HtmlReportOptions extends ReportOptions {
  /** Points a chart holds at most; longer series are downsampled. @default 4000 */
  maxPoints?: number;
  /** Each probe's true sample count when the journal holds only thinned samples (thin.ts). */
  counts?: Map<string, number>;
}

/** The run's report as one HTML document that works offline. */
export function renderHtml(j: Journal, opts: HtmlReportOptions = {}): string {
  const timeline = buildTimeline(j, opts.maxPoints ?? MAX_POINTS, opts.counts);
  const uplot = uplotAssets();
  const title = `${j.experimentId}${j.title ? ` — ${j.title}` : ''}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${e(title)}</title>
<style>${inlineCode(uplot.style, 'style')}</style>
<style>${STYLE}</style>
</head>
<body>
<main>
${header(j, title)}
${section('hypothesis', 'Hypothesis', `<p>${e(j.hypothesis || 'none: the experiment did not load')}</p>`)}
${section('timeline', 'Timeline', timelineBody(timeline.charts, timeline.faults.length > 0))}
${section('hypothesis-vs-reality', 'Hypothesis vs reality', table(['Expectation', 'When', 'Expected', 'Observed', 'Verdict'], j.hypothesisVsReality.map((r) => [r.expectation, r.when, r.expected, r.observed, { text: r.ok ? 'PASS' : 'FAIL', cls: r.ok ? 'pass' : 'fail' }])))}
${section('remediation', 'Remediation', remediation(j))}
${section('re-validation', 'Re-validation', revalidation(j))}
${(opts.sections ?? []).map(extraSection).join('\n')}
${section('rollback-record', 'Rollback record', rollbackTable(j))}
${section('rollback-procedure', 'Rollback procedure', procedure(j))}
${section('summary', 'Summary', summary(j))}
${section('lessons-learned', 'Lessons learned', list(lessonsOf(j).map(e), 'None recorded: add <code>lessonsLearned</code> to the experiment file.'))}
${section('next-experiments', 'Next experiments', list(nextExperimentsOf(j).map((n) => (n.experiment ? `<b>${e(n.experiment)}</b>: ${e(n.description)}` : e(n.description))), 'None planned: add <code>nextExperiments</code> to the experiment file.'))}
${section('events', 'Events', j.events.length ? `<ol class="events">${j.events.map((ev) => `<li><time>${e(ev.at)}</time> <span class="stage">${e(ev.stage)}</span> ${e(ev.message)}</li>`).join('')}</ol>` : '<p>No events.</p>')}
<footer>Rendered by Gameday from the results store · charts by uPlot ${e(uplot.version)} (MIT), inlined</footer>
</main>
<script type="application/json" id="timeline-data">${scriptJson(timeline)}</script>
<script>${inlineCode(uplot.script, 'script')}</script>
<script>${TIMELINE_SCRIPT}</script>
</body>
</html>
`;
}

type Cell = string | { text: string; cls: string };

/** The run beside the previous closed run of its experiment, as the Markdown report's section says it. */
function revalidation(j: Journal): string {
  const r = j.revalidation;
  if (!r) return "<p class=\"none\">Not compared: this report was rendered without the results store's history.</p>";
  if (!r.previous) return `<p>No earlier closed run of <code>${e(j.experimentId)}</code> in the results store: this is the first, nothing to compare with.</p>`;
  const p = r.previous;
  const seen = (x?: { observed: string; ok: boolean }) => (x ? `${x.ok ? 'met' : 'not met'}: ${x.observed}` : '—');
  const cls = { fixed: 'pass', regressed: 'fail', unchanged: '', new: '', removed: '' };
  return `<p>Compared with the previous run of <code>${e(j.experimentId)}</code>: workflow <code>${e(p.workflowId)}</code> (run <code>${e(p.runId)}</code>), started ${e(p.startedAt)}, verdict ${e(p.verdict ?? 'unknown')}.</p>
${table(['Expectation', 'When', 'Expected', 'Change', 'Previous run', 'This run'], r.rows.map((x) => [x.expectation, x.when, x.expected, { text: x.status, cls: cls[x.status] }, seen(x.previous), seen(x.current)]))}`;
}

function section(id: string, title: string, body: string): string {
  return `<section id="${id}"><h2>${e(title)}</h2>\n${body}\n</section>`;
}

function table(head: string[], rows: Cell[][]): string {
  if (rows.length === 0) return '<p class="none">None.</p>';
  const td = (c: Cell) => (typeof c === 'string' ? `<td>${e(c)}</td>` : `<td class="${c.cls}">${e(c.text)}</td>`);
  return `<table><thead><tr>${head.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map(td).join('')}</tr>`).join('')}</tbody></table>`;
}

/** Items already escaped. */
function list(items: string[], none: string): string {
  return items.length ? `<ul>${items.map((i) => `<li>${i}</li>`).join('')}</ul>` : `<p class="none">${none}</p>`;
}

function header(j: Journal, title: string): string {
  const seconds = Math.round((Date.parse(j.finishedAt) - Date.parse(j.startedAt)) / 100) / 10;
  const reverted = j.rollback.faults.filter((f) => f.status === 'reverted').length;
  return `<header>
<h1>${e(title)}</h1>
<p class="badges"><span class="badge verdict-${e(j.verdict)}">${e(j.verdict.toUpperCase())}</span> <span class="badge rollback-${e(j.rollback.status)}">rollback ${e(j.rollback.status)}</span> ${e(j.rollback.faults.length)} fault(s) attempted, ${e(reverted)} reverted</p>
<p class="reason">${e(j.reason)}</p>
<p class="meta">Workflow <code>${e(j.workflowId)}</code> · run <code>${e(j.runId)}</code> · started ${e(j.startedAt)} · finished ${e(j.finishedAt)} · ${e(seconds)} s · spec ${e(j.source || 'unknown')}</p>
</header>`;
}

function caption(c: ChartData): string {
  const points = c.bucketSeconds
    ? `${c.samples} samples, downsampled to ${c.x.length} points (the lowest and highest of every ${formatSeconds(c.bucketSeconds)})`
    : `${c.samples} sample${c.samples === 1 ? '' : 's'}`;
  const bounds = c.bounds.length ? ` · dashed: ${c.bounds.map((b) => b.label).join(', ')}` : '';
  const misses = c.misses.length ? ` · red ticks: samples that missed` : '';
  return `<b>${e(c.group)} · ${e(c.check)}</b> · ${e(c.field)} · ${e(points)}${e(bounds)}${e(misses)}`;
}

function formatSeconds(s: number): string {
  return s >= 1 ? `${Math.round(s * 10) / 10} s` : `${Math.round(s * 1000)} ms`;
}

function timelineBody(charts: ChartData[], faults: boolean): string {
  if (charts.length === 0) return '<p class="none">No samples were taken.</p>';
  const legend = `<p class="legend">${faults ? '<span class="swatch fault"></span> a fault in place · ' : ''}<span class="swatch inject"></span> inject · <span class="swatch revert"></span> revert · <span class="swatch abort"></span> abort · <span class="swatch breach"></span> guardrail breach · times in UTC</p>`;
  const figures = charts.map((c) => `<figure class="chart" data-chart="${e(c.id)}"><figcaption>${caption(c)}</figcaption><div class="plot" id="chart-${e(c.id)}"></div></figure>`);
  return `${legend}<p id="timeline-error" class="fail"></p>\n${figures.join('\n')}`;
}

function remediation(j: Journal): string {
  const failing = j.hypothesisVsReality.filter((r) => !r.ok && r.when !== 'baseline');
  const notes = j.plan?.spec.remediation ? `<p>${e(j.plan.spec.remediation)}</p>` : '';
  if (j.verdict === 'passed') return `<p>None needed: the hypothesis held.</p>${notes}`;
  if (failing.length === 0) return `<p>${e(`See the reason above: ${j.reason}`)}</p>${notes}`;
  return `${list(failing.map((r) => `<b>${e(r.expectation)}</b> (${e(r.when)}): expected ${e(r.expected)}; observed ${e(r.observed)}.`), '')}${notes}`;
}

function extraSection(s: ReportSection): string {
  const id = s.title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return section(id || 'section', s.title, s.html ?? `<pre class="markdown">${e(s.markdown)}</pre>`);
}

function rollbackTable(j: Journal): string {
  const rows: Cell[][] = j.rollback.faults.map((f) => [
    f.id,
    f.description,
    { text: f.status, cls: f.status === 'reverted' ? 'pass' : 'fail' },
    f.injectedAt ?? (f.error ? `failed: ${f.error}` : 'attempted'),
    f.dueAt ?? '',
    f.revertedAt ? f.revertedAt : { text: 'NOT REVERTED', cls: 'fail' },
    f.revertAttempts ? `${f.revertAttempts} failed round(s); last error: ${f.lastRevertError ?? ''}` : 'first',
  ]);
  return `${table(['Fault', 'What', 'Status', 'Injected', 'Due', 'Reverted', 'Revert attempts'], rows)}
<p>Every fault whose injection was attempted is reverted, newest first, whatever ends the run; reverts are idempotent and retried until they succeed.</p>`;
}

function procedure(j: Journal): string {
  const steps = rollbackProcedure(j.rollback.faults);
  if (steps.length === 0) return '<p>Nothing was injected: nothing to undo.</p>';
  const items = steps.map(
    (s) => `<li><b>${e(s.id)}</b> ${e(s.description)} <span class="meta">(${e(s.state)})</span><br>undo: <code>${e(s.revert)}</code>${s.check ? `<br>check: <code>${e(s.check.command)}</code> ${e(s.check.shows)}` : ''}</li>`,
  );
  return `<p>Should a revert ever fail, undo the faults by hand, newest first:</p><ol class="procedure">${items.join('')}</ol>`;
}

function summary(j: Journal): string {
  const failing = j.hypothesisVsReality.filter((r) => !r.ok).length;
  const items = [
    `Outcome: <b>${e(outcome(j))}</b>`,
    `Expectations: ${e(j.hypothesisVsReality.length - failing)} passed, ${e(failing)} failed`,
    `Rollback: ${e(j.rollback.status)}`,
    ...(j.abort ? [e(`Aborted at ${j.abort.at}: ${j.abort.reason}`)] : []),
    ...(j.breach ? [e(`Stopped by guardrail '${j.breach.guardrail}' at ${j.breach.at}: ${j.breach.observed}`)] : []),
    ...(j.store?.missingSamples ? [e(`${j.store.missingSamples} samples never reached the results store`)] : []),
  ];
  return list(items.map(maskPasswords), '');
}
