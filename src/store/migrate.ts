import path from 'node:path';
import pg from 'pg';
import { PROJECT_ROOT } from '../config';
import { isUnreachable, ResultsStoreError, ResultsStoreUnreachable } from './errors';
import { databaseOf, maskUrl, POSTGRES_URL, withDatabase } from './url';

/** The migration files, applied in the order of their numeric prefix (001_, 002_ …). */
export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'migrations');

/** The table node-pg-migrate records the applied migrations in. */
export const MIGRATIONS_TABLE = 'gameday_migrations';

const CONNECT_TIMEOUT_MS = 5000;
// Any fixed number, Gameday's own: the advisory lock around creating the database.
const CREATE_DATABASE_LOCK = 4_711_020_601;

/**
 * Brings the results store at `url` up to date: creates its database when it does not exist
 * (connecting to the server's `postgres` database to do so), then applies every migration in
 * migrations/ not applied yet, each in a transaction. Idempotent, and safe when several workers
 * call it at once: they queue on node-pg-migrate's advisory lock, and the later ones find nothing
 * to do. Logs nothing.
 * @throws ResultsStoreUnreachable when the server cannot be reached (the URL named, password masked);
 *   ResultsStoreError when creating the database or a migration fails.
 */
export async function migrateResultsStore(url: string): Promise<void> {
  if (!POSTGRES_URL.test(url)) throw new TypeError(`the results store URL must be postgres:// or postgresql://, not ${maskUrl(url)}`);
  await ensureDatabase(url);
  // node-pg-migrate is an ES module with a CLI around it: loaded only when migrating.
  const { runner } = await import('node-pg-migrate');
  const quiet = () => undefined;
  const client = await connect(url, 'apply the migrations');
  try {
    await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      migrationsTable: MIGRATIONS_TABLE,
      direction: 'up',
      advisoryLockMode: 'wait',
      checkOrder: true,
      logger: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    });
  } catch (e) {
    throw failure(url, 'apply the migrations', e);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A client of our own rather than node-pg-migrate's: its error listener keeps a server that drops
 * the connection from crashing the worker (an unhandled 'error' event), and its query timeout keeps
 * a hung server from holding a migration forever (a minute covers waiting on another's lock).
 */
async function connect(url: string, what: string, database = databaseOf(url)): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: withDatabase(url, database), connectionTimeoutMillis: CONNECT_TIMEOUT_MS, query_timeout: 60_000, application_name: 'gameday-migrate' });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (e) {
    await client.end().catch(() => undefined);
    throw failure(url, what, e);
  }
}

async function ensureDatabase(url: string): Promise<void> {
  const database = databaseOf(url);
  const what = `create the database ${database}`;
  const client = await connect(url, what, 'postgres');
  try {
    // Two workers starting at once would race from check to CREATE; they take turns instead.
    await client.query('SELECT pg_advisory_lock($1)', [CREATE_DATABASE_LOCK]);
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount) return;
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`).catch((e: { code?: string }) => {
      // Created meanwhile by someone not taking our lock: what we wanted.
      if (e.code !== '42P04' && e.code !== '23505') throw e;
    });
  } catch (e) {
    throw failure(url, what, e);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function failure(url: string, what: string, e: unknown): Error {
  const cause = (e as { cause?: unknown }).cause ?? e;
  return isUnreachable(e) || isUnreachable(cause) ? new ResultsStoreUnreachable(url, what, cause) : new ResultsStoreError(url, what, e);
}
