/**
 * Sampling inside one long activity: the observe probes round after round, a guardrail at its own
 * interval, the steady state until it returns. Each sample goes to the results store through the
 * worker's StoreWriter; what the verdict needs is kept as aggregates of fixed size. The progress a
 * heartbeat carries is what is durable in the store, so that a worker taking over after a crash
 * resumes at the first sample not stored: the sequence has neither a hole nor a duplicate.
 */
import { addSample, allHeld, type Aggregates } from '../judge';
import { runCheck, type ProbeContext } from '../probes';
import type { Guardrail, ObserveCheck, SteadyStateCheck } from '../spec/schema';
import type { StoredEvent, StoredSample, RunKey, SamplePhase } from '../store/types';
import type { StoreWriter } from '../store/writer';
import type { ExperimentStatus, GuardrailBreach, ProbeSample, Stage } from '../types';

/** How far a sampling activity got, as stored: what a heartbeat carries and a retry resumes from. */
export interface SamplingProgress {
  /** The next round's (or sample's) sequence number: every one before it is in the store. */
  nextSeq: number;
  aggregates: Aggregates;
  lastProbes: ExperimentStatus['lastProbes'];
  /** The newest transitions ("probe X misses …"), for people watching the run. */
  recent: StoredEvent[];
  /** How many events were noted in all. */
  eventCount: number;
  /** Samples the store refused because its queue was full; none when it kept up. */
  lost: number;
  /** The end of the recovery window (verify only), fixed by the first attempt. */
  deadline?: number;
}

/** The sampling environment an activity hands in: the store, heartbeats, cancellation. */
export interface SamplingEnv {
  run: RunKey;
  writer: StoreWriter;
  probe: ProbeContext;
  /** Called with what is durable; the activity heartbeats it. */
  heartbeat(progress: SamplingProgress): void;
  /** Aborted when the activity is cancelled (the run halted) or the worker shuts down. */
  signal: AbortSignal;
  /** From the last heartbeat of an earlier attempt, if any. */
  resume?: SamplingProgress;
}

const RECENT = 10;
/**
 * How long a sampler that ends waits for its last samples to be stored before returning. Briefly:
 * a store that is down must not hold up verification; the worker's writer keeps retrying, and the
 * report waits until the store holds every sample the workflow counted (or says what is missing).
 */
const FLUSH_WAIT_MS = 1000;

/** Keeps the progress of one sampling activity, and what of it is durable. */
class Sampler {
  readonly progress: SamplingProgress;
  private committed: SamplingProgress;
  private readonly writes = new Set<Promise<void>>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly env: SamplingEnv,
    private readonly phase: SamplePhase,
    private readonly source: string,
  ) {
    this.progress = structuredClone(env.resume ?? { nextSeq: 0, aggregates: {}, lastProbes: {}, recent: [], eventCount: 0, lost: 0 });
    this.committed = structuredClone(this.progress);
    env.heartbeat(this.committed);
    this.timer = setInterval(() => env.heartbeat(this.committed), 500);
  }

  get seq(): number {
    return this.progress.nextSeq;
  }

  /** Records one round's samples under the current sequence number, then moves on to the next. */
  record(samples: ProbeSample[], stage: Stage, labelOf: (s: ProbeSample) => string = (s) => s.check): void {
    const seq = this.progress.nextSeq++;
    const events: StoredEvent[] = [];
    for (const s of samples) {
      addSample(this.progress.aggregates, s);
      const key = labelOf(s);
      const before = this.progress.lastProbes[key];
      if (before ? before.ok !== s.ok : !s.ok) events.push(this.event(s.at, stage, transition(key, s)));
      this.progress.lastProbes[key] = { at: s.at, ok: s.ok, measurement: s.measurement, error: s.error };
    }
    this.store(samples.map((sample) => ({ phase: this.phase, seq, sample })), events);
  }

  /** Notes an event of its own (a breach). */
  note(at: string, stage: Stage, message: string): void {
    this.store([], [this.event(at, stage, message)]);
  }

  private event(at: string, stage: Stage, message: string): StoredEvent {
    const e = { source: this.source, seq: this.progress.eventCount++, at, stage, message };
    this.progress.recent = [...this.progress.recent, e].slice(-RECENT);
    return e;
  }

  private store(rows: StoredSample[], events: StoredEvent[]): void {
    const snapshot = structuredClone(this.progress);
    const write = Promise.all([rows.length ? this.env.writer.samples(this.env.run, rows) : undefined, events.length ? this.env.writer.events(this.env.run, events) : undefined]).then(
      () => {
        // Writes drain in order: this one being durable means every earlier one is too.
        if (snapshot.nextSeq >= this.committed.nextSeq) this.committed = snapshot;
      },
      () => {
        // Refused because the queue is full: counted, and the sequence goes on past it.
        this.progress.lost += rows.length;
        snapshot.lost = this.progress.lost;
        if (snapshot.nextSeq >= this.committed.nextSeq) this.committed = snapshot;
      },
    );
    this.writes.add(write);
    void write.finally(() => this.writes.delete(write));
  }

  /** Waits (a bounded time) for what is still being written; returns how many writes are left. */
  async finish(): Promise<SamplingProgress & { unstored: number }> {
    const deadline = new Promise<void>((r) => setTimeout(r, FLUSH_WAIT_MS).unref());
    await Promise.race([Promise.allSettled([...this.writes]), deadline]);
    clearInterval(this.timer);
    this.env.heartbeat(this.committed);
    return { ...this.progress, unstored: this.writes.size };
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

function transition(label: string, s: ProbeSample): string {
  return `probe '${label}' ${s.ok ? 'meets its expectations again' : `misses: ${s.error || s.expectations.filter((e) => !e.ok).map((e) => `${e.field} ${e.observed}`).join(', ')}`}`;
}

/** Sleeps, or resolves early when the signal aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** What an observation returns to the workflow: aggregates, never the samples. */
export type ObserveSummary = SamplingProgress & { unstored: number };

/**
 * The observe probes, a round every `intervalMs` (a round that takes longer starts the next at
 * once), until `until`. A round that ends after `until` is dropped; one in flight when the signal
 * aborts is finished and recorded.
 */
export async function observeUntil(args: { checks: ObserveCheck[]; intervalMs: number; until: number }, env: SamplingEnv): Promise<ObserveSummary> {
  const sampler = new Sampler(env, 'observe', 'observe');
  try {
    while (!env.signal.aborted && Date.now() < args.until) {
      const started = Date.now();
      const round = await Promise.all(args.checks.map((c) => runCheck(c, 'observe', env.probe)));
      // A round still running when the last fault was due saw its revert: it measured the
      // recovery, not the fault, so it is not a sample "during the fault".
      if (Date.now() > args.until) break;
      sampler.record(round, 'observe');
      await pause(Math.min(args.until, started + args.intervalMs) - Date.now(), env.signal);
    }
    return await sampler.finish();
  } finally {
    sampler.stop();
  }
}

/** What a guardrail returns: the breach that ended it, if one did. */
/** `reason`: the breach in words, for the run's abort. */
export type GuardSummary = SamplingProgress & { unstored: number; breach?: GuardrailBreach; reason?: string };

/**
 * One guardrail, sampled at its own interval (the gap between two samples is the interval plus
 * the probe's own time) until `until`, or until a sample meets an `abortWhen` condition: then it
 * returns the breach at once.
 */
export async function guardUntil(args: { guardrail: Guardrail; intervalMs: number; until: number }, env: SamplingEnv): Promise<GuardSummary> {
  const g = args.guardrail;
  const sampler = new Sampler(env, 'guardrail', `guardrail ${g.name}`);
  try {
    while (!env.signal.aborted && Date.now() < args.until) {
      const sample = await runCheck(guardrailCheck(g), 'observe', env.probe);
      const breach = recordGuardrailSample(sampler, g, sample);
      if (breach) return { ...(await sampler.finish()), ...breach };
      await pause(args.intervalMs, env.signal);
    }
    return await sampler.finish();
  } finally {
    sampler.stop();
  }
}

/** A guardrail as a check: its `abortWhen` conditions are the expectations. */
export function guardrailCheck(g: Guardrail): ObserveCheck {
  return { name: g.name, probe: g.probe, expect: g.abortWhen };
}

/** Records one guardrail sample; returns the breach when it met an abort condition. */
function recordGuardrailSample(sampler: Sampler, g: Guardrail, sample: ProbeSample): { breach: GuardrailBreach; reason: string } | undefined {
  // For a guardrail, an expectation met is the bad news: `breached` says so, and `ok` means
  // the probe answered and met no abort condition.
  const met = sample.expectations.find((e) => e.ok);
  sampler.record([{ ...sample, ok: !met && !sample.error, breached: !!met }], 'observe', (s) => `guardrail ${s.check}`);
  if (!met) return undefined;
  const breach = { guardrail: g.name, at: sample.at, condition: `${met.field} ${met.expected}`, observed: `${met.field} ${met.observed}` };
  const reason = `guardrail '${g.name}' breached at ${sample.at}: ${met.field} ${met.observed} (abort when ${met.expected})`;
  sampler.note(sample.at, 'observe', reason);
  return { breach, reason };
}

/**
 * Stores a chunk of rounds another host's agent took (src/observe/host-sampling.ts) and folds
 * them into `progress`, as the sampler of an activity on this worker would have: the same rows,
 * events and aggregates. Returns the progress for the next chunk (and a guardrail's breach).
 */
export async function recordChunk(
  args: { phase: SamplePhase; source: string; stage: Stage; progress?: SamplingProgress; rounds: ProbeSample[][]; guardrail?: Guardrail },
  env: Pick<SamplingEnv, 'run' | 'writer'>,
): Promise<GuardSummary> {
  const sampler = new Sampler({ ...env, probe: {}, heartbeat: () => undefined, signal: new AbortController().signal, resume: args.progress }, args.phase, args.source);
  try {
    for (const round of args.rounds) {
      if (!args.guardrail) {
        sampler.record(round, args.stage);
        continue;
      }
      const breach = recordGuardrailSample(sampler, args.guardrail, round[0]);
      if (breach) return { ...(await sampler.finish()), ...breach };
    }
    return await sampler.finish();
  } finally {
    sampler.stop();
  }
}

/**
 * The rounds of a host's probes on its agent (src/observe/host-sampling.ts decides nothing here:
 * this is the whole sampling, not a chunk), each stored as it is taken, as a sampling activity on
 * a worker does: its heartbeats carry what is durable, so the retry of an agent that died resumes
 * at the first round not stored. Rounds every `intervalMs` until `until` (a round of the observe
 * stage that ends after it is dropped, as observeUntil), `maxRounds`, or `stop`: a guardrail's
 * abort condition met (`guardrail` given), or every check held (verification).
 */
export async function sampleRounds(
  args: { phase: SamplePhase; source: string; stage: Stage; checks: (SteadyStateCheck | ObserveCheck)[]; intervalMs: number; until: number; maxRounds?: number; stop?: 'breach' | 'held'; guardrail?: Guardrail },
  env: SamplingEnv,
): Promise<GuardSummary> {
  const sampler = new Sampler(env, args.phase, args.source);
  let rounds = 0;
  try {
    while (!env.signal.aborted && Date.now() < args.until) {
      const started = Date.now();
      const round = await Promise.all(args.checks.map((c) => runCheck(c, args.stage, env.probe)));
      if (args.stage === 'observe' && Date.now() > args.until) break;
      rounds++;
      if (args.guardrail) {
        const breach = recordGuardrailSample(sampler, args.guardrail, round[0]);
        if (breach) return { ...(await sampler.finish()), ...breach };
      } else sampler.record(round, args.stage);
      if ((args.stop === 'held' && allHeld(round)) || (args.maxRounds !== undefined && rounds >= args.maxRounds)) break;
      await pause(Math.min(args.until, started + args.intervalMs) - Date.now(), env.signal);
    }
    return await sampler.finish();
  } finally {
    sampler.stop();
  }
}

/**
 * What verification returns: its last round, and whether the steady state held in it. `more`:
 * stopped at `maxRounds` with the recovery window still open (a later verification goes on from it).
 */
export type VerifySummary = SamplingProgress & { unstored: number; lastRound: ProbeSample[]; held: boolean; more?: boolean };

/**
 * The steady-state checks round after round until they all hold or the recovery window
 * (`withinMs` from the first attempt's start) has no room for another round.
 */
export async function verifyUntilHeld(args: { checks: SteadyStateCheck[]; withinMs: number; intervalMs: number; maxRounds?: number }, env: SamplingEnv): Promise<VerifySummary> {
  const sampler = new Sampler(env, 'verify', 'verify');
  const deadline = (sampler.progress.deadline ??= Date.now() + args.withinMs);
  try {
    // Going on from earlier rounds (a retry, or the first round taken in the workflow task): the interval first.
    if (env.resume) await pause(Math.min(args.intervalMs, deadline - Date.now()), env.signal);
    for (let rounds = 1; ; rounds++) {
      const round = await Promise.all(args.checks.map((c) => runCheck(c, 'verify', env.probe)));
      sampler.record(round, 'verify');
      const held = allHeld(round);
      const over = held || env.signal.aborted || Date.now() + args.intervalMs > deadline;
      if (over || rounds === args.maxRounds) return { ...(await sampler.finish()), lastRound: round, held, ...(over ? {} : { more: true }) };
      await pause(args.intervalMs, env.signal);
    }
  } finally {
    sampler.stop();
  }
}

/** One round of the steady-state checks (the baseline), stored as round 0. */
export async function probeOnce(args: { checks: SteadyStateCheck[]; phase: SamplePhase; stage: Stage }, env: SamplingEnv): Promise<ProbeSample[]> {
  const sampler = new Sampler({ ...env, resume: undefined }, args.phase, args.phase);
  try {
    const round = await Promise.all(args.checks.map((c) => runCheck(c, args.stage, env.probe)));
    sampler.record(round, args.stage);
    await sampler.finish();
    return round;
  } finally {
    sampler.stop();
  }
}
