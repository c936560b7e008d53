import type { ResultsStore, RunKey, StoredEvent, StoredSample } from './types';

/** Writes waiting for the store; past this, new writes are refused (and counted as lost). */
const DEFAULT_MAX_PENDING = 200_000;
/** Rows in one statement. */
const BATCH = 1_000;

type Job = { run: RunKey; kind: 'samples'; rows: StoredSample[] } | { run: RunKey; kind: 'events'; rows: StoredEvent[] } | { run: RunKey; kind: 'start'; start: Parameters<ResultsStore['startRun']>[0] };

interface Queued {
  job: Job;
  done: () => void;
  failed: (e: Error) => void;
}

/**
 * A worker's queue of writes to the results store, drained in the background, in batches, and
 * retried with backoff while the store is down. Writes of one run are written in the order they
 * came, one batch at a time; different runs are written side by side (up to `concurrency`), so a
 * worker sampling for hundreds of runs sends each run's waiting rows as one statement. Sampling
 * never waits on the store: it hands rows over and learns, through the returned promise, when
 * they are durable (the observe activity heartbeats only what is durable, so a worker that takes
 * over resumes at the first sample not yet stored: no gap, no duplicate). Reverts never touch it.
 */
export class StoreWriter {
  private readonly runs = new Map<string, Queued[]>();
  private readonly writing = new Set<string>();
  private pendingRows = 0;
  private closed = false;
  /** Since when the store has refused writes; undefined while it answers. */
  downSince?: number;
  lastError?: string;
  lost = 0;

  constructor(
    private readonly store: ResultsStore,
    private readonly opts: { maxPending?: number; concurrency?: number; retryMs?: (attempt: number) => number } = {},
  ) {}

  /** Resolves when the samples are in the store; rejects at once when the queue is full. */
  samples(run: RunKey, rows: StoredSample[]): Promise<void> {
    return this.push({ run, kind: 'samples', rows }, rows.length);
  }

  events(run: RunKey, rows: StoredEvent[]): Promise<void> {
    return this.push({ run, kind: 'events', rows }, rows.length);
  }

  startRun(start: Parameters<ResultsStore['startRun']>[0]): Promise<void> {
    return this.push({ run: start, kind: 'start', start }, 1);
  }

  /** Rows handed over and not yet written. */
  get pending(): number {
    return this.pendingRows;
  }

  /** Resolves when nothing waits to be written, or after `timeoutMs`; says whether it all went. */
  async drained(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.pendingRows > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return this.pendingRows === 0;
  }

  /** Stops retrying; what is still queued is rejected. */
  close(): void {
    this.closed = true;
    for (const jobs of this.runs.values()) for (const q of jobs.splice(0)) q.failed(new Error('the results store writer was closed with writes pending'));
    this.runs.clear();
    this.pendingRows = 0;
  }

  private push(job: Job, rows: number): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the results store writer is closed'));
    if (this.pendingRows + rows > (this.opts.maxPending ?? DEFAULT_MAX_PENDING)) {
      this.lost += rows;
      return Promise.reject(new Error(`the results store has ${this.pendingRows} rows waiting (it is down since ${new Date(this.downSince ?? Date.now()).toISOString()}): ${rows} more refused`));
    }
    this.pendingRows += rows;
    return new Promise<void>((done, failed) => {
      const key = `${job.run.workflowId}/${job.run.runId}`;
      const jobs = this.runs.get(key) ?? [];
      jobs.push({ job, done, failed });
      this.runs.set(key, jobs);
      this.pump();
    });
  }

  /** Starts writing every run that waits and is not being written, up to the concurrency. */
  private pump(): void {
    for (const key of this.runs.keys()) {
      if (this.writing.size >= (this.opts.concurrency ?? 4)) return;
      if (!this.writing.has(key)) {
        this.writing.add(key);
        void this.drainRun(key);
      }
    }
  }

  private async drainRun(key: string): Promise<void> {
    try {
      for (let attempt = 0; !this.closed; ) {
        const jobs = this.runs.get(key);
        if (!jobs?.length) {
          this.runs.delete(key);
          return;
        }
        const batch = takeBatch(jobs);
        try {
          await this.write(batch);
          attempt = 0;
          this.downSince = undefined;
          jobs.splice(0, batch.length);
          this.pendingRows -= batch.reduce((n, q) => n + rowsOf(q.job), 0);
          for (const q of batch) q.done();
        } catch (e) {
          this.downSince ??= Date.now();
          this.lastError = (e as Error).message;
          attempt++;
          await new Promise((r) => setTimeout(r, this.opts.retryMs?.(attempt) ?? Math.min(5000, 100 * 2 ** attempt)));
        }
      }
    } finally {
      this.writing.delete(key);
      if (!this.closed) this.pump();
    }
  }

  private async write(batch: Queued[]): Promise<void> {
    const { job } = batch[0];
    if (job.kind === 'start') return this.store.startRun(job.start);
    if (job.kind === 'samples') return this.store.writeSamples(job.run, batch.flatMap((q) => (q.job as typeof job).rows));
    return this.store.writeEvents(job.run, batch.flatMap((q) => (q.job as typeof job).rows));
  }
}

/** The head of one run's queue: consecutive jobs of one kind, up to a batch of rows. */
function takeBatch(jobs: Queued[]): Queued[] {
  const head = jobs[0];
  const batch: Queued[] = [head];
  let rows = rowsOf(head.job);
  for (let i = 1; i < jobs.length; i++) {
    const q = jobs[i];
    if (head.job.kind === 'start' || q.job.kind !== head.job.kind || rows + rowsOf(q.job) > BATCH) break;
    batch.push(q);
    rows += rowsOf(q.job);
  }
  return batch;
}

function rowsOf(job: Job): number {
  return job.kind === 'start' ? 1 : job.rows.length;
}
