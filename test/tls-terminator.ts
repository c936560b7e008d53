/**
 * A TLS terminator standing in for a secured cluster's frontend: it asks every client for a
 * certificate signed by the test CA (mutual TLS) and pipes the decrypted stream to the local
 * dev server. The certificates are made with openssl in a temporary folder.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
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
