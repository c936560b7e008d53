import type { Client, ScheduleDescription } from '@temporalio/client';
import { CATALOG_MEMO, describeSchedule, FILE_MEMO } from '../schedules/options';
import { isOwned } from '../schedules/sync';
import type { ScheduleBlock } from '../spec/schedule';
import { searchAttributes } from '../search-attributes';

/** What `gameday schedule list` reads and prints; loaded only by that command. */

type Print = (line: string) => void;

/** One schedule as `gameday schedule list` shows it. */
export interface ScheduleRow {
  scheduleId: string;
  file: string;
  when: string;
  paused: boolean;
  note?: string;
  nextRuns: string[];
  /** The newest run: its workflow id, its state, and its verdict once it has one. */
  lastRun?: { workflowId: string; state: string; verdict?: string };
  skippedOverlaps: number;
}

/** When a schedule runs, in words: from the schedule block of the spec it was synced with. */
function when(d: ScheduleDescription): string {
  const input = d.action.args?.[0] as { spec?: { schedule?: ScheduleBlock } } | undefined;
  return input?.spec?.schedule ? describeSchedule(input.spec.schedule) : '?';
}

async function lastRun(client: Client, d: ScheduleDescription): Promise<ScheduleRow['lastRun']> {
  const last = d.info.recentActions.at(-1);
  if (!last) return undefined;
  const { workflowId, firstExecutionRunId } = last.action.workflow;
  const desc = await client.workflow.getHandle(workflowId, firstExecutionRunId).describe().catch(() => undefined);
  const verdict = desc?.typedSearchAttributes.get(searchAttributes.verdict);
  return { workflowId, state: desc?.status.name.toLowerCase() ?? 'unknown', verdict };
}

/** Gameday's schedules (those sync made), with their next runs and how the last one ended. */
export async function listSchedules(client: Client): Promise<ScheduleRow[]> {
  const rows: ScheduleRow[] = [];
  for await (const s of client.schedule.list()) {
    if (!isOwned(s.memo)) continue;
    const d = await client.schedule.getHandle(s.scheduleId).describe().catch(() => undefined);
    if (!d) continue;
    rows.push({
      scheduleId: s.scheduleId,
      file: String(d.action.memo?.[FILE_MEMO] ?? d.memo?.[CATALOG_MEMO] ?? ''),
      when: when(d),
      paused: d.state.paused,
      note: d.state.note,
      nextRuns: d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
      lastRun: await lastRun(client, d),
      skippedOverlaps: d.info.numActionsSkippedOverlap,
    });
  }
  return rows.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

/** One schedule as a few lines. */
export function printRow(r: ScheduleRow, out: Print): void {
  out(`${r.scheduleId}${r.paused ? '  PAUSED' : ''}`);
  out(`  file: ${r.file}`);
  out(`  when: ${r.when}`);
  if (r.paused && r.note) out(`  note: ${r.note}`);
  out(`  next: ${r.paused ? '(paused)' : r.nextRuns.join(', ') || 'none'}`);
  out(`  last: ${r.lastRun ? `${r.lastRun.workflowId} ${r.lastRun.state}${r.lastRun.verdict ? `, verdict ${r.lastRun.verdict}` : ''}` : 'no run yet'}`);
  if (r.skippedOverlaps > 0) out(`  skipped (previous run still going): ${r.skippedOverlaps}`);
}

