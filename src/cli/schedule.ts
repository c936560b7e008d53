import type { Client } from '@temporalio/client';
import type { Command } from 'commander';

/*
 * The schedule commands load the Temporal client, the sync and the freeze windows when they run,
 * not when the CLI starts (see main.ts).
 */

type Print = (line: string) => void;

/** `gameday schedule sync|list|trigger|pause|unpause|delete`. */
export function addScheduleCommands(program: Command, cleanup: (() => Promise<unknown>)[], out: Print): void {
  const connect = async (): Promise<Client> => {
    const [{ loadConfig }, { connectClient }] = await Promise.all([import('../config'), import('../temporal')]);
    const client = await connectClient(loadConfig());
    cleanup.push(() => client.connection.close());
    return client;
  };
  const owned = async (client: Client, id: string) => (await import('../schedules/sync')).ownedSchedule(client, id);
  const schedule = program.command('schedule').description("Temporal Schedules for the experiment and scenario files' schedule blocks");

  schedule
    .command('sync')
    .description('make the Temporal Schedules match the files: create, update, delete (only those gameday made from this folder)')
    .option('--dir <folder>', 'the folder of experiment and scenario files (default: GAMEDAY_EXPERIMENTS_DIR, experiments/)')
    .option('--dry-run', 'print what would change; change nothing')
    .option('--json', 'print JSON')
    .action(async (opts: { dir?: string; dryRun?: boolean; json?: boolean }) => {
      const [{ loadConfig }, { loadFreezeWindows }, { ensureSearchAttributes }, { syncSchedules }] = await Promise.all([
        import('../config'),
        import('../spec/freeze-windows'),
        import('../temporal'),
        import('../schedules/sync'),
      ]);
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
      const { listSchedules, printRow } = await import('./schedule-list');
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
      const { scheduleId, description } = await owned(client, id);
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
        const { scheduleId } = await owned(client, id);
        await client.schedule.getHandle(scheduleId)[verb](opts.note);
        out(`${verb}d ${scheduleId}`);
      });
  }

  schedule
    .command('delete <id>')
    .description('delete the schedule (runs already started go on; the next sync re-creates it while its file has a schedule block)')
    .action(async (id: string) => {
      const client = await connect();
      const { scheduleId } = await owned(client, id);
      await client.schedule.getHandle(scheduleId).delete();
      out(`deleted ${scheduleId}`);
    });
}
