import { accessSync, constants, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import type * as Envconfig from '@temporalio/envconfig';
import type { ClientConfigProfile, ConfigDataSource } from '@temporalio/envconfig';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';

/** The local stack's Temporal dev server (scripts/provision.sh): where Gameday connects when nothing says otherwise. */
export const LOCAL_TEMPORAL_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_NAMESPACE = 'default';

/** What the connection needs beyond the address: TLS, API key, gRPC headers, in the SDK's shape. */
export interface TemporalAuthOptions {
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
}

/** The TLS files of a profile, with the variable or TOML field each came from (for messages). */
const TLS_FILES = [
  { key: 'clientCert', path: 'TEMPORAL_TLS_CLIENT_CERT_PATH', data: 'TEMPORAL_TLS_CLIENT_CERT_DATA', toml: 'client_cert' },
  { key: 'clientKey', path: 'TEMPORAL_TLS_CLIENT_KEY_PATH', data: 'TEMPORAL_TLS_CLIENT_KEY_DATA', toml: 'client_key' },
  { key: 'serverCACert', path: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', data: 'TEMPORAL_TLS_SERVER_CA_CERT_DATA', toml: 'server_ca_cert' },
] as const;

type Env = Record<string, string | undefined>;

/** The envconfig package, loaded when the configuration is first read, not when this module is imported. */
function envconfig(): typeof Envconfig {
  return require('@temporalio/envconfig') as typeof Envconfig;
}

/**
 * Temporal's own connection settings beyond address and namespace (mutual TLS, API key, gRPC
 * headers), as @temporalio/envconfig resolved them from the environment and temporal.toml.
 * It holds the API key and any key material given inline: printing it, JSON or `util.inspect`,
 * shows only {@link describe}'s summary, never a secret.
 */
export class TemporalCredentials {
  readonly #profile: ClientConfigProfile;
  readonly #env: Env;

  /**
   * @param profile the resolved profile (its address and namespace are ignored: the Config's win)
   * @param source the profile's name and file when one was read, for messages
   */
  constructor(
    profile: ClientConfigProfile,
    env: Env,
    readonly source?: { profile: string; file: string },
  ) {
    this.#profile = profile;
    this.#env = env;
  }

  /** True when the connection uses TLS (TLS settings, or an API key, which implies TLS). */
  get tls(): boolean {
    const tls = this.#profile.tls;
    return tls ? tls.disabled !== true : this.#profile.apiKey !== undefined;
  }

  /** True when the connection needs nothing beyond the address: no TLS, API key or gRPC headers. */
  get plain(): boolean {
    return !this.tls && !this.hasApiKey && Object.keys(this.#profile.grpcMeta ?? {}).length === 0;
  }

  get hasClientCertificate(): boolean {
    return this.#profile.tls?.clientCert !== undefined;
  }

  get hasApiKey(): boolean {
    return this.#profile.apiKey !== undefined;
  }

  /** A summary without secrets: `mutual TLS (client certificate /path/client.pem), API key set, profile 'prod' of FILE`. */
  describe(): string {
    const parts = [this.tls ? (this.hasClientCertificate ? `mutual TLS (client certificate ${this.#where(TLS_FILES[0])})` : 'TLS') : 'plaintext'];
    if (this.hasApiKey) parts.push('API key set');
    if (this.source) parts.push(`profile '${this.source.profile}' of ${this.source.file}`);
    return parts.join(', ');
  }

  toJSON(): string {
    return this.describe();
  }

  [inspect.custom](): string {
    return `TemporalCredentials(${this.describe()})`;
  }

  /** Where a setting comes from: the variable when the environment sets it, else the profile's TOML field. */
  origin(variable: string, tomlField: string): string {
    if (this.#env[variable] !== undefined || !this.source) return variable;
    return `${tomlField} in profile '${this.source.profile}' of ${this.source.file}`;
  }

  /** What to set to give a client certificate, in the terms the settings came from. */
  clientCertificateHint(): string {
    if (this.source && this.#env.TEMPORAL_TLS_CLIENT_CERT_PATH === undefined) return `tls.client_cert_path and tls.client_key_path in profile '${this.source.profile}' of ${this.source.file}`;
    return 'TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH';
  }

  /** Problems a connection would only meet later: a certificate without its key, or the other way round. */
  problems(): string[] {
    const tls = this.#profile.tls;
    if (!tls || tls.disabled) return [];
    const [cert, key] = [TLS_FILES[0], TLS_FILES[1]];
    if (tls.clientCert && !tls.clientKey) return [`${this.#whence(cert)}: a client certificate needs its key: set ${this.#counterpart(cert, key)} too`];
    if (tls.clientKey && !tls.clientCert) return [`${this.#whence(key)}: a client key needs its certificate: set ${this.#counterpart(key, cert)} too`];
    return [];
  }

  /**
   * The SDK's connection options (`tls`, `apiKey`, `metadata`); reads the certificate files.
   * @throws Error naming the variable or TOML field whose file cannot be read.
   */
  authOptions(): TemporalAuthOptions {
    for (const f of TLS_FILES) {
      const source: ConfigDataSource | undefined = this.#profile.tls?.[f.key];
      if (!source || !('path' in source)) continue;
      try {
        accessSync(source.path, constants.R_OK);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new Error(`${this.#whence(f)}: ${code === 'ENOENT' ? 'no such file' : `cannot read the file (${code})`}: ${source.path}`);
      }
    }
    const { apiKey, tls, grpcMeta } = this.#profile;
    const { connectionOptions: o } = envconfig().toClientOptions({ apiKey, tls, grpcMeta });
    // grpcMeta as it came: envconfig's NativeConnection type widens it to binary values.
    return { tls: o.tls ?? undefined, apiKey: o.apiKey, metadata: grpcMeta };
  }

  #whence(f: (typeof TLS_FILES)[number]): string {
    const source = this.#profile.tls?.[f.key];
    const inline = source !== undefined && !('path' in source);
    return this.origin(inline ? f.data : f.path, `tls.${f.toml}_${inline ? 'data' : 'path'}`);
  }

  /** The setting that would give `missing`, in the same terms as `given` came (variable or TOML field). */
  #counterpart(given: (typeof TLS_FILES)[number], missing: (typeof TLS_FILES)[number]): string {
    return this.#whence(given).startsWith('TEMPORAL_') || !this.source ? missing.path : `tls.${missing.toml}_path in profile '${this.source.profile}' of ${this.source.file}`;
  }

  #where(f: (typeof TLS_FILES)[number]): string {
    const source = this.#profile.tls?.[f.key];
    return source && 'path' in source ? source.path : `given inline in ${this.#whence(f)}`;
  }
}

/** Temporal's connection settings resolved once: what Config keeps of them, or every problem found. */
export interface TemporalProfileResult {
  address?: string;
  namespace?: string;
  credentials: TemporalCredentials;
  problems: string[];
}

/** Where envconfig looks for temporal.toml when TEMPORAL_CONFIG_FILE is unset (the Temporal CLI's file too). */
export function defaultConfigFile(env: Env, platform = os.platform()): string | undefined {
  if (platform === 'win32') return env.APPDATA ? path.join(env.APPDATA, 'temporalio', 'temporal.toml') : undefined;
  if (platform === 'darwin') return env.HOME ? path.join(env.HOME, 'Library', 'Application Support', 'temporalio', 'temporal.toml') : undefined;
  const xdg = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : env.HOME && path.join(env.HOME, '.config');
  return xdg ? path.join(xdg, 'temporalio', 'temporal.toml') : undefined;
}

/** The config file's text, or a problem; undefined text when there is no file and none was asked for. */
function readConfigFile(env: Env): { file?: string; text?: string; problem?: string } {
  const named = env.TEMPORAL_CONFIG_FILE;
  const file = named ?? defaultConfigFile(env);
  if (!file) return {};
  try {
    return { file, text: readFileSync(file, 'utf8') };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && named === undefined) return {};
    const what = named === undefined ? file : `TEMPORAL_CONFIG_FILE`;
    return { problem: `${what}: ${code === 'ENOENT' ? 'no such file' : `cannot read the file (${code})`}: ${file}` };
  }
}

/**
 * Resolves Temporal's connection settings the way the Temporal CLI and SDKs do
 * (@temporalio/envconfig): the profile TEMPORAL_PROFILE names (default `default`) of the file
 * TEMPORAL_CONFIG_FILE names (default ~/.config/temporalio/temporal.toml, when it exists), then
 * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS* and TEMPORAL_GRPC_META_*
 * over it. Address and namespace are undefined when neither sets them (the caller's defaults).
 * Problems name the variable, or the file and field; no message quotes the file's content.
 */
export function resolveTemporalProfile(env: Env): TemporalProfileResult {
  const { file, text, problem } = readConfigFile(env);
  const none = (p: string[]): TemporalProfileResult => ({ credentials: new TemporalCredentials({}, env), problems: p });
  if (problem) return none([problem]);
  const requested = env.TEMPORAL_PROFILE;
  let source: { profile: string; file: string } | undefined;
  if (text !== undefined && file) {
    let profiles: string[];
    try {
      profiles = Object.keys(envconfig().loadClientConfig({ configSource: { data: text }, configFileStrict: true }).profiles);
    } catch (e) {
      return none([`${file}: ${tomlProblem(e)}`]);
    }
    const name = requested ?? 'default';
    if (profiles.includes(name)) source = { profile: name, file };
    else if (requested !== undefined) return none([`TEMPORAL_PROFILE: no profile '${requested}' in ${file} (profiles there: ${profiles.join(', ') || 'none'})`]);
  } else if (requested !== undefined) {
    return none([`TEMPORAL_PROFILE: profile '${requested}' asked for, but there is no config file: set TEMPORAL_CONFIG_FILE to your temporal.toml`]);
  }
  const overrideEnvVars = Object.fromEntries(Object.entries(env).filter((kv): kv is [string, string] => kv[1] !== undefined));
  let profile: ClientConfigProfile;
  try {
    profile = envconfig().loadClientConfigProfile({ configSource: source ? { data: text ?? '' } : undefined, disableFile: !source, profile: source?.profile, overrideEnvVars });
  } catch (e) {
    return none([`${file ?? 'the environment'}: ${tomlProblem(e)}`]);
  }
  const credentials = new TemporalCredentials(profile, env, source);
  const problems = [...credentials.problems()];
  if (profile.address !== undefined && !/^[^:\s]+:\d+$/.test(profile.address)) problems.push(`${credentials.origin('TEMPORAL_ADDRESS', 'address')}: expected host:port, e.g. ${LOCAL_TEMPORAL_ADDRESS}`);
  if (profile.namespace === '') problems.push(`${credentials.origin('TEMPORAL_NAMESPACE', 'namespace')}: must not be empty`);
  return { address: profile.address, namespace: profile.namespace, credentials, problems };
}

/** A TOML error's first line and position only: its excerpt of the file could show an API key. */
function tomlProblem(e: unknown): string {
  const err = e as Error & { line?: number; column?: number };
  const first = err.message.split('\n')[0];
  return err.line !== undefined ? `${first} (line ${err.line}, column ${err.column})` : first;
}
