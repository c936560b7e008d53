/**
 * Retention of the results store: the samples of old runs are deleted in small batches, by every
 * worker in the background (src/worker/index.ts), so that a store sampling day-long runs does not
 * grow without end. Run rows, faults, hypothesis rows, breaches and events are kept: the verdict
 * and the rollback record of every run stay readable.
 */
import type pg from 'pg';

/** The longest a run may sample (24 h): a run without an outcome is only pruned a day past the cutoff. */
const LONGEST_RUN = '1 day';

const SQL = {
  // Oldest first; a run with no outcome (its worker died, or it still goes) only once it cannot be running any more.
  candidates: `
    SELECT workflow_id, run_id FROM runs
    WHERE samples_pruned_at IS NULL
      AND (finished_at < $1 OR (finished_at IS NULL AND started_at < $1::timestamptz - interval '${LONGEST_RUN}'))
    ORDER BY started_at LIMIT 100`,
  // One short statement a batch, row locks on old samples only (no writer touches them), skipping
  // rows another worker's pruner holds.
  deleteBatch: `
    DELETE FROM samples WHERE ctid = ANY(ARRAY(
      SELECT ctid FROM samples WHERE workflow_id = $1 AND run_id = $2 LIMIT $3 FOR UPDATE SKIP LOCKED))`,
  markPruned: `
    UPDATE runs SET samples_pruned_at = now()
    WHERE workflow_id = $1 AND run_id = $2 AND samples_pruned_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM samples WHERE workflow_id = $1 AND run_id = $2)`,
} as const;

type Run = <T>(what: string, work: (c: pg.PoolClient) => Promise<T>) => Promise<T>;

/** See ResultsStore.pruneSamples. Each statement takes a pool connection and gives it back at once. */
export async function pruneSamples(run: Run, before: Date, opts: { batch?: number; maxRows?: number } = {}): Promise<number> {
  const batch = opts.batch ?? 5000;
  const maxRows = opts.maxRows ?? 1_000_000;
  const candidates = await run('find the runs whose samples are past retention', (c) => c.query<{ workflow_id: string; run_id: string }>(SQL.candidates, [before.toISOString()]));
  let deleted = 0;
  for (const { workflow_id, run_id } of candidates.rows) {
    for (;;) {
      if (deleted >= maxRows) return deleted;
      const n = (await run(`prune the samples of ${workflow_id}`, (c) => c.query(SQL.deleteBatch, [workflow_id, run_id, Math.min(batch, maxRows - deleted)]))).rowCount ?? 0;
      deleted += n;
      if (n === 0) break;
      // Between batches, the writers' statements go first.
      await new Promise((r) => setImmediate(r));
    }
    await run(`mark the samples of ${workflow_id} pruned`, (c) => c.query(SQL.markPruned, [workflow_id, run_id]));
  }
  return deleted;
}

/** `off`, or how long samples are kept, in ms. */
export type Retention = number | 'off';

/** The default of GAMEDAY_RESULTS_RETENTION. */
export const DEFAULT_RETENTION = '30d';

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * The value of GAMEDAY_RESULTS_RETENTION: `off`, or a whole number of minutes, hours, days or
 * weeks (`90m`, `12h`, `30d`, `4w`), at least an hour.
 * @throws TypeError saying what is expected and quoting the value (loadConfig adds the variable's name).
 */
export function parseRetention(raw: string): Retention {
  const value = raw.trim();
  if (value === 'off') return 'off';
  const m = /^(\d+)(m|h|d|w)$/.exec(value);
  const ms = m ? Number(m[1]) * UNIT_MS[m[2]] : NaN;
  if (!Number.isSafeInteger(ms) || ms < UNIT_MS.h) {
    throw new TypeError(`expected how long to keep the samples of finished runs, at least an hour, such as 12h, 30d or 4w (units m, h, d, w), or off to keep them all; not ${JSON.stringify(raw)}`);
  }
  return ms;
}

/** How often a worker prunes, and the most one pass deletes (a day's samples of a few busy runs). */
export const PRUNE_EVERY_MS = 3_600_000;
const PRUNE_MAX_ROWS = 2_000_000;

/**
 * Prunes every `PRUNE_EVERY_MS` (the first pass a minute after it starts, each one jittered so
 * that workers started together spread out) until stopped. A pass that fails (the store down) is
 * reported through `warn` and the next one tries again. Never on the fault queue: reverts do not
 * wait for it.
 */
export function keepPruning(store: { pruneSamples(before: Date, opts?: { maxRows?: number }): Promise<number> }, retention: Retention, warn: (msg: string) => void, firstAfterMs = 60_000): { stop(): void } {
  if (retention === 'off') return { stop: () => undefined };
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = (ms: number): void => {
    if (stopped) return;
    timer = setTimeout(() => void pass(), ms * (0.75 + Math.random() / 2));
    timer.unref();
  };
  const pass = async (): Promise<void> => {
    try {
      await store.pruneSamples(new Date(Date.now() - retention), { maxRows: PRUNE_MAX_ROWS });
    } catch (e) {
      warn(`gameday worker: pruning old samples of the results store failed (${(e as Error).message}); trying again in an hour`);
    }
    schedule(PRUNE_EVERY_MS);
  };
  schedule(firstAfterMs);
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
