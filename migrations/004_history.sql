-- History and scores: how each run was started and which target system it tested.
--
-- Additive only: runs recorded before keep trigger 'manual' (or NULL) and get the system their
-- spec names, when it names one.

-- Up Migration

ALTER TABLE runs ADD COLUMN target_system text;
UPDATE runs SET target_system = spec->>'system' WHERE target_system IS NULL AND spec ? 'system';
-- `gameday history --since` across every experiment, newest first.
CREATE INDEX runs_started ON runs (started_at DESC);
-- A target system's runs over time, for its score.
CREATE INDEX runs_system_started ON runs (target_system, started_at);

-- Down Migration

DROP INDEX runs_system_started;
DROP INDEX runs_started;
ALTER TABLE runs DROP COLUMN target_system;
