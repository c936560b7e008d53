import { connect, type NatsConnection } from 'nats';
import { maskPasswordsIn } from './mask';

let shared: { url: string; nc: Promise<NatsConnection> } | undefined;

/**
 * Publishes one Gameday event (rollback failing, experiment finished) as JSON on NATS subject
 * `gameday.events.<kind>`, and waits for the server to have it (flush). Best effort for callers:
 * it throws on failure, and they decide whether that matters.
 */
export async function publishEvent(url: string, kind: string, payload: Record<string, unknown>): Promise<void> {
  if (!shared || shared.url !== url) shared = { url, nc: connect({ servers: url, timeout: 2000, name: 'gameday-events' }) };
  const nc = await shared.nc.catch((e: unknown) => {
    shared = undefined;
    throw e;
  });
  nc.publish(`gameday.events.${kind}`, new TextEncoder().encode(JSON.stringify(maskPasswordsIn({ kind, at: new Date().toISOString(), ...payload }))));
  await nc.flush();
}

/** Closes the shared events connection (worker shutdown). */
export async function closeEvents(): Promise<void> {
  const s = shared;
  shared = undefined;
  await s?.nc.then((nc) => nc.close()).catch(() => undefined);
}
