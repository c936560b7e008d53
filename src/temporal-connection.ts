import { isIP } from 'node:net';
import tls from 'node:tls';
import type { Config } from './config';
import type { TemporalAuthOptions } from './temporal-profile';

/** What every connection to Temporal is made from: the CLI's and workers' Client, the worker's NativeConnection, tests, bench. */
export type TemporalConnectionConfig = Pick<Config, 'temporalAddress' | 'temporalCredentials'>;

/**
 * The one place connection options are made, for `Connection.connect` (the Client) and
 * `NativeConnection.connect` (the worker) alike: the address, then TLS, API key and gRPC headers
 * from Temporal's own settings (envconfig). Reads the certificate files.
 * @throws Error naming the variable or temporal.toml field whose file cannot be read.
 */
export function temporalConnectionOptions(config: TemporalConnectionConfig): { address: string } & TemporalAuthOptions {
  return { address: config.temporalAddress, ...config.temporalCredentials.authOptions() };
}

/**
 * Why a connection failed, in one line naming what to set. The Client's gRPC library says only
 * "Failed to connect before the deadline", so a failed connection is followed by a TLS handshake
 * of our own with the same settings: its error says whether the server refused our certificate,
 * we refused the server's, or one side does not speak TLS.
 */
export async function explainConnectFailure(config: TemporalConnectionConfig, error: unknown): Promise<Error> {
  const address = config.temporalAddress;
  const reason = (error as Error).message.split('\n')[0];
  const unreachable = new Error(`cannot reach the Temporal server at ${address} (${reason}); start the local stack with 'npx gameday dev' or set TEMPORAL_ADDRESS`);
  const creds = config.temporalCredentials;
  // The SDK wraps the server's answer: "Failed to connect to Temporal server", cause "16 UNAUTHENTICATED: …".
  const answer = [error, (error as Error).cause].map((x) => (x instanceof Error ? x.message.split('\n')[0] : '')).find((m) => /^(16 UNAUTHENTICATED|7 PERMISSION_DENIED)/.test(m));
  if (answer) {
    const what = creds.hasApiKey ? `the API key in ${creds.origin('TEMPORAL_API_KEY', 'api_key')}` : 'this connection (no API key is set: TEMPORAL_API_KEY)';
    return new Error(`the Temporal server at ${address} refused ${what}: ${answer}`);
  }
  let options: TemporalAuthOptions;
  try {
    options = config.temporalCredentials.authOptions();
  } catch (e) {
    return e as Error;
  }
  const handshake = await tryHandshake(address, options);
  switch (handshake.kind) {
    case 'unreachable':
      return unreachable;
    case 'refused-by-server': {
      const cert = creds.hasClientCertificate ? 'the client certificate sent was not accepted' : 'it asks for a client certificate and none was set';
      return new Error(`the Temporal server at ${address} refused the TLS handshake (${handshake.detail}): ${cert}; set ${creds.clientCertificateHint()} to a certificate it trusts`);
    }
    case 'server-not-trusted':
      return new Error(
        `the Temporal server at ${address} presented a certificate that is not trusted (${handshake.detail}); set ${creds.origin('TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'tls.server_ca_cert_path')} to the CA that signed it` +
          (handshake.detail.includes('ALTNAME') ? `, or ${creds.origin('TEMPORAL_TLS_SERVER_NAME', 'tls.server_name')} to the name in it` : ''),
      );
    case 'server-speaks-plaintext':
      return new Error(`the Temporal server at ${address} does not speak TLS (${handshake.detail}), but TLS is set (${creds.describe()}); unset the TLS settings or set TEMPORAL_TLS=false`);
    case 'server-speaks-tls':
      return new Error(`the Temporal server at ${address} speaks TLS and this connection does not; set TEMPORAL_TLS=true (and TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_CLIENT_CERT_PATH / KEY_PATH as the server needs), or TEMPORAL_API_KEY`);
    default:
      return creds.tls ? new Error(`cannot connect to the Temporal server at ${address} over TLS (${reason})`) : unreachable;
  }
}

type Handshake = { kind: 'unreachable' | 'refused-by-server' | 'server-not-trusted' | 'server-speaks-plaintext' | 'server-speaks-tls' | 'fine'; detail: string };

/** The TLS alerts a server sends when it will not take the client's certificate (RFC 8446 §6.2). */
const REFUSED = /alert (certificate required|handshake failure|bad certificate|unknown ca|certificate unknown|access denied|certificate revoked|certificate expired|unsupported certificate)/i;

/** A TLS handshake with the connection's settings (plain TLS when none are set), up to 3 s; what became of it. */
function tryHandshake(address: string, options: TemporalAuthOptions): Promise<Handshake> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const t = typeof options.tls === 'object' ? options.tls : {};
  const wanted = options.tls !== undefined && options.tls !== false;
  const servername = t.serverNameOverride ?? (isIP(host) ? undefined : host);
  return new Promise((resolve) => {
    const socket = tls.connect({
      host,
      port,
      servername,
      ALPNProtocols: ['h2'],
      ca: t.serverRootCACertificate ? Buffer.from(t.serverRootCACertificate) : undefined,
      cert: t.clientCertPair ? Buffer.from(t.clientCertPair.crt) : undefined,
      key: t.clientCertPair ? Buffer.from(t.clientCertPair.key) : undefined,
      rejectUnauthorized: wanted,
      checkServerIdentity: (h, cert) => tls.checkServerIdentity(t.serverNameOverride ?? h, cert),
    });
    const done = (h: Handshake): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(h);
    };
    const timer = setTimeout(() => done({ kind: 'fine', detail: 'no answer' }), 3000);
    socket.once('secureConnect', () => {
      if (!wanted) return done({ kind: 'server-speaks-tls', detail: '' });
      // TLS 1.3: the server judges the client's certificate after the client's handshake is done,
      // so a refusal comes as an alert just after; a server that is content sends its settings.
      socket.once('data', () => done({ kind: 'fine', detail: '' }));
      socket.write(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00', 'latin1'));
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      const detail = tlsDetail(e);
      if (e.code === 'ECONNREFUSED' || e.code === 'EHOSTUNREACH' || e.code === 'ENOTFOUND' || e.code === 'ETIMEDOUT') return done({ kind: 'unreachable', detail });
      if (!wanted) return done({ kind: 'fine', detail });
      if (REFUSED.test(e.message)) return done({ kind: 'refused-by-server', detail });
      if (/wrong version number|packet length too long|unknown protocol|http request/i.test(e.message)) return done({ kind: 'server-speaks-plaintext', detail });
      if (e.code?.startsWith('ERR_TLS_CERT') || /certificate|self.signed|issuer|verify/i.test(e.message)) return done({ kind: 'server-not-trusted', detail });
      if (e.code === 'ECONNRESET') return done({ kind: 'server-speaks-plaintext', detail: 'the connection was closed during the handshake' });
      done({ kind: 'fine', detail });
    });
  });
}

/** OpenSSL's reason without its file and line: `tlsv13 alert certificate required`. */
function tlsDetail(e: NodeJS.ErrnoException): string {
  const ssl = /SSL routines:[^:]*:([^:]+):/.exec(e.message);
  return ssl ? ssl[1] : e.code ?? e.message;
}
