import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';
import type { Config } from '../config';
import { FailureType, GamedayError, InvalidExperimentError, type SpecProblem } from '../errors';
import { loadSpecFile } from '../spec/loader';
import { CATALOG_MEMO, FILE_MEMO, HASH_MEMO, OWNER, OWNER_MEMO, scheduleIdFor, scheduleOptionsFor, specHash, type ScheduledSpec } from './options';

/** The schedule `gameday janitor --schedule` keeps; never synced, never deleted by sync. */
export const JANITOR_SCHEDULE_ID = 'gameday-janitor';

const EXTENSIONS = ['.yaml', '.yml', '.json'];
const FREEZE_FILES = ['freeze-windows.yaml', 'freeze-windows.yml', 'freeze-windows.json'];

/**
 * Every file in a catalog folder that has a `schedule` block. Any file that does not validate
 * fails the whole read, listing every problem: a sync that skipped a broken file would delete its
 * schedule as if the file were gone.
 * @throws InvalidExperimentError naming each file, field and problem.
 */
export async function scheduledSpecs(dir: string, freezeFile?: string): Promise<ScheduledSpec[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((f) => EXTENSIONS.includes(path.extname(f)) && !FREEZE_FILES.includes(f)).sort();
  const wishes: ScheduledSpec[] = [];
  const problems: SpecProblem[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    if (freezeFile && path.resolve(file) === path.resolve(freezeFile)) continue;
    try {
      const loaded = await loadSpecFile(file);
      if (loaded.spec.schedule) wishes.push({ kind: loaded.kind, spec: loaded.spec as ScheduledSpec['spec'], file });
    } catch (e) {
      if (e instanceof InvalidExperimentError) problems.push(...e.problems);
      else throw e;
    }
  }
  for (const [i, w] of wishes.entries()) {
    const id = scheduleIdFor(w.spec.id);
    if (id === JANITOR_SCHEDULE_ID) problems.push({ file: w.file, path: 'id', message: `the schedule id ${id} is the janitor's: rename the ${w.kind}` });
    const twin = wishes.findIndex((o) => o.spec.id === w.spec.id);
    if (twin !== i) problems.push({ file: w.file, path: 'id', message: `${w.spec.id} is also scheduled by ${wishes[twin].file}` });
  }
  if (problems.length > 0) throw new InvalidExperimentError(problems);
  return wishes;
}

/** True when a schedule's memo says Gameday made it. */
export function isOwned(memo: Record<string, unknown> | undefined): boolean {
  return memo?.[OWNER_MEMO] === OWNER;
}

export type SyncOutcome = 'created' | 'updated' | 'deleted' | 'unchanged' | 'conflict';

/** What sync did (or, with dryRun, would do) to one schedule. */
export interface SyncAction {
  scheduleId: string;
  outcome: SyncOutcome;
  detail: string;
}

async function describeOrUndefined(client: Client, id: string): Promise<ScheduleDescription | undefined> {
  try {
    return await client.schedule.getHandle(id).describe();
  } catch (e) {
    if (e instanceof ScheduleNotFoundError) return undefined;
    throw e;
  }
}

/**
 * Makes the server's schedules match the files of one catalog folder: creates a schedule for
 * each file with a `schedule` block, updates one whose file changed (keeping a pause made on the
 * server unless the file says `paused`), and deletes Gameday's schedules synced from this folder
 * whose file is gone or no longer has a block. It never touches a schedule without Gameday's
 * memo, nor one synced from another folder (a `conflict`), nor the janitor's.
 */
export async function syncSchedules(client: Client, config: Config, dir: string, opts: { dryRun?: boolean } = {}): Promise<SyncAction[]> {
  const catalog = path.resolve(dir);
  const wishes = await scheduledSpecs(catalog, config.freezeFile);
  const actions: SyncAction[] = [];
  for (const wish of wishes) {
    const options = scheduleOptionsFor(wish, config, catalog);
    const current = await describeOrUndefined(client, options.scheduleId);
    if (!current) {
      if (!opts.dryRun) await client.schedule.create(options);
      actions.push({ scheduleId: options.scheduleId, outcome: 'created', detail: wish.file });
      continue;
    }
    if (!isOwned(current.memo) || current.memo?.[CATALOG_MEMO] !== catalog) {
      const whose = isOwned(current.memo) ? `synced from ${String(current.memo?.[CATALOG_MEMO])}` : 'not made by gameday';
      actions.push({ scheduleId: options.scheduleId, outcome: 'conflict', detail: `a schedule with this id exists, ${whose}: left alone` });
      continue;
    }
    if (current.action.memo?.[HASH_MEMO] === specHash(wish, config)) {
      actions.push({ scheduleId: options.scheduleId, outcome: 'unchanged', detail: wish.file });
      continue;
    }
    if (!opts.dryRun) {
      const paused = wish.spec.schedule.paused === true || current.state.paused;
      await client.schedule.getHandle(options.scheduleId).update(() => ({ spec: options.spec, action: options.action, policies: options.policies, state: { paused, note: paused ? current.state.note : options.state?.note } }));
    }
    actions.push({ scheduleId: options.scheduleId, outcome: 'updated', detail: wish.file });
  }
  const wanted = new Set(wishes.map((w) => scheduleIdFor(w.spec.id)));
  for await (const s of client.schedule.list()) {
    if (wanted.has(s.scheduleId) || s.scheduleId === JANITOR_SCHEDULE_ID) continue;
    if (!isOwned(s.memo) || s.memo?.[CATALOG_MEMO] !== catalog) continue;
    // The listing may lag behind: describe says whether it still exists, and its memo for sure.
    const current = await describeOrUndefined(client, s.scheduleId);
    if (!current || !isOwned(current.memo) || current.memo?.[CATALOG_MEMO] !== catalog) continue;
    if (!opts.dryRun) await client.schedule.getHandle(s.scheduleId).delete();
    actions.push({ scheduleId: s.scheduleId, outcome: 'deleted', detail: `no file in ${catalog} schedules it (was ${String(current.action.memo?.[FILE_MEMO] ?? '?')})` });
  }
  return actions;
}

/**
 * The description of a schedule Gameday owns, by its id or by the experiment's (`x` or `gameday-x`).
 * @throws GamedayError ScheduleNotOwned when there is no such schedule or it is not Gameday's.
 */
export async function ownedSchedule(client: Client, idOrSpecId: string): Promise<{ scheduleId: string; description: ScheduleDescription }> {
  const candidates = idOrSpecId.startsWith('gameday-') ? [idOrSpecId, scheduleIdFor(idOrSpecId)] : [scheduleIdFor(idOrSpecId), idOrSpecId];
  for (const id of candidates) {
    const description = await describeOrUndefined(client, id);
    if (!description) continue;
    if (!isOwned(description.memo)) {
      throw new GamedayError(FailureType.ScheduleNotOwned, `schedule ${id} was not made by gameday schedule sync: refusing to touch it (use the Temporal CLI or Web UI)`);
    }
    return { scheduleId: id, description };
  }
  throw new GamedayError(FailureType.ScheduleNotOwned, `no schedule ${candidates[0]}: see gameday schedule list`);
}
