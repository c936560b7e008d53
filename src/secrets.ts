import { FailureType, GamedayError } from './errors';
import { MASK, maskPasswords } from './mask';

/**
 * Secrets by reference: any string of an experiment or scenario may say `${env:NAME}`. The spec
 * keeps the reference everywhere (workflow input, history, memo, store, reports); only the
 * activity about to use a probe or a target resolves it, from the worker's environment, and
 * scrubs the value from whatever it returns or throws.
 */

/** A reference as written: `${env:NAME}`, NAME in upper-case letters, digits and underscores. */
export const REFERENCE = /\$\{env:([A-Z_][A-Z0-9_]*)\}/g;

/** Where a reference sits in a document, and the variable it names. */
export interface SecretReference {
  name: string;
  /** The field's path, dotted: `targets.db.connectionString`. */
  path: string;
}

/** Every string of a JSON-like value, with its dotted path. */
export function* strings(value: unknown, at: string[] = []): Generator<{ text: string; path: string }> {
  if (typeof value === 'string') yield { text: value, path: at.join('.') };
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* strings(v, [...at, String(i)]);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) yield* strings(v, [...at, k]);
}

/** The references of a document (an experiment, a scenario, a probe, a planned fault), in order. */
export function secretReferences(value: unknown): SecretReference[] {
  return [...strings(value)].flatMap(({ text, path }) => [...text.matchAll(REFERENCE)].map((m) => ({ name: m[1], path })));
}

/**
 * The references that are not well formed (`${env:db_pass}`, `${env:}`, `${env:X` unclosed),
 * each with its path and what is wrong, for the validation of a file.
 */
export function malformedReferences(value: unknown): { path: string; message: string }[] {
  const found: { path: string; message: string }[] = [];
  for (const { text, path } of strings(value)) {
    for (const m of text.matchAll(/\$\{env:/g)) {
      const rest = text.slice(m.index);
      if (/^\$\{env:[A-Z_][A-Z0-9_]*\}/.test(rest)) continue;
      const written = rest.includes('}') ? rest.slice(0, rest.indexOf('}') + 1) : rest;
      found.push({ path, message: `malformed secret reference ${JSON.stringify(written)}: write \${env:NAME}, NAME in upper-case letters, digits and underscores (e.g. \${env:DB_PASSWORD})` });
    }
  }
  return found;
}

/**
 * What `gameday validate` and `run --dry-run` warn about, field by field: a password typed into a
 * URL (it would be stored in Temporal's history as typed), and a reference whose variable is not
 * set on this machine (the worker's environment is the one that counts).
 */
export function secretWarnings(doc: unknown, env: NodeJS.ProcessEnv): { path: string; message: string }[] {
  const typed = [...strings(doc)]
    .filter(({ text }) => maskPasswords(text) !== text)
    .map(({ path }) => ({ path, message: 'a password is typed into this URL: it will be stored as typed in the run\'s Temporal history and memo (reports mask it); write ${env:NAME} instead, e.g. postgres://app:${env:DB_PASSWORD}@127.0.0.1:5432/app, and set NAME in the worker\'s environment' }));
  const unset = missingSecrets(doc, env).map(({ name, path }) => ({ path, message: `\${env:${name}} is not set on this machine; the worker resolves it from its own environment, so this is fine if the worker sets ${name} (else the run fails before injecting anything)` }));
  return [...typed, ...unset];
}

/** A secret's value must be at least this long to be scrubbed from text (a one-letter value would scrub every such letter). */
const SCRUB_MIN_LENGTH = 3;

/** The resolved copy of a value, and the secret values that went into it. */
export interface Resolved<T> {
  value: T;
  secrets: string[];
}

/**
 * Replaces every reference in `value` with its variable's value from `env`.
 * @throws GamedayError SecretMissing naming every variable that is unset (or empty), with its field.
 */
export function resolveSecrets<T>(value: T, env: NodeJS.ProcessEnv, where = 'the experiment', then = ''): Resolved<T> {
  const missing = missingSecrets(value, env);
  if (missing.length > 0) throw missingError(missing, where, then);
  const secrets = new Set<string>();
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      return v.replace(REFERENCE, (_m, name: string) => {
        const secret = env[name]!;
        secrets.add(secret);
        return secret;
      });
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return { value: walk(value) as T, secrets: [...secrets] };
}

/** The references of `value` whose variable `env` does not set (or sets empty). */
export function missingSecrets(value: unknown, env: NodeJS.ProcessEnv): SecretReference[] {
  return secretReferences(value).filter((r) => !env[r.name]);
}

/**
 * The error for unset variables: which, in which field, of what (`where`), and on which machine
 * it counts; `then` says what follows (e.g. "nothing was injected").
 */
export function missingError(missing: SecretReference[], where: string, then = ''): GamedayError {
  const names = [...new Set(missing.map((r) => r.name))];
  const fields = missing.map((r) => `\${env:${r.name}} in ${r.path}`).join(', ');
  const one = names.length === 1;
  return new GamedayError(
    FailureType.SecretMissing,
    `${where}: environment variable${one ? '' : 's'} ${names.join(', ')} ${one ? 'is' : 'are'} not set on the worker (${fields}); set ${one ? 'it' : 'them'} in the worker's environment${then ? `; ${then}` : ''}`,
  );
}

/** `text` with every secret value replaced by `***` and passwords in URLs masked. */
export function scrubText(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= SCRUB_MIN_LENGTH) out = out.split(s).join(MASK);
  return maskPasswords(out);
}

/** A copy of a JSON-like value with scrubText applied to every string. */
export function scrub<T>(value: T, secrets: string[]): T {
  if (secrets.length === 0) return value;
  if (typeof value === 'string') return scrubText(value, secrets) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => scrub(v, secrets)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, secrets)])) as T;
  }
  return value;
}

/**
 * An error that says what `e` said, without the secrets: of the same class and with the same
 * own fields (a GamedayError keeps its type, an ApplicationFailure its type and retryability, any
 * error its name and code, so that Temporal treats it as before), every string scrubbed, and no
 * cause chain that could still hold a secret.
 */
export function scrubError(e: unknown, secrets: string[]): unknown {
  if (!(e instanceof Error)) return typeof e === 'string' ? scrubText(e, secrets) : e;
  const clean = Object.create(Object.getPrototypeOf(e) as object) as Error;
  for (const key of Object.getOwnPropertyNames(e)) {
    if (key === 'cause') continue;
    const value: unknown = (e as unknown as Record<string, unknown>)[key];
    Object.defineProperty(clean, key, { value: typeof value === 'string' ? scrubText(value, secrets) : scrub(value, secrets), writable: true, configurable: true, enumerable: key !== 'message' && key !== 'stack' });
  }
  return clean;
}

/**
 * Runs `use` with `value`'s references resolved from `env`, and returns its result with the
 * secret values scrubbed; an error it throws is scrubbed too. Nothing `use` returns can carry a
 * secret out of the activity.
 */
export async function withSecrets<T, R>(value: T, env: NodeJS.ProcessEnv, use: (resolved: T) => Promise<R>, where?: string, then?: string): Promise<R> {
  const { value: resolved, secrets } = resolveSecrets(value, env, where, then);
  try {
    return scrub(await use(resolved), secrets);
  } catch (e) {
    throw scrubError(e, secrets);
  }
}
