import type { Config } from '../config';
import type { History, HistoryQuery } from '../history';

/** What `gameday history` reads and prints; loaded only by that command. */

/** Reads the history from the configured results store, and closes it. */
export async function historyFromStore(config: Config, q: HistoryQuery): Promise<History> {
  const [{ openResultsStore }, { readHistory }] = await Promise.all([import('../store/postgres'), import('../history')]);
  const store = openResultsStore(config.resultsUrl);
  try {
    return await readHistory(store, config, q);
  } catch (e) {
    // Undefined column or table: a store no worker of this version has migrated yet.
    const code = (e as { cause?: { code?: string } }).cause?.code;
    if (code === '42703' || code === '42P01') throw new Error(`${(e as Error).message}: the store's schema is older than this gameday; a worker of this version migrates it at start (or run scripts/provision.sh)`);
    throw e;
  } finally {
    await store.close();
  }
}

function seconds(msOrNull: number | null): string {
  return msOrNull === null ? 'running?' : `${(msOrNull / 1000).toFixed(1)} s`;
}

function trend(t: number | undefined): string {
  if (t === undefined) return 'no earlier window';
  return t > 0 ? `up ${t}` : t < 0 ? `down ${-t}` : 'steady';
}

/** Rows as columns padded to their widest cell (the last cell is not padded). */
export function columns(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  '));
}

/** The history as lines: a table of runs, then the scores with their trends. */
export function formatHistory(h: History, scoreRuns: number): string[] {
  const lines: string[] = [];
  if (h.runs.length === 0) lines.push('no runs in the results store for this query');
  else
    lines.push(
      ...columns([
        ['STARTED (UTC)', 'EXPERIMENT', 'VERDICT', 'ROLLBACK', 'DURATION', 'TRIGGER', 'SCORE', 'WORKFLOW', 'TEMPORAL WEB UI'],
        ...h.runs.map((r) => [
          r.startedAt.replace('T', ' ').slice(0, 19),
          r.experimentId,
          r.verdict ?? 'no outcome',
          r.rollback ?? '?',
          seconds(r.durationMs),
          r.trigger ?? '?',
          r.score === null ? '-' : String(Math.round(r.score)),
          r.workflowId,
          r.url,
        ]),
      ]),
    );
  lines.push('', `Resilience score (mean of the last ${scoreRuns} scored runs, 0-100; trend: against the ${scoreRuns} before them):`);
  if (h.experiments.length === 0) lines.push('  no scored run');
  for (const e of h.experiments) lines.push(`  experiment ${e.experimentId}${e.system ? ` (${e.system})` : ''}: ${e.score ?? '-'} over ${e.runs} run${e.runs === 1 ? '' : 's'}, ${trend(e.trend)}`);
  for (const s of h.systems) lines.push(`  system ${s.system}: ${s.score ?? '-'} over ${s.experiments.length} experiment${s.experiments.length === 1 ? '' : 's'}, ${trend(s.trend)}`);
  return lines;
}
