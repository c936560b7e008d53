-- Day-long runs: the report streams a run's samples in its order, and old runs' samples are pruned.
--
-- The index is the report's order (phase, then time, then seq, then check): a report of millions of
-- samples reads them straight off it in batches instead of sorting them all first. It is built
-- without CONCURRENTLY (a migration runs in a transaction): on a big samples table, writes wait for
-- it once, and the StoreWriter queues and retries meanwhile.
--
-- samples_pruned_at: when retention (GAMEDAY_RESULTS_RETENTION) removed the run's samples; the run
-- row, its faults, hypothesis rows, breach and events stay.

-- Up Migration

CREATE INDEX IF NOT EXISTS samples_report_order ON samples (workflow_id, run_id, phase, at, seq, check_name);
ALTER TABLE runs ADD COLUMN IF NOT EXISTS samples_pruned_at timestamptz;

-- Down Migration

ALTER TABLE runs DROP COLUMN IF EXISTS samples_pruned_at;
DROP INDEX IF EXISTS samples_report_order;
