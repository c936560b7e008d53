/**
 * The one masking of credentials in what people see. Pure code: the workflows import it (fault
 * descriptions are computed there).
 */

/** What a masked password reads as. */
export const MASK = '***';

const WHOLE_REFERENCE = /^\$\{env:[A-Z_][A-Z0-9_]*\}$/;

// scheme://user:password@ — the password ends at the last '@' before the host (an '@' typed
// unencoded in a password is still hidden), and never crosses a space, a slash or a quote.
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@'"`]*:)([^\s/'"`]*)@/gi;
// ?password=… or &password=… in a connection string's query (libpq and node-postgres read it).
const QUERY_PASSWORD = /([?&](?:password|pass|pwd|sslpassword)=)([^&\s'"`#]*)/gi;

/**
 * `text` with every password in a URL shown as `***`: `postgres://app:s3cret@db/app` →
 * `postgres://app:***@db/app`, and `?password=…` likewise. A password given as a secret
 * reference (`${env:DB_PASSWORD}`) stays as written: it names a variable, not a value.
 */
export function maskPasswords(text: string): string {
  const keep = (prefix: string, password: string): string => (password === '' || WHOLE_REFERENCE.test(password) ? `${prefix}${password}` : `${prefix}${MASK}`);
  return text.replace(URL_PASSWORD, (_m, prefix: string, password: string) => `${keep(prefix, password)}@`).replace(QUERY_PASSWORD, (_m, prefix: string, password: string) => keep(prefix, password));
}

/** A copy of `value` (any JSON-like data) with maskPasswords applied to every string in it. */
export function maskPasswordsIn<T>(value: T): T {
  if (typeof value === 'string') return maskPasswords(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => maskPasswordsIn(v)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskPasswordsIn(v)])) as T;
  }
  return value;
}
