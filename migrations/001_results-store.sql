-- The results store: every run, its samples, events, faults, hypothesis rows and breaches.
--
-- Documents read back into a journal (measurements, expectations, planned faults, the run's details)
-- are `json`, not `jsonb`: json keeps the keys in the order they were written, so a report rendered
-- from the store is the very report the worker would have written (jsonb reorders keys, and the
-- report lists measurements in key order). `spec` is jsonb: it is for queries, never read back.
--
-- No foreign keys from the child tables to runs: activities retry independently, so a run's samples
-- may land before its row does, and a write must never fail for want of another.

-- Up Migration

CREATE TABLE runs (
  workflow_id     text        NOT NULL,
  run_id          text        NOT NULL,
  experiment_id   text        NOT NULL,
  title           text        NOT NULL DEFAULT '',
  hypothesis      text        NOT NULL DEFAULT '',
  source          text        NOT NULL DEFAULT '',
  trigger         text,
  spec            jsonb,
  started_at      timestamptz NOT NULL,
  finished_at     timestamptz,
  verdict         text,
  reason          text,
  rollback_status text,
  -- The rest of the journal: targets, abort, freeze, plan.
  details         json        NOT NULL DEFAULT '{}',
  recorded_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workflow_id, run_id)
);
-- History and trends: an experiment's runs over time.
CREATE INDEX runs_experiment_started ON runs (experiment_id, started_at);
-- The newest run of a workflow id.
CREATE INDEX runs_workflow_started ON runs (workflow_id, started_at DESC);
CREATE INDEX runs_verdict_started ON runs (verdict, started_at);

CREATE TABLE samples (
  workflow_id  text        NOT NULL,
  run_id       text        NOT NULL,
  phase        text        NOT NULL CHECK (phase IN ('baseline', 'observe', 'guardrail', 'verify')),
  check_name   text        NOT NULL,
  seq          integer     NOT NULL CHECK (seq >= 0),
  at           timestamptz NOT NULL,
  stage        text        NOT NULL,
  ok           boolean     NOT NULL,
  error        text        NOT NULL DEFAULT '',
  measurement  json        NOT NULL,
  expectations json        NOT NULL,
  PRIMARY KEY (workflow_id, run_id, phase, check_name, seq)
);

CREATE TABLE events (
  workflow_id text        NOT NULL,
  run_id      text        NOT NULL,
  source      text        NOT NULL,
  seq         integer     NOT NULL CHECK (seq >= 0),
  at          timestamptz NOT NULL,
  stage       text        NOT NULL,
  message     text        NOT NULL,
  PRIMARY KEY (workflow_id, run_id, source, seq)
);

CREATE TABLE faults (
  workflow_id     text        NOT NULL,
  run_id          text        NOT NULL,
  fault_id        text        NOT NULL,
  -- The fault's place in the rollback record.
  idx             integer     NOT NULL,
  step            integer     NOT NULL,
  kind            text        NOT NULL,
  description     text        NOT NULL,
  target          text        NOT NULL,
  status          text        NOT NULL,
  tag             text,
  injected_at     timestamptz,
  due_at          timestamptz,
  reverted_at     timestamptz,
  revert_attempts integer     NOT NULL DEFAULT 0,
  last_error      text,
  -- The whole PlannedFault, as the workflow recorded it.
  planned         json        NOT NULL,
  PRIMARY KEY (workflow_id, run_id, fault_id)
);
CREATE INDEX faults_kind ON faults (kind);

-- The hypothesis-vs-reality rows.
CREATE TABLE expectations (
  workflow_id  text    NOT NULL,
  run_id       text    NOT NULL,
  idx          integer NOT NULL,
  expectation  text    NOT NULL,
  checked_when text    NOT NULL,
  expected     text    NOT NULL,
  observed     text    NOT NULL,
  ok           boolean NOT NULL,
  PRIMARY KEY (workflow_id, run_id, idx)
);

CREATE TABLE breaches (
  workflow_id text        NOT NULL,
  run_id      text        NOT NULL,
  guardrail   text        NOT NULL,
  at          timestamptz NOT NULL,
  condition   text        NOT NULL,
  observed    text        NOT NULL,
  PRIMARY KEY (workflow_id, run_id, guardrail, at)
);

-- Down Migration

DROP TABLE breaches;
DROP TABLE expectations;
DROP TABLE faults;
DROP TABLE events;
DROP TABLE samples;
DROP TABLE runs;
