/** Scratch databases of the results store on the stack's PostgreSQL, for the store's tests. */
import pg from 'pg';

/** The stack's server (scripts/provision.sh). */
export const PG_SERVER = 'postgres://postgres@127.0.0.1:55432';

/** Drops a database of the stack's server, closing whatever is still connected to it. */
export async function dropDatabase(name: string): Promise<void> {
  const c = new pg.Client({ connectionString: `${PG_SERVER}/postgres` });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  await c.end();
}

/** The number a `SELECT count(*) AS n …` query answers. */
export async function countOf(c: pg.Client, sql: string, params: unknown[]): Promise<number> {
  return Number((await c.query<{ n: string }>(sql, params)).rows[0].n);
}
