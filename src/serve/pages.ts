/**
 * The dashboard's pages (`gameday serve`), rendered on the server as plain HTML: no script, no
 * request to anywhere else; every value from the store or Temporal goes through escapeHtml.
 */
import type { ScheduleRow } from '../cli/schedule-list';
import type { ExperimentScore, HistoryRun, SystemScore } from '../history';
import { escapeHtml as e } from '../report/html-text';
import type { RunsFilter } from './query';

/** Links every page carries: the dashboard's own and the Temporal Web UI. */
export interface PageLinks {
  /** The Temporal Web UI's workflows page of the namespace. */
  temporalUi: string;
}

const VERDICTS = ['passed', 'failed', 'aborted', 'not-run', 'error', 'skipped'];
const TRIGGERS = ['cli', 'schedule', 'web-ui', 'manual'];

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1f2937;background:#f9fafb}
header{background:#111827;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.2rem;align-items:baseline}
header a{color:#e5e7eb;text-decoration:none}header a.here{color:#fff;font-weight:600;text-decoration:underline}
header .brand{font-weight:700;color:#fff;margin-right:1rem}
main{padding:1rem 1.2rem}h1{font-size:1.3rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin-top:1.6rem}
table{border-collapse:collapse;background:#fff;width:100%}th,td{border:1px solid #e5e7eb;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f4f6;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.verdict-passed{color:#15803d;font-weight:600}.verdict-failed,.verdict-error,.verdict-aborted{color:#b91c1c;font-weight:600}
.rollback-incomplete{color:#b91c1c;font-weight:700}.muted{color:#6b7280}
form.filters{display:flex;gap:.8rem;flex-wrap:wrap;align-items:end;margin-bottom:1rem}form.filters label{display:flex;flex-direction:column;font-size:.85rem}
.error{background:#fef2f2;border:1px solid #fecaca;padding:1rem;border-radius:4px}code{background:#f3f4f6;padding:0 .2rem}
svg.trend polyline{fill:none;stroke:#2563eb;stroke-width:1.5}`;

/** The page around a body: the navigation, the style sheet, nothing else. */
export function layout(title: string, here: 'runs' | 'experiments' | 'schedules' | 'error', body: string, links: PageLinks): string {
  const nav = (href: string, name: typeof here, label: string) => `<a href="${href}"${name === here ? ' class="here"' : ''}>${label}</a>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${e(title)} · Gameday</title><style>${STYLE}</style></head>
<body><header><span class="brand">Gameday</span>${nav('/', 'runs', 'Runs')}${nav('/experiments', 'experiments', 'Experiments')}${nav('/schedules', 'schedules', 'Schedules')}<a href="${e(links.temporalUi)}">Temporal Web UI</a></header>
<main><h1>${e(title)}</h1>
${body}
</main></body></html>
`;
}

const when = (iso: string | null | undefined): string => (iso ? e(iso.replace('T', ' ').slice(0, 19)) : '<span class="muted">-</span>');
const verdictCell = (v: string | null | undefined): string => (v ? `<span class="verdict-${e(v)}">${e(v)}</span>` : '<span class="muted">no outcome</span>');

/** The href of a run's report page. */
export function runHref(run: { workflowId: string; runId?: string }): string {
  return `/runs/${encodeURIComponent(run.workflowId)}${run.runId ? `?runId=${encodeURIComponent(run.runId)}` : ''}`;
}

function options(values: string[], chosen: string | undefined, any: string): string {
  return [`<option value="">${any}</option>`, ...values.map((v) => `<option value="${e(v)}"${v === chosen ? ' selected' : ''}>${e(v)}</option>`)].join('');
}

/** `/`: the filter form and the runs, newest first. */
export function runsPage(runs: HistoryRun[], filter: RunsFilter, links: PageLinks): string {
  const form = `<form class="filters" method="get" action="/">
<label>Experiment id<input name="experiment" value="${e(filter.experimentId ?? '')}" placeholder="any"></label>
<label>Verdict<select name="verdict">${options(VERDICTS, filter.verdict, 'any')}</select></label>
<label>Trigger<select name="trigger">${options(TRIGGERS, filter.trigger, 'any')}</select></label>
<label>Since<input name="since" value="${e(filter.since ?? '')}" placeholder="e.g. 24h, 7d" size="8"></label>
<button type="submit">Filter</button> <a href="/">clear</a></form>`;
  if (runs.length === 0) return layout('Runs', 'runs', `${form}<p id="no-runs">No runs in the results store for these filters.</p>`, links);
  const rows = runs.map(
    (r) => `<tr class="run" data-workflow-id="${e(r.workflowId)}" data-verdict="${e(r.verdict ?? '')}">
<td>${when(r.startedAt)}</td><td><a href="/?experiment=${encodeURIComponent(r.experimentId)}">${e(r.experimentId)}</a></td><td>${e(r.title)}</td>
<td class="verdict">${verdictCell(r.verdict)}</td><td class="rollback-${e(r.rollback ?? 'unknown')}">${e(r.rollback ?? '?')}</td>
<td class="num">${r.durationMs === null ? '<span class="muted">running?</span>' : `${(r.durationMs / 1000).toFixed(1)} s`}</td><td>${e(r.trigger ?? '?')}</td>
<td class="num score">${r.score === null ? '<span class="muted">-</span>' : Math.round(r.score)}</td>
<td><a class="report" href="${e(runHref(r))}">report</a></td><td><a class="temporal" href="${e(r.url)}">${e(r.workflowId)}</a></td></tr>`,
  );
  const table = `<table id="runs"><thead><tr><th>Started (UTC)</th><th>Experiment</th><th>Title</th><th>Verdict</th><th>Rollback</th><th>Duration</th><th>Trigger</th><th>Score</th><th>Report</th><th>Temporal Web UI</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table><p class="muted">${runs.length} run${runs.length === 1 ? '' : 's'}, newest first.</p>`;
  return layout('Runs', 'runs', form + table, links);
}

function trend(t: number | undefined): string {
  if (t === undefined) return '<span class="muted">no earlier window</span>';
  return t > 0 ? `up ${t}` : t < 0 ? `down ${-t}` : 'steady';
}

/** The scores of a window as a small line, 0 at the bottom and 100 at the top; empty for fewer than two. */
export function sparkline(series: { score: number }[]): string {
  if (series.length < 2) return '';
  const w = 120;
  const h = 24;
  const points = series.map((s, i) => `${((i / (series.length - 1)) * w).toFixed(1)},${(h - (s.score / 100) * h).toFixed(1)}`).join(' ');
  return `<svg class="trend" width="${w}" height="${h}" viewBox="-1 -1 ${w + 2} ${h + 2}" role="img" aria-label="scores ${series.map((s) => s.score).join(', ')}"><polyline points="${points}"/></svg>`;
}

/** `/experiments`: the resilience score and trend of each experiment and each target system. */
export function experimentsPage(experiments: ExperimentScore[], systems: SystemScore[], scoreRuns: number, links: PageLinks): string {
  const score = (s: number | undefined) => (s === undefined ? '<span class="muted">-</span>' : String(s));
  const intro = `<p>A run scores the share of its expectations (during the fault and after recovery) that were met, 0–100; an aborted run or an incomplete rollback scores 0. An experiment's score is the mean of its last ${scoreRuns} scored runs; its trend compares it with the ${scoreRuns} before them. A target system's score is the mean of its experiments'.</p>`;
  const exp = experiments.length
    ? `<table id="experiments"><thead><tr><th>Experiment</th><th>Target system</th><th>Score</th><th>Trend</th><th>Scored runs</th><th>Scores, oldest first</th></tr></thead><tbody>
${experiments
  .map(
    (x) => `<tr class="experiment" data-experiment-id="${e(x.experimentId)}"><td><a href="/?experiment=${encodeURIComponent(x.experimentId)}">${e(x.experimentId)}</a></td><td>${e(x.system ?? '-')}</td>
<td class="num score">${score(x.score)}</td><td class="trend">${trend(x.trend)}</td><td class="num">${x.runs}</td><td>${sparkline(x.series)}</td></tr>`,
  )
  .join('\n')}</tbody></table>`
    : '<p>No scored run in the results store.</p>';
  const sys = systems.length
    ? `<table id="systems"><thead><tr><th>Target system</th><th>Score</th><th>Trend</th><th>Experiments</th><th>Scored runs</th></tr></thead><tbody>
${systems.map((s) => `<tr class="system" data-system="${e(s.system)}"><td>${e(s.system)}</td><td class="num score">${score(s.score)}</td><td class="trend">${trend(s.trend)}</td><td>${s.experiments.map(e).join(', ')}</td><td class="num">${s.runs}</td></tr>`).join('\n')}</tbody></table>`
    : '<p>No experiment names its target system.</p>';
  return layout('Experiments', 'experiments', `${intro}${exp}<h2>Target systems</h2>${sys}`, links);
}

/** `/schedules`: Gameday's schedules, their next runs and how the last run ended. */
export function schedulesPage(rows: ScheduleRow[], scheduleUrl: (scheduleId: string) => string, links: PageLinks): string {
  if (rows.length === 0) return layout('Schedules', 'schedules', '<p id="no-schedules">No schedule: add a <code>schedule</code> block to an experiment and run <code>gameday schedule sync</code>.</p>', links);
  const last = (r: ScheduleRow) =>
    r.lastRun ? `<a href="${e(runHref(r.lastRun))}">${e(r.lastRun.workflowId)}</a> ${e(r.lastRun.state)}, ${verdictCell(r.lastRun.verdict)}` : '<span class="muted">no run yet</span>';
  const body = `<table id="schedules"><thead><tr><th>Schedule</th><th>When</th><th>Next run (UTC)</th><th>Last run and verdict</th><th>File</th><th>Temporal Web UI</th></tr></thead><tbody>
${rows
  .map(
    (r) => `<tr class="schedule" data-schedule-id="${e(r.scheduleId)}"><td>${e(r.scheduleId)}${r.paused ? ` <strong>PAUSED</strong>${r.note ? ` <span class="muted">${e(r.note)}</span>` : ''}` : ''}</td>
<td>${e(r.when)}</td><td class="next-run">${r.paused ? '<span class="muted">(paused)</span>' : r.nextRuns.length ? r.nextRuns.map(when).join('<br>') : '<span class="muted">none</span>'}</td>
<td class="last-run">${last(r)}${r.skippedOverlaps ? ` <span class="muted">(${r.skippedOverlaps} skipped: the previous run was still going)</span>` : ''}</td><td>${e(r.file)}</td><td><a href="${e(scheduleUrl(r.scheduleId))}">open</a></td></tr>`,
  )
  .join('\n')}</tbody></table>`;
  return layout('Schedules', 'schedules', body, links);
}

/** A page saying what went wrong, in words a person can act on. */
export function errorPage(title: string, message: string, links: PageLinks): string {
  return layout(title, 'error', `<div class="error"><p id="error-message">${e(message)}</p><p><a href="/">Back to the runs</a></p></div>`, links);
}
