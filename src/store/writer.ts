import type { ResultsStore, RunKey, StoredEvent, StoredSample } from './types';

/** Writes waiting for the store; past this, new writes are refused (and counted as lost). */
const DEFAULT_MAX_PENDING = 200_000;
/** Rows in one statement, of one run or, for samples, of many. */
const BATCH = 4_000;

type Job = { run: RunKey; kind: 'samples'; rows: StoredSample[] } | { run: RunKey; kind: 'events'; rows: StoredEvent[] } | { run: RunKey; kind: 'start'; start: Parameters<ResultsStore['startRun']>[0] };

interface Queued {
  job: Job;
  done: () => void;
  failed: (e: Error) => void;
}

/** Jobs at the head of one run's queue, written in one statement with those of other runs. */
interface Segment {
  key: string;
  jobs: Queued[];
}

/**
 * A worker's queue of writes to the results store, drained in the background, in batches, and
 * retried with backoff while the store is down. Writes of one run are written in the order they
 * came, one batch at a time; the samples waiting at the head of many runs' queues go in one
 * statement (up to a batch of rows), and up to `concurrency` statements are under way, so a worker
 * sampling for hundreds of runs spends a statement on thousands of rows, not on one run's few.
 * Sampling never waits on the store: it hands rows over and learns, through the returned promise,
 * when they are durable (the observe activity heartbeats only what is durable, so a worker that
 * takes over resumes at the first sample not yet stored: no gap, no duplicate). Reverts never
 * touch it.
 */
export class StoreWriter {
  /** Each run's queue; a run is taken from the front and, when it still has jobs, goes to the back. */
  private readonly runs = new Map<string, Queued[]>();
  /** Runs with a statement under way: none of their jobs is taken until it settles. */
  private readonly writing = new Set<string>();
  private statements = 0;
  private attempt = 0;
  private pendingRows = 0;
  private closed = false;
  /** Since when the store has refused writes; undefined while it answers. */
  downSince?: number;
  lastError?: string;
  lost = 0;

  constructor(
    private readonly store: ResultsStore,
    private readonly opts: { maxPending?: number; concurrency?: number; retryMs?: (attempt: number) => number; batchRows?: number } = {},
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

  /** Starts statements for the runs that wait and are not being written, up to the concurrency. */
  private pump(): void {
    while (!this.closed && this.statements < (this.opts.concurrency ?? 4)) {
      const batch = this.nextBatch();
      if (!batch.length) return;
      for (const seg of batch) this.writing.add(seg.key);
      this.statements++;
      void this.writeBatch(batch);
    }
  }

  /**
   * The next statement's jobs: the head of the first run waiting and, when that is samples, the
   * samples at the head of the other runs waiting, up to a batch of rows.
   */
  private nextBatch(): Segment[] {
    const limit = this.opts.batchRows ?? BATCH;
    const batch: Segment[] = [];
    let rows = 0;
    for (const [key, jobs] of this.runs) {
      if (this.writing.has(key) || !jobs.length) continue;
      const kind = jobs[0].job.kind;
      if (batch.length && kind !== 'samples') continue;
      const taken = takeHead(jobs, limit - rows, !batch.length);
      if (!taken.length) break;
      batch.push({ key, jobs: taken });
      rows += taken.reduce((n, q) => n + rowsOf(q.job), 0);
      if (kind !== 'samples' || rows >= limit) break;
    }
    return batch;
  }

  private async writeBatch(batch: Segment[]): Promise<void> {
    try {
      await this.write(batch);
      this.attempt = 0;
      this.downSince = undefined;
      if (this.closed) return;
      for (const seg of batch) {
        const jobs = this.runs.get(seg.key) ?? [];
        jobs.splice(0, seg.jobs.length);
        this.pendingRows -= seg.jobs.reduce((n, q) => n + rowsOf(q.job), 0);
        for (const q of seg.jobs) q.done();
        // To the back of the line: the runs behind it are taken first.
        this.runs.delete(seg.key);
        if (jobs.length) this.runs.set(seg.key, jobs);
      }
    } catch (e) {
      this.downSince ??= Date.now();
      this.lastError = (e as Error).message;
      this.attempt++;
      // The jobs stay at the head of their runs' queues: the next statement takes them again.
      await new Promise((r) => setTimeout(r, this.opts.retryMs?.(this.attempt) ?? Math.min(5000, 100 * 2 ** this.attempt)));
    } finally {
      for (const seg of batch) this.writing.delete(seg.key);
      this.statements--;
      this.pump();
    }
  }

  private async write(batch: Segment[]): Promise<void> {
    const { job } = batch[0].jobs[0];
    if (job.kind === 'start') return this.store.startRun(job.start);
    if (job.kind === 'events') return this.store.writeEvents(job.run, batch[0].jobs.flatMap((q) => (q.job as typeof job).rows));
    return this.store.writeSamplesOfRuns(batch.map((seg) => ({ run: seg.jobs[0].job.run, samples: seg.jobs.flatMap((q) => (q.job as Extract<Job, { kind: 'samples' }>).rows) })));
  }
}

/**
 * The head of one run's queue: consecutive jobs of one kind, up to `room` rows; the first job of
 * a statement (`first`) goes whatever its size, and a start goes alone.
 */
function takeHead(jobs: Queued[], room: number, first: boolean): Queued[] {
  const kind = jobs[0].job.kind;
  const taken: Queued[] = [];
  let rows = 0;
  for (const q of jobs) {
    const n = rowsOf(q.job);
    if (q.job.kind !== kind || (rows + n > room && !(first && !taken.length))) break;
    taken.push(q);
    rows += n;
    if (kind === 'start') break;
  }
  return taken;
}

function rowsOf(job: Job): number {
  return job.kind === 'start' ? 1 : job.rows.length;
}
