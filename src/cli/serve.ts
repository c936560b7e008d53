import type { Client } from '@temporalio/client';
import type { Config } from '../config';

/** What `gameday serve` composes and runs; loaded only by that command. */

/** `--port`'s value. @throws Error naming the option and the value. */
export function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new Error(`--port: expected a port number from 0 to 65535, not '${value}'`);
  return Number(value);
}

/**
 * Serves the dashboard on host:port until SIGINT or SIGTERM, then closes the store and the
 * Temporal connection. The Temporal server is asked for only by the schedules pages, so the runs
 * and scores are shown while it is down.
 */
export async function serveDashboard(config: Config, opts: { host: string; port: number }, log: (line: string) => void): Promise<void> {
  const [{ openResultsStore }, { buildDashboard, listenDashboard }, { connectClient }, { listSchedules }, { maskUrl }] = await Promise.all([
    import('../store/postgres'),
    import('../serve/server'),
    import('../temporal'),
    import('./schedule-list'),
    import('../store/url'),
  ]);
  const store = openResultsStore(config.resultsUrl);
  let client: Promise<Client> | undefined;
  const connected = () => {
    // A failed connection is forgotten, so that the next page asks again.
    client ??= connectClient(config).catch((e: unknown) => {
      client = undefined;
      throw e;
    });
    return client;
  };
  const app = buildDashboard({ config, store, schedules: async () => listSchedules(await connected()) });
  try {
    const url = await listenDashboard(app, opts);
    const local = opts.host === '127.0.0.1' || opts.host === 'localhost' || opts.host === '::1';
    log(`gameday dashboard: ${url}`);
    log(local ? `listening on ${opts.host} only: this machine alone can open it (--host to change that)` : `listening on ${opts.host}: anyone who reaches this address can read the runs`);
    log(`results store ${maskUrl(config.resultsUrl)}, Temporal ${config.temporalAddress}; Ctrl-C to stop`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  } finally {
    await app.close();
    await store.close();
    if (client) await client.then((c) => c.connection.close()).catch(() => undefined);
  }
}
