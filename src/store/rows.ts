/**
 * The pure half of the PostgreSQL store: a run's writes turned into table rows, and rows turned
 * back into a Journal. No I/O, so that the mapping is unit-tested on its own.
 */
import type { ExpectationResult, GuardrailBreach, HypothesisRow, Journal, Measurement, PlannedFault, ProbeSample, Stage, Verdict } from '../types';
import type { Experiment } from '../spec/schema';
import { targetSystemOf } from '../spec/system';
import type { SamplePhase, StoredEvent, StoredSample } from './types';

/** A `samples` row, as sent to PostgreSQL in one JSON array per batch. */
export interface SampleRow {
  phase: SamplePhase;
  check_name: string;
  seq: number;
  at: string;
  stage: Stage;
  ok: boolean;
  error: string;
  measurement: Measurement;
  expectations: ExpectationResult[];
}

/** An `events` row. */
export interface EventRow {
  source: string;
  seq: number;
  at: string;
  stage: Stage;
  message: string;
}

/** A `faults` row. */
export interface FaultRow {
  fault_id: string;
  idx: number;
  step: number;
  kind: string;
  description: string;
  target: string;
  status: string;
  tag: string | null;
  injected_at: string | null;
  due_at: string | null;
  reverted_at: string | null;
  revert_attempts: number;
  last_error: string | null;
  planned: PlannedFault;
}

/** An `expectations` row: one row of the hypothesis-vs-reality table. */
export interface ExpectationRow {
  idx: number;
  expectation: string;
  checked_when: HypothesisRow['when'];
  expected: string;
  observed: string;
  ok: boolean;
}

/** A `breaches` row. */
export interface BreachRow {
  guardrail: string;
  at: string;
  condition: string;
  observed: string;
}

/** The parts of the journal kept in the `details` column of `runs`. */
export type RunDetails = Pick<Journal, 'targets' | 'abort' | 'freeze' | 'plan'>;

/** What `finishRun` writes: the run's columns and its child rows. */
export interface FinishRows {
  run: {
    experiment_id: string;
    title: string;
    hypothesis: string;
    source: string;
    spec: unknown;
    target_system: string | null;
    started_at: string;
    finished_at: string | null;
    verdict: Verdict;
    reason: string;
    rollback_status: Journal['rollback']['status'];
    details: RunDetails;
  };
  faults: FaultRow[];
  expectations: ExpectationRow[];
  breaches: BreachRow[];
  /** The workflow's own events, under source `workflow`. */
  events: EventRow[];
}

/** The source the workflow's own events (the journal's `events`) are stored under. */
export const WORKFLOW_SOURCE = 'workflow';

/**
 * The batch as rows, one per (phase, check, seq): when a batch names a key twice, the later sample
 * wins, as it would have had it come in a later call (one INSERT … ON CONFLICT cannot touch a row twice).
 */
export function sampleRows(samples: StoredSample[]): SampleRow[] {
  const rows = new Map<string, SampleRow>();
  for (const { phase, seq, sample } of samples) {
    checkSeq(seq, `sample ${sample.check}`);
    rows.set(`${phase}\u0000${sample.check}\u0000${seq}`, {
      phase,
      check_name: sample.check,
      seq,
      at: timestamp(sample.at, `the sample ${sample.check} #${seq}'s at`),
      stage: sample.stage,
      ok: sample.ok,
      error: sample.error,
      measurement: sample.measurement,
      expectations: sample.expectations,
    });
  }
  return [...rows.values()];
}

/** A `samples` row of a batch of many runs: its run's key with it. */
export interface RunSampleRow extends SampleRow {
  workflow_id: string;
  run_id: string;
}

/** The samples of many runs as rows, one per (run, phase, check, seq); a run named twice keeps its later samples, as `sampleRows`. */
export function runSampleRows(batch: { run: { workflowId: string; runId: string }; samples: StoredSample[] }[]): RunSampleRow[] {
  const byRun = new Map<string, { run: { workflowId: string; runId: string }; samples: StoredSample[] }>();
  for (const b of batch) {
    const key = JSON.stringify([b.run.workflowId, b.run.runId]);
    const seen = byRun.get(key);
    byRun.set(key, { run: b.run, samples: seen ? [...seen.samples, ...b.samples] : b.samples });
  }
  return [...byRun.values()].flatMap(({ run, samples }) => sampleRows(samples).map((r) => ({ workflow_id: run.workflowId, run_id: run.runId, ...r })));
}

/** The events as rows, one per (source, seq); the later wins, as for samples. */
export function eventRows(events: StoredEvent[]): EventRow[] {
  const rows = new Map<string, EventRow>();
  for (const e of events) {
    checkSeq(e.seq, `event ${e.source}`);
    rows.set(JSON.stringify([e.source, e.seq]), { source: e.source, seq: e.seq, at: timestamp(e.at, `the event ${e.source} #${e.seq}'s at`), stage: e.stage, message: e.message });
  }
  return [...rows.values()];
}

/** The journal's outcome as rows; its sample arrays are not part of it (they are written as they are taken). */
export function finishRows(j: Journal): FinishRows {
  const details: RunDetails = { targets: j.targets, abort: j.abort, freeze: j.freeze, plan: j.plan };
  return {
    run: {
      experiment_id: j.experimentId,
      title: j.title,
      hypothesis: j.hypothesis,
      source: j.source,
      spec: j.plan?.spec ?? null,
      target_system: systemOfSpec(j.plan?.spec),
      started_at: timestamp(j.startedAt, 'the journal startedAt'),
      finished_at: optionalTimestamp(j.finishedAt),
      verdict: j.verdict,
      reason: j.reason,
      rollback_status: j.rollback.status,
      details,
    },
    faults: j.rollback.faults.map((f, idx) => ({
      fault_id: f.id,
      idx,
      step: f.step,
      kind: f.fault.kind,
      description: f.description,
      target: f.target.name,
      status: f.status,
      tag: f.tag ?? null,
      injected_at: optionalTimestamp(f.injectedAt),
      due_at: optionalTimestamp(f.dueAt),
      reverted_at: optionalTimestamp(f.revertedAt),
      revert_attempts: f.revertAttempts ?? 0,
      last_error: f.lastRevertError ?? f.error ?? null,
      planned: f,
    })),
    expectations: expectationRows(j.hypothesisVsReality),
    breaches: j.breach ? [{ guardrail: j.breach.guardrail, at: timestamp(j.breach.at, 'the breach at'), condition: j.breach.condition, observed: j.breach.observed }] : [],
    events: j.events.map((e, seq) => ({ source: WORKFLOW_SOURCE, seq, at: timestamp(e.at, `the workflow event #${seq}'s at`), stage: e.stage, message: e.message })),
  };
}

/** The hypothesis-vs-reality rows as `expectations` rows, numbered in order. */
export function expectationRows(rows: HypothesisRow[]): ExpectationRow[] {
  return rows.map((r, idx) => ({ idx, expectation: r.expectation, checked_when: r.when, expected: r.expected, observed: r.observed, ok: r.ok }));
}

/** The target system of a run's spec (an experiment's); null when there is no spec to tell. */
export function systemOfSpec(spec: unknown): string | null {
  const e = spec as Partial<Experiment> | null | undefined;
  return e && typeof e.id === 'string' && e.targets && typeof e.targets === 'object' ? targetSystemOf({ id: e.id, targets: e.targets, system: e.system }) : null;
}

/** A `runs` row as read back (timestamps already ISO strings). */
export interface RunRead {
  workflow_id: string;
  run_id: string;
  experiment_id: string;
  title: string;
  hypothesis: string;
  source: string;
  started_at: string;
  finished_at: string | null;
  verdict: Verdict | null;
  reason: string | null;
  rollback_status: Journal['rollback']['status'] | null;
  details: Partial<RunDetails>;
  /** When retention removed the run's samples; null while they are kept. */
  samples_pruned_at?: string | null;
}

/** Everything read back for one run, each list already in the store's order. */
export interface RunReadback {
  run: RunRead;
  samples: SampleRow[];
  events: EventRow[];
  faults: PlannedFault[];
  expectations: ExpectationRow[];
  breaches: BreachRow[];
  /** The newest sample's time, when the samples are not in `samples` (streamed instead). */
  newestSampleAt?: string | null;
}

/** The journal's field for each phase's samples. */
export const PHASE_FIELD: Record<SamplePhase, 'baseline' | 'observations' | 'guardrails' | 'verification'> = {
  baseline: 'baseline',
  observe: 'observations',
  guardrail: 'guardrails',
  verify: 'verification',
};

/**
 * The journal of a run as read back. A run with no outcome yet (no `finishRun`: still going, or its
 * worker never recorded one) reads as verdict `error`, rollback `incomplete` (nothing says it is
 * complete) and finishes at its newest sample or event, with a reason that says so.
 */
export function journalFromRows(r: RunReadback): Journal {
  const split: Pick<Journal, 'baseline' | 'observations' | 'guardrails' | 'verification'> = { baseline: [], observations: [], guardrails: [], verification: [] };
  for (const s of r.samples) split[PHASE_FIELD[s.phase]].push(sampleFromRow(s));
  const finished = r.run.verdict !== null;
  const breach: GuardrailBreach | undefined = r.breaches[0];
  return {
    workflowId: r.run.workflow_id,
    runId: r.run.run_id,
    experimentId: r.run.experiment_id,
    title: r.run.title,
    hypothesis: r.run.hypothesis,
    source: r.run.source,
    startedAt: r.run.started_at,
    finishedAt: r.run.finished_at ?? newest(r),
    verdict: r.run.verdict ?? 'error',
    reason: finished ? (r.run.reason ?? '') : 'the run has no outcome in the results store yet: it is still going, or its worker never recorded one',
    ...(r.run.details.plan ? { plan: r.run.details.plan } : {}),
    targets: r.run.details.targets ?? [],
    ...split,
    hypothesisVsReality: r.expectations.map((e) => ({ expectation: e.expectation, when: e.checked_when, expected: e.expected, observed: e.observed, ok: e.ok })),
    rollback: { status: r.run.rollback_status ?? 'incomplete', faults: r.faults },
    ...(r.run.details.abort ? { abort: r.run.details.abort } : {}),
    ...(breach ? { breach: { guardrail: breach.guardrail, at: breach.at, condition: breach.condition, observed: breach.observed } } : {}),
    ...(r.run.details.freeze ? { freeze: r.run.details.freeze } : {}),
    events: r.events.map((e) => ({ at: e.at, stage: e.stage, message: e.message })),
    ...(r.run.samples_pruned_at ? { store: { samplesPrunedAt: r.run.samples_pruned_at } } : {}),
  };
}

/** A `samples` row as the journal's sample. */
export function sampleFromRow(s: SampleRow): ProbeSample {
  const sample: ProbeSample = { check: s.check_name, stage: s.stage, at: s.at, measurement: s.measurement, error: s.error, expectations: s.expectations, ok: s.ok };
  // A guardrail's expectations are its abort conditions: one met is a breach.
  if (s.phase === 'guardrail') sample.breached = s.expectations.some((e) => e.ok);
  return sample;
}

function newest(r: RunReadback): string {
  const times = [r.run.started_at, ...(r.newestSampleAt ? [r.newestSampleAt] : []), ...r.samples.map((s) => s.at), ...r.events.map((e) => e.at)];
  return times.reduce((a, b) => (b > a ? b : a));
}

/** The instant as ISO 8601 in UTC with milliseconds, the form the journal uses. */
export function timestamp(value: string, what: string): string {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new TypeError(`${what} is not a time: ${JSON.stringify(value)}`);
  return new Date(ms).toISOString();
}

function optionalTimestamp(value: string | undefined): string | null {
  return value ? timestamp(value, 'a time') : null;
}

function checkSeq(seq: number, what: string): void {
  if (!Number.isInteger(seq) || seq < 0 || seq > 2_147_483_647) throw new TypeError(`the ${what}'s seq must be a whole number from 0: ${seq}`);
}
