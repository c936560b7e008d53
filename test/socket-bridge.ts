/**
 * A byte-for-byte relay from one socket address to another: `node socket-bridge.js LISTEN CONNECT`,
 * each `host:port` or a unix socket path (starting with /). It prints `listening` once it
 * accepts connections.
 *
 * Why: an agent in a network namespace of its own (test/second-host.ts) cannot reach the Temporal
 * dev server on the machine's 127.0.0.1:7233 (inside, 127.0.0.1 is the namespace's loopback),
 * and the dev server listens on loopback only. The file system is shared, so two relays meet at a
 * unix socket: one outside (unix socket → 127.0.0.1:7233), one inside the namespace
 * (127.0.0.1:7233 → the unix socket). The agent then uses the default address, as on a real host.
 */
import net from 'node:net';
import { rmSync } from 'node:fs';

function address(a: string): net.NetConnectOpts & net.ListenOptions {
  if (a.startsWith('/')) return { path: a };
  const i = a.lastIndexOf(':');
  return { host: a.slice(0, i), port: Number(a.slice(i + 1)) };
}

/** Relays every connection accepted on `listen` to a new connection to `connect`. */
export function bridge(listen: string, connect: string): net.Server {
  const server = net.createServer((inbound) => {
    const outbound = net.connect(address(connect));
    inbound.pipe(outbound).pipe(inbound);
    const end = (): void => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', end).on('close', end);
    outbound.on('error', end).on('close', end);
  });
  if (listen.startsWith('/')) rmSync(listen, { force: true });
  return server.listen(address(listen));
}

if (require.main === module) {
  const [listen, connect] = process.argv.slice(2);
  bridge(listen, connect).once('listening', () => process.stdout.write('listening\n'));
}
