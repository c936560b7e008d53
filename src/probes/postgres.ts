import { Client } from 'pg';
import type { z } from 'zod';
import type { postgresProbeSchema } from '../spec/schema';
import type { Measurement } from '../types';

export type PostgresProbe = z.infer<typeof postgresProbeSchema>;

/**
 * Runs one query on a fresh connection and measures the first column of its first row as `value`
 * (a number when it looks like one: counts come back from pg as strings).
 */
export async function probePostgres(probe: PostgresProbe, timeoutMs: number): Promise<Measurement> {
  const client = new Client({
    connectionString: probe.connectionString,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    application_name: 'gameday-probe',
  });
  // An 'error' event after a terminated backend would otherwise crash the worker.
  client.on('error', () => undefined);
  try {
    await client.connect();
    const result = await client.query({ text: probe.query, rowMode: 'array' });
    const first: unknown = result.rows[0]?.[0];
    if (first === undefined) throw new Error('the query returned no rows');
    return { value: toScalar(first) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

function toScalar(v: unknown): number | string | boolean {
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  const s = v === null ? 'null' : String(v);
  return /^-?\d+(\.\d+)?$/.test(s) ? Number(s) : s;
}
