/**
 * The HTML report of long runs: how long rendering takes and how big the file gets when a probe
 * has hundreds of thousands to millions of samples over 24 h (the charts downsample past 4,000
 * points). In-process, on a journal as the store reads it back; no stack needed.
 */
import { renderHtml } from '../src/report/html';
import { renderMarkdown } from '../src/report/markdown';
import type { Journal, ProbeSample } from '../src/types';
import { journalFixture } from '../test/store-fixtures';
import { below, progress, round, type Targeted } from './lib';

const DAY_MS = 86_400_000;

export interface ReportPoint {
  samples: number;
  htmlMs: number;
  markdownMs: number;
  htmlKiB: Targeted;
  chartPoints: number;
}

function longJournal(samples: number): Journal {
  const j = journalFixture('bench-report', 'run-1');
  const t0 = Date.parse(j.startedAt);
  const observations: ProbeSample[] = Array.from({ length: samples }, (_, i) => ({
    check: 'publishes fail fast',
    stage: 'observe',
    at: new Date(t0 + Math.floor((i * DAY_MS) / samples)).toISOString(),
    measurement: { latencyMs: 3 + (i % 97) },
    error: '',
    expectations: [{ field: 'latencyMs', expected: 'at most 2500', observed: String(3 + (i % 97)), ok: true }],
    ok: true,
  }));
  return { ...j, observations, finishedAt: new Date(t0 + DAY_MS).toISOString() };
}

/** Renders the HTML and Markdown reports of a 24 h run with each number of samples. */
export async function reportRendering(counts: number[]): Promise<{ points: ReportPoint[] }> {
  const points: ReportPoint[] = [];
  for (const samples of counts) {
    const j = longJournal(samples);
    let t = performance.now();
    const html = renderHtml(j);
    const htmlMs = Math.round(performance.now() - t);
    t = performance.now();
    renderMarkdown(j);
    const markdownMs = Math.round(performance.now() - t);
    const data = /<script type="application\/json" id="timeline-data">([^<]*)<\/script>/.exec(html)?.[1] ?? '{"charts":[]}';
    const chartPoints = Math.max(0, ...(JSON.parse(data) as { charts: { x: number[] }[] }).charts.map((c) => c.x.length));
    const point = { samples, htmlMs, markdownMs, htmlKiB: below(round(html.length / 1024), 1024, 'KiB'), chartPoints };
    progress(`report: ${samples} samples: HTML ${htmlMs} ms, ${point.htmlKiB.value} KiB, ${chartPoints} points a chart at most; Markdown ${markdownMs} ms`);
    points.push(point);
    await new Promise((r) => setImmediate(r));
  }
  return { points };
}
