/**
 * Due-time reverts in a process of their own, at a higher CPU priority than the worker's.
 *
 * Why: on a loaded worker (a hundred experiments probing every second on two cores), the worker's
 * event loop runs probes, heartbeats and the SDK's work; a timer due now fires when that loop gets
 * to it, and a revert is as late as the loop is busy. The reverter's loop has nothing else to do,
 * and the kernel schedules it first (nice -10, when the worker may raise priorities: as root).
 *
 * The worker keeps what needs the Temporal client: shortly before a fault is due it asks whether
 * the run still holds the fault (stillInPlace) and, if not, cancels the child's timer. A worker too
 * busy to ask in time does not hold the revert up: the child reverts at the due time regardless,
 * as the in-process reverter does when the server does not answer (fail-open).
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { DueOutcome, DueRevert, DueRevertTimers } from './due-reverts';

/** How long before the due time the worker asks whether the run still holds the fault. */
const PRECHECK_LEAD_MS = 1_500;
/** How long the workflow's revert waits to hear what the child did (it waits itself up to 5 s for a revert in flight). */
const DISARM_REPLY_MS = 6_000;

/** Messages from the worker to the child. */
export type ToReverter =
  | { type: 'arm'; key: string; dueAtMs: number; fault: NonNullable<DueRevert['fault']> }
  | { type: 'cancel'; key: string }
  | { type: 'disarm'; key: string; ask: number };

/** Messages from the child to the worker. */
export type FromReverter =
  | { type: 'ready'; nice: number | string }
  | { type: 'done'; outcome: WireOutcome }
  | { type: 'disarmed'; ask: number; outcome?: WireOutcome };

/** A DueOutcome as JSON carries it (a date as its ISO string). */
export type WireOutcome = { key: string; reverted: true; at: string; lines: string[] } | Extract<DueOutcome, { reverted: false }>;

export function toWire(o: DueOutcome): WireOutcome {
  return o.reverted ? { ...o, at: o.at.toISOString() } : o;
}

function fromWire(o: WireOutcome): DueOutcome {
  return o.reverted ? { ...o, at: new Date(o.at) } : o;
}

interface Armed {
  d: DueRevert;
  precheck?: NodeJS.Timeout;
}

/**
 * The worker's side of the reverter process. The child starts with the first fault armed and is
 * started again, with every fault armed and not yet fired, if it dies.
 */
export class ReverterProcess implements DueRevertTimers {
  private child?: ChildProcess;
  private readonly armed = new Map<string, Armed>();
  private readonly asks = new Map<number, (o: DueOutcome | undefined) => void>();
  private nextAsk = 1;
  private closed = false;

  /** @param log where the reverter says it started (its priority) or died */
  constructor(private readonly log: (msg: string) => void = () => {}) {}

  arm(d: DueRevert): void {
    if (!d.fault) throw new Error(`the reverter process needs the fault of ${d.key}`);
    this.forget(d.key);
    const entry: Armed = { d };
    const checkIn = Math.max(0, d.dueAtMs - PRECHECK_LEAD_MS - Date.now());
    entry.precheck = setTimeout(() => void this.precheck(d.key, entry), checkIn);
    entry.precheck.unref();
    this.armed.set(d.key, entry);
    this.send({ type: 'arm', key: d.key, dueAtMs: d.dueAtMs, fault: d.fault });
  }

  async disarm(key: string): Promise<DueOutcome | undefined> {
    // Still armed here: its 'done' has not come yet. Should the child have fired meanwhile, its
    // answer below is the only word of it this side gets (the 'done' finds the fault forgotten).
    const entry = this.armed.get(key);
    this.forget(key);
    // The child keeps what it did for a while after it fired (DueReverts): ask it even when this
    // side has forgotten the fault.
    if (!this.child) return undefined;
    const ask = this.nextAsk++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(undefined), DISARM_REPLY_MS);
      const settle = (o: DueOutcome | undefined): void => {
        clearTimeout(timer);
        this.asks.delete(ask);
        if (o && entry) entry.d.onDone?.(o);
        resolve(o);
      };
      this.asks.set(ask, settle);
      this.send({ type: 'disarm', key, ask });
    });
  }

  get pending(): number {
    return this.armed.size;
  }

  /** The reverter process's pid, while one runs (it starts with the first fault armed). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  close(): void {
    this.closed = true;
    for (const key of [...this.armed.keys()]) this.forget(key);
    for (const settle of [...this.asks.values()]) settle(undefined);
    this.child?.kill();
    this.child = undefined;
  }

  private async precheck(key: string, entry: Armed): Promise<void> {
    entry.precheck = undefined;
    if (await entry.d.stillInPlace().catch(() => true)) return;
    if (this.armed.get(key) !== entry) return;
    this.armed.delete(key);
    this.send({ type: 'cancel', key });
    entry.d.onDone?.({ key, reverted: false, why: 'the run closed or reverted it already' });
  }

  private forget(key: string): void {
    const entry = this.armed.get(key);
    if (entry?.precheck) clearTimeout(entry.precheck);
    this.armed.delete(key);
  }

  private send(msg: ToReverter): void {
    if (this.closed) return;
    const child = this.child ?? this.start();
    child.send(msg);
  }

  private start(): ChildProcess {
    const child = fork(require.resolve('./reverter-child'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    this.child = child;
    // Neither the child nor its channel keeps a worker that is shutting down alive.
    child.unref();
    child.channel?.unref();
    child.on('message', (m: FromReverter) => this.receive(m));
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      for (const settle of [...this.asks.values()]) settle(undefined);
      if (this.closed) return;
      this.log(`gameday reverter process exited (${signal ?? code}); starting another with the ${this.armed.size} fault(s) still armed`);
      for (const { d } of this.armed.values()) this.send({ type: 'arm', key: d.key, dueAtMs: d.dueAtMs, fault: d.fault! });
    });
    return child;
  }

  private receive(m: FromReverter): void {
    if (m.type === 'ready') {
      if (typeof m.nice !== 'number' || m.nice >= 0) this.log(`gameday reverter process runs at the worker's priority (${m.nice}): due-time reverts share the CPU with probes`);
    } else if (m.type === 'done') {
      const entry = this.armed.get(m.outcome.key);
      this.forget(m.outcome.key);
      entry?.d.onDone?.(fromWire(m.outcome));
    } else {
      this.asks.get(m.ask)?.(m.outcome ? fromWire(m.outcome) : undefined);
    }
  }
}
