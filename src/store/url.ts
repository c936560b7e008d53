import { maskPasswords } from '../mask';

/** What a results-store URL looks like: postgres:// or postgresql://. */
export const POSTGRES_URL = /^postgres(ql)?:\/\/[^\s]+$/;

/** The URL with any password replaced by `***` (maskPasswords), for messages and logs. An unparsable URL is not echoed. */
export function maskUrl(url: string): string {
  try {
    new URL(url);
  } catch {
    return '<an unparsable URL>';
  }
  return maskPasswords(url);
}

/** The database a URL names (its path), or `postgres` when it names none. */
export function databaseOf(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  return name || 'postgres';
}

/** The same server and credentials, another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}
