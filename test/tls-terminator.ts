/**
 * A TLS terminator standing in for a secured cluster's frontend: it asks every client for a
 * certificate signed by the test CA (mutual TLS) and pipes the decrypted stream to the local
 * dev server. The certificates are made with openssl in a temporary folder.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The files of a test PKI: a CA, a server certificate for 127.0.0.1 and a client certificate, PEM. */
export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** A CA and two certificates it signs (P-256 keys), valid two days. */
export async function makeTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gameday-envconfig-pki-'));
  const f = (name: string): string => path.join(dir, name);
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...key, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=gameday-test-ca']);
  for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'], ['client', 'extendedKeyUsage=clientAuth\n']]) {
    await writeFile(f(`${name}.ext`), ext);
    await run('openssl', ['req', ...key, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=gameday-envconfig-${name}`]);
    await run('openssl', ['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${name}.pem`), '-days', '2', '-extfile', f(`${name}.ext`)]);
  }
  return { dir, caCert: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key') };
}

export interface TlsTerminator {
  /** host:port to give as TEMPORAL_ADDRESS. */
  address: string;
  /** Why the terminator refused handshakes (OpenSSL's reasons), oldest first. */
  refusals: string[];
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (a free port), requires a client certificate of the PKI's CA, forwards to `upstream`. */
export async function startTlsTerminator(pki: TestPki, upstream = { host: '127.0.0.1', port: 7233 }): Promise<TlsTerminator> {
  const refusals: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(
    { key: readFileSync(pki.serverKey), cert: readFileSync(pki.serverCert), ca: readFileSync(pki.caCert), requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'] },
    (client) => {
      const backend = net.connect(upstream);
      for (const s of [client, backend]) {
        sockets.add(s);
        s.once('close', () => sockets.delete(s));
      }
      client.pipe(backend).pipe(client);
      client.on('error', () => backend.destroy());
      backend.on('error', () => client.destroy());
    },
  );
  server.on('tlsClientError', (e) => refusals.push(/SSL routines:[^:]*:([^:]+):/.exec(e.message)?.[1] ?? e.message));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    refusals,
    close: () =>
      new Promise((resolve) => {
        sockets.forEach((s) => s.destroy());
        server.close(() => resolve());
      }),
  };
}

/** A gRPC gateway that lets only calls bearing one API key through; what it refused. */
export interface ApiKeyGateway {
  address: string;
  /** How many calls came without the key (wrong or none). */
  refused(): number;
  close(): Promise<void>;
}

/**
 * An HTTP/2 gateway over TLS (server certificate of the PKI) that checks each gRPC call's
 * `authorization: Bearer <key>` header, as a cluster with API keys does, answers UNAUTHENTICATED
 * when it is not `apiKey`, and forwards the others to the dev server.
 */
export async function startApiKeyGateway(pki: TestPki, apiKey: string, upstream = 'http://127.0.0.1:7233'): Promise<ApiKeyGateway> {
  const backend = http2.connect(upstream);
  backend.on('error', () => undefined);
  let refused = 0;
  const server = http2.createSecureServer({ key: readFileSync(pki.serverKey), cert: readFileSync(pki.serverCert) });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    if (headers.authorization !== `Bearer ${apiKey}`) {
      refused++;
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '16', 'grpc-message': 'API key missing or not valid' }, { endStream: true });
      return;
    }
    const forwarded: http2.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(headers)) if (k !== ':authority' && k !== ':scheme') forwarded[k] = v;
    const call = backend.request(forwarded);
    call.on('error', () => stream.destroy());
    stream.on('close', () => call.close());
    stream.pipe(call);
    let trailers: http2.IncomingHttpHeaders = {};
    call.on('trailers', (t) => (trailers = t));
    call.on('response', (h) => {
      // A trailers-only answer (an error) carries its grpc-status in the headers.
      if (h['grpc-status'] !== undefined) return stream.respond(h, { endStream: true });
      stream.respond(h, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers(withoutPseudo(trailers)));
      call.pipe(stream);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    refused: () => refused,
    close: () =>
      new Promise((resolve) => {
        backend.close();
        server.close(() => resolve());
      }),
  };
}

function withoutPseudo(h: http2.IncomingHttpHeaders): http2.OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(h).filter(([k]) => !k.startsWith(':')));
}
