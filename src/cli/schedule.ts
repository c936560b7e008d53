import type { Client, ScheduleDescription } from '@temporalio/client';
import type { Command } from 'commander';
import { loadConfig } from '../config';
import { CATALOG_MEMO, describeSchedule, FILE_MEMO } from '../schedules/options';
import type { ScheduleBlock } from '../spec/schedule';
import { isOwned, ownedSchedule, syncSchedules } from '../schedules/sync';
import { loadFreezeWindows } from '../spec/freeze-windows';
import { searchAttributes } from '../search-attributes';
import { connectClient, ensureSearchAttributes } from '../temporal';

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

function printRow(r: ScheduleRow, out: Print): void {
  out(`${r.scheduleId}${r.paused ? '  PAUSED' : ''}`);
  out(`  file: ${r.file}`);
  out(`  when: ${r.when}`);
  if (r.paused && r.note) out(`  note: ${r.note}`);
  out(`  next: ${r.paused ? '(paused)' : r.nextRuns.join(', ') || 'none'}`);
  out(`  last: ${r.lastRun ? `${r.lastRun.workflowId} ${r.lastRun.state}${r.lastRun.verdict ? `, verdict ${r.lastRun.verdict}` : ''}` : 'no run yet'}`);
  if (r.skippedOverlaps > 0) out(`  skipped (previous run still going): ${r.skippedOverlaps}`);
}

/** `gameday schedule sync|list|trigger|pause|unpause|delete`. */
export function addScheduleCommands(program: Command, cleanup: (() => Promise<unknown>)[], out: Print): void {
  const connect = async (): Promise<Client> => {
    const client = await connectClient(loadConfig());
    cleanup.push(() => client.connection.close());
    return client;
  };
  const schedule = program.command('schedule').description("Temporal Schedules for the experiment and scenario files' schedule blocks");

  schedule
    .command('sync')
    .description('make the Temporal Schedules match the files: create, update, delete (only those gameday made from this folder)')
    .option('--dir <folder>', 'the folder of experiment and scenario files (default: GAMEDAY_EXPERIMENTS_DIR, experiments/)')
    .option('--dry-run', 'print what would change; change nothing')
    .option('--json', 'print JSON')
    .action(async (opts: { dir?: string; dryRun?: boolean; json?: boolean }) => {
      const config = loadConfig();
      // A freeze file that does not validate would make every scheduled run end in error: refuse now.
      const freeze = await loadFreezeWindows(config.freezeFile, config.freezeFileRequired);
      const client = await connect();
      // The runs carry GamedayExperimentId: on a server no worker has seen yet, register it first.
      if (!opts.dryRun) await ensureSearchAttributes(client, config.namespace);
      const actions = await syncSchedules(client, config, opts.dir ?? config.experimentsDir, { dryRun: opts.dryRun });
      if (opts.json) return out(JSON.stringify(actions));
      const prefix = opts.dryRun ? 'would be ' : '';
      for (const a of actions) out(`${a.outcome === 'conflict' || a.outcome === 'unchanged' ? a.outcome : prefix + a.outcome}: ${a.scheduleId} (${a.detail})`);
      if (actions.length === 0) out('no file has a schedule block, and gameday has no schedule from this folder');
      out(`freeze windows: ${freeze.windows.length} in ${config.freezeFile}${freeze.windows.length === 0 ? ' (none, or no such file)' : ''}`);
      if (actions.some((a) => a.outcome === 'conflict')) process.exitCode = 1;
    });

  schedule
    .command('list')
    .description("gameday's schedules: when they run, the next runs, paused or not, and the last run's verdict")
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const rows = await listSchedules(await connect());
      if (opts.json) return out(JSON.stringify(rows));
      if (rows.length === 0) out('no schedules: add a schedule block to a file and run gameday schedule sync');
      rows.forEach((r) => printRow(r, out));
    });

  schedule
    .command('trigger <id>')
    .description('start a run of the schedule now (skipped, under the default overlap policy, while a run is going)')
    .action(async (id: string) => {
      const client = await connect();
      const { scheduleId, description } = await ownedSchedule(client, id);
      // The SDK's trigger defaults to allow-all; a run by trigger obeys the schedule's own policy.
      await client.schedule.getHandle(scheduleId).trigger(description.policies.overlap);
      out(`triggered ${scheduleId}`);
    });

  for (const verb of ['pause', 'unpause'] as const) {
    schedule
      .command(`${verb} <id>`)
      .description(verb === 'pause' ? 'stop the schedule from starting runs until unpaused' : 'let the schedule start runs again')
      .option('--note <text>', 'why, shown by schedule list and in the Web UI', `${verb}d with gameday schedule ${verb}`)
      .action(async (id: string, opts: { note: string }) => {
        const client = await connect();
        const { scheduleId } = await ownedSchedule(client, id);
        await client.schedule.getHandle(scheduleId)[verb](opts.note);
        out(`${verb}d ${scheduleId}`);
      });
  }

  schedule
    .command('delete <id>')
    .description('delete the schedule (runs already started go on; the next sync re-creates it while its file has a schedule block)')
    .action(async (id: string) => {
      const client = await connect();
      const { scheduleId } = await ownedSchedule(client, id);
      await client.schedule.getHandle(scheduleId).delete();
      out(`deleted ${scheduleId}`);
    });
}
