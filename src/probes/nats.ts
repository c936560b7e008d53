import net from 'node:net';
import { connect, type NatsConnection } from 'nats';
import type { z } from 'zod';
import type { natsConsumerProbeSchema, natsPublishProbeSchema, natsStreamProbeSchema } from '../spec/schema';
import type { Measurement } from '../types';

export type NatsStreamProbe = z.infer<typeof natsStreamProbeSchema>;
export type NatsConsumerProbe = z.infer<typeof natsConsumerProbeSchema>;
export type NatsPublishProbe = z.infer<typeof natsPublishProbeSchema>;

/**
 * Waits for the server's INFO line on a plain socket, destroyed whatever happens. nats.js leaves
 * the socket of a connect that timed out open (seen against a paused broker: one leaked socket
 * per probe), so a probe first checks, with a socket of its own, that the server answers at all.
 */
export function natsHandshake(url: string, timeoutMs: number): Promise<void> {
  const { hostname, port } = new URL(url.replace(/^(nats|tls):/, 'http:'));
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port || 4222) });
    const done = (err?: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => done(new Error(`TIMEOUT: no INFO from ${hostname}:${port} within ${timeoutMs} ms`)), timeoutMs);
    socket.once('data', (chunk) => done(chunk.toString('latin1').startsWith('INFO') ? undefined : new Error(`not a NATS server at ${url}`)));
    socket.once('error', (e) => done(e));
    socket.once('close', () => done(new Error(`connection to ${hostname}:${port} closed before the server answered`)));
  });
}

/** A fresh connection that never reconnects: a probe measures the server as it is now. */
async function withConnection<T>(url: string, timeoutMs: number, fn: (nc: NatsConnection) => Promise<T>): Promise<T> {
  await natsHandshake(url, timeoutMs);
  const nc = await connect({ servers: url, timeout: timeoutMs, reconnect: false, name: 'gameday-probe' });
  try {
    return await fn(nc);
  } finally {
    await nc.close().catch(() => undefined);
  }
}

/** JetStream stream state: messages, bytes, consumers. */
export function probeNatsStream(probe: NatsStreamProbe, timeoutMs: number): Promise<Measurement> {
  return withConnection(probe.url, timeoutMs, async (nc) => {
    const jsm = await nc.jetstreamManager({ timeout: timeoutMs });
    const info = await jsm.streams.info(probe.stream);
    return { messages: info.state.messages, bytes: info.state.bytes, consumers: info.state.consumer_count };
  });
}

/** JetStream consumer state: pending (not yet delivered), ackPending, redelivered. */
export function probeNatsConsumer(probe: NatsConsumerProbe, timeoutMs: number): Promise<Measurement> {
  return withConnection(probe.url, timeoutMs, async (nc) => {
    const jsm = await nc.jetstreamManager({ timeout: timeoutMs });
    const info = await jsm.consumers.info(probe.stream, probe.consumer);
    return { pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered };
  });
}

const publishers = new Map<string, Promise<NatsConnection>>();

/**
 * The connection a publish probe shares across samples, as a real publisher keeps one open:
 * during a broker freeze its publish reaches the socket and may be stored once the broker
 * resumes, though the publisher saw a timeout. Opened again when it has closed.
 */
async function sharedConnection(url: string, timeoutMs: number): Promise<NatsConnection> {
  const cached = publishers.get(url);
  if (cached) {
    const nc = await cached.catch(() => undefined);
    if (nc && !nc.isClosed()) return nc;
  }
  // Only once the server answers: a nats.js connect that times out leaks its socket.
  await natsHandshake(url, timeoutMs);
  const fresh = connect({ servers: url, timeout: timeoutMs, name: 'gameday-publisher', maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  publishers.set(url, fresh);
  fresh.catch(() => publishers.delete(url));
  return fresh;
}

/**
 * Publishes one message to JetStream and waits for its acknowledgement: seq and duplicate.
 * The connection is shared (see sharedConnection) unless the probe asks for a fresh one.
 */
export async function probeNatsPublish(probe: NatsPublishProbe, timeoutMs: number): Promise<Measurement> {
  const publish = async (nc: NatsConnection): Promise<Measurement> => {
    const js = nc.jetstream({ timeout: timeoutMs });
    const payload = probe.payload ?? JSON.stringify({ probe: 'gameday', at: new Date().toISOString() });
    const ack = await js.publish(probe.subject, new TextEncoder().encode(payload), { timeout: timeoutMs });
    return { seq: ack.seq, duplicate: ack.duplicate };
  };
  if (probe.connection === 'fresh') return withConnection(probe.url, timeoutMs, publish);
  return publish(await sharedConnection(probe.url, timeoutMs));
}

/** Closes the shared publisher connections (worker shutdown, tests). */
export async function closePublishers(): Promise<void> {
  const all = [...publishers.values()];
  publishers.clear();
  await Promise.all(all.map((p) => p.then((nc) => nc.close()).catch(() => undefined)));
}
