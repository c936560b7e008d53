import WebSocket from 'ws';
import type { z } from 'zod';
import { durationMs } from '../spec/loader';
import type { websocketProbeSchema } from '../spec/schema';
import type { Measurement, ProbeWindow } from '../types';

export type WebsocketProbe = z.infer<typeof websocketProbeSchema>;

const DEFAULT_WINDOW = '1s';
/** A shared connection no sample has used for this long is closed (its run has ended). */
const IDLE_MS = 120_000;

/** The time one websocket sample may take: the connect, then its window. */
export function websocketBudgetMs(probe: WebsocketProbe, timeoutMs: number): number {
  return timeoutMs + durationMs(probe.window ?? DEFAULT_WINDOW);
}

/** One connection and what it has seen, across the samples that share it. */
interface Watch {
  socket?: WebSocket;
  /** The socket was closed by us (idle, fresh, shutdown), not dropped. */
  closing: boolean;
  opened: number;
  drops: number;
  missed: number;
  duplicates: number;
  lastSeq?: number;
  connectMs?: number;
  /** Arrival times (performance.now) of the messages since the current window began. */
  arrivals: number[];
  idle?: NodeJS.Timeout;
}

const shared = new Map<string, Watch>();

const newWatch = (): Watch => ({ closing: false, opened: 0, drops: 0, missed: 0, duplicates: 0, arrivals: [] });

/** Counts a message's sequence number: skipped numbers are missed, numbers seen before are duplicates. */
function countSequence(watch: Watch, field: string, data: WebSocket.RawData): void {
  let seq: unknown;
  try {
    seq = (JSON.parse(String(data)) as Record<string, unknown>)[field];
  } catch {
    return;
  }
  if (typeof seq !== 'number' || !Number.isFinite(seq)) return;
  if (watch.lastSeq !== undefined && seq <= watch.lastSeq) {
    watch.duplicates++;
    return;
  }
  if (watch.lastSeq !== undefined && seq > watch.lastSeq + 1) watch.missed += seq - watch.lastSeq - 1;
  watch.lastSeq = seq;
}

function urlOf(probe: WebsocketProbe, watch: Watch): string {
  if (!probe.resume || watch.lastSeq === undefined) return probe.url;
  const url = new URL(probe.url);
  url.searchParams.set(probe.resume, String(watch.lastSeq));
  return url.toString();
}

/** Opens the watch's connection; rejects when it is not open within `timeoutMs`. */
function open(probe: WebsocketProbe, watch: Watch, timeoutMs: number): Promise<void> {
  const started = performance.now();
  const socket = new WebSocket(urlOf(probe, watch), { handshakeTimeout: timeoutMs });
  return new Promise((resolve, reject) => {
    socket.once('open', () => {
      watch.connectMs = Math.round(performance.now() - started);
      watch.opened++;
      watch.socket = socket;
      watch.closing = false;
      resolve();
    });
    socket.once('error', (e) => reject(new Error(`could not connect to ${probe.url}: ${e.message}`)));
    socket.on('message', (data) => {
      watch.arrivals.push(performance.now());
      if (probe.sequence) countSequence(watch, probe.sequence, data);
    });
    socket.once('close', () => {
      if (watch.socket !== socket) return;
      watch.socket = undefined;
      if (!watch.closing) watch.drops++;
    });
  });
}

function close(watch: Watch): void {
  watch.closing = true;
  clearTimeout(watch.idle);
  watch.socket?.terminate();
  watch.socket = undefined;
}

/** Listens for `ms`; returns early when the connection drops. */
function listen(watch: Watch, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    const socket = watch.socket;
    socket?.once('close', done);
    function done(): void {
      clearTimeout(timer);
      socket?.off('close', done);
      resolve();
    }
  });
}

async function sample(probe: WebsocketProbe, watch: Watch, timeoutMs: number): Promise<Measurement> {
  // Reset before the connect: what arrives with the handshake (a replay) counts in this window.
  watch.arrivals = [];
  if (!watch.socket || watch.socket.readyState !== WebSocket.OPEN) await open(probe, watch, timeoutMs);
  const windowStarted = performance.now();
  await listen(watch, durationMs(probe.window ?? DEFAULT_WINDOW));
  const m: Measurement = {
    connected: watch.socket?.readyState === WebSocket.OPEN,
    messages: watch.arrivals.length,
    reconnects: Math.max(0, watch.opened - 1),
    drops: watch.drops,
  };
  if (watch.connectMs !== undefined) m.connectMs = watch.connectMs;
  if (watch.arrivals.length > 0) m.firstMessageMs = Math.round(Math.max(0, watch.arrivals[0] - windowStarted));
  if (probe.sequence) {
    m.missed = watch.missed;
    m.duplicates = watch.duplicates;
    if (watch.lastSeq !== undefined) m.lastSeq = watch.lastSeq;
  }
  return m;
}

/**
 * Listens to a WebSocket for the probe's window (default 1s) and measures: `connected` (still open
 * at the end), `connectMs` (the last connect's handshake), `messages` received in the window and
 * `firstMessageMs` after its start (absent when none came), `reconnects` and `drops` (connections
 * closed by the other side or the network), and with `sequence`: `missed` (sequence numbers
 * skipped), `duplicates` (numbers seen again) and `lastSeq`. Counts run over the samples that share
 * a connection: those of one run (`window.baselineStartedAt`) with the same probe. A sample whose
 * connect fails throws: that is the observation while connections are refused.
 */
export async function probeWebsocket(probe: WebsocketProbe, timeoutMs: number, window?: ProbeWindow): Promise<Measurement> {
  if (probe.connection === 'fresh') {
    const watch = newWatch();
    try {
      return await sample(probe, watch, timeoutMs);
    } finally {
      close(watch);
    }
  }
  const key = JSON.stringify([window?.baselineStartedAt, probe.url, probe.sequence, probe.resume]);
  const watch = shared.get(key) ?? newWatch();
  shared.set(key, watch);
  clearTimeout(watch.idle);
  try {
    return await sample(probe, watch, timeoutMs);
  } finally {
    watch.idle = setTimeout(() => {
      close(watch);
      shared.delete(key);
    }, IDLE_MS).unref();
  }
}

/** Closes the connections websocket probes share (worker shutdown, tests). */
export function closeWebsockets(): void {
  for (const watch of shared.values()) close(watch);
  shared.clear();
}
