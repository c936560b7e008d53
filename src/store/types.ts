/**
 * The results store's contract: every worker writes a run's samples, events and record to it, and
 * any machine reads a whole run back (the report is rendered from it). Types only: the activities
 * depend on this, the PostgreSQL implementation (src/store/postgres.ts) provides it.
 */
import type { HypothesisRow, Journal, ProbeSample, RollbackRecord, Stage, Verdict } from '../types';

/** Which part of a run a sample belongs to. */
export type SamplePhase = 'baseline' | 'observe' | 'guardrail' | 'verify';

/**
 * One sample as stored. `seq` counts the samples of one check in one phase from 0; a retried
 * activity that writes the same (phase, check, seq) again overwrites it, so retries and a worker
 * taking over an observation leave neither duplicates nor holes in the sequence.
 */
export interface StoredSample {
  phase: SamplePhase;
  seq: number;
  sample: ProbeSample;
}

/** One event of a run, from the workflow or from an activity that samples (probe transitions). */
export interface StoredEvent {
  /** Who wrote it: `workflow`, `observe`, `guardrail <name>`, `verify`; with `seq`, its key. */
  source: string;
  seq: number;
  at: string;
  stage: Stage;
  message: string;
}

/** A run being read by `readRun`. */
export interface RunReader {
  /** The journal with empty sample arrays (`finishedAt` of a run with no outcome counts its samples). */
  head: Journal;
  /** Samples stored per phase. */
  counts: Record<SamplePhase, number>;
  /** The samples of one phase, in order; read each phase at most once, one at a time. */
  samples(phase: SamplePhase): AsyncIterable<ProbeSample>;
}

/** Samples of one run, for `writeSamplesOfRuns`. */
export interface RunSamples {
  run: RunKey;
  samples: StoredSample[];
}

/** Identifies a run in the store: the workflow id and its run id. */
export interface RunKey {
  workflowId: string;
  runId: string;
}

/**
 * The results store. Every write is idempotent (activities retry) and may land in any order: a
 * run's samples before its row, its outcome before a retried `startRun`. Each call rejects, never
 * hangs, when the store is down (the PostgreSQL store: `ResultsStoreUnreachable` within a few
 * seconds, a plain retryable Error naming the URL with its password masked); a store that is down
 * must never delay a rollback, so nothing on the rollback path awaits it.
 */
export interface ResultsStore {
  /** Upserts the run's row as it starts: what the experiment is, when it began, how it was started. */
  startRun(run: RunKey & { experimentId: string; title: string; hypothesis: string; source: string; startedAt: string; trigger?: string; spec?: unknown }): Promise<void>;
  /**
   * Upserts samples on (run, phase, check, seq), the whole batch in one statement; a batch naming
   * a key twice keeps the later. A worker that takes over an observation and writes seq N..M again
   * overwrites those rows.
   */
  writeSamples(run: RunKey, samples: StoredSample[]): Promise<void>;
  /**
   * The samples of several runs, each upserted as `writeSamples` does, all in one statement: it
   * all lands or none of it does. A run named twice is written as its samples one after the other.
   */
  writeSamplesOfRuns(batch: RunSamples[]): Promise<void>;
  /** Upserts events on (run, source, seq). */
  writeEvents(run: RunKey, events: StoredEvent[]): Promise<void>;
  /**
   * Records the run's outcome: verdict, reason, targets, faults and rollback record, breach,
   * hypothesis-vs-reality rows and the workflow's events. The journal's sample arrays are ignored
   * (the samples are already in the store); calling it twice with the same journal is harmless.
   * The run's faults, hypothesis rows and breach are replaced whole; the journal's `events` are
   * stored as the source `workflow`, seq = their index in the array, so a workflow that also
   * writes its own events through `writeEvents` must number them the same way (or use another
   * source) to avoid storing them twice.
   */
  finishRun(journal: Journal): Promise<void>;
  /**
   * The whole journal of a run, every sample in `baseline`, `observations`, `verification` and
   * `guardrails` in order (by phase, then time, then seq), events from every source merged by
   * time. The newest run of the workflow id when `runId` is not given; undefined when unknown.
   * A run without an outcome yet (no `finishRun`) reads as verdict `error`, rollback `incomplete`,
   * with a reason saying it has none, so that what it wrote can still be rendered.
   */
  readJournal(workflowId: string, runId?: string): Promise<Journal | undefined>;
  /**
   * Replaces the run's hypothesis-vs-reality rows with the report's (which adds the rows checked
   * during the fault from every stored observation), so that history, scores and the next run's
   * re-validation compare what the reports showed.
   */
  recordExpectations(run: RunKey, rows: HypothesisRow[]): Promise<void>;
  /** Runs matching the filter, newest first, at most `filter.limit`. */
  listRuns(filter: RunFilter): Promise<RunSummary[]>;
  /**
   * The run of the same experiment that closed (has a verdict) and started last before this one,
   * with its hypothesis-vs-reality rows; undefined when there is none.
   */
  previousRun(run: RunKey & { experimentId: string; startedAt: string }): Promise<{ run: RunSummary; expectations: HypothesisRow[] } | undefined>;
  /**
   * Reads a run to stream it, whatever its length: hands `work` the journal without its samples,
   * how many each phase holds, and the samples phase by phase in `readJournal`'s order. Everything
   * `work` reads comes from one snapshot. A short run (at most 1,000 samples a phase) is read in
   * one statement before `work` starts, no connection held while it runs; a longer one on a
   * connection of its own, held until `work` settles, its big phases fetched in batches (memory
   * bounded by a batch, not by the run). Resolves to what `work` returned; undefined when the run
   * is unknown (then `work` is not called). `after`: a write the read must see (a finishRun): the
   * read starts once it has settled, and its failure is the read's.
   */
  readRun<T>(workflowId: string, runId: string | undefined, work: (run: RunReader) => Promise<T>, opts?: { after?: Promise<unknown> }): Promise<T | undefined>;
  /**
   * Deletes the samples of runs that ended (or, never finished, started a day) before `before`,
   * at most `batch` rows a statement and `maxRows` a call, skipping rows another pruner holds;
   * the run rows, faults, hypothesis rows, breaches and events stay, and the run is marked
   * pruned once none of its samples is left. Resolves to the samples deleted.
   */
  pruneSamples(before: Date, opts?: { batch?: number; maxRows?: number }): Promise<number>;
  /** Closes the store's connections; no call may follow. */
  close(): Promise<void>;
}

/** One run as `gameday history` lists it. */
export interface RunSummary extends RunKey {
  experimentId: string;
  title: string;
  /** The target system it tested (src/spec/system.ts); null for runs recorded before it was kept. */
  system: string | null;
  /** `cli`, `schedule`, `web-ui`; `manual` for runs recorded before the CLI marked its own; null when unknown. */
  trigger: string | null;
  startedAt: string;
  /** Null while the run has no outcome in the store. */
  finishedAt: string | null;
  verdict: Verdict | null;
  rollback: RollbackRecord['status'] | null;
  /** Its hypothesis-vs-reality rows checked during the fault and after recovery (baseline rows left out). */
  expectations: { met: number; total: number };
}

/** Which runs `listRuns` returns. */
export interface RunFilter {
  experimentId?: string;
  system?: string;
  /** Only runs started at or after this instant (ISO 8601). */
  since?: string;
  /** Only runs with this verdict. */
  verdict?: Verdict;
  /** Only runs started this way (`cli`, `schedule`, `web-ui`, `manual`). */
  trigger?: string;
  /** Runs at most. */
  limit: number;
  /** At most this many runs of each experiment (its newest). */
  perExperiment?: number;
  /** Only runs with one of these verdicts, or whose rollback is incomplete. */
  verdictsOrRollbackIncomplete?: Verdict[];
}
