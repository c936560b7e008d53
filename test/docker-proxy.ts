import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A unix-socket proxy to the real Docker engine that a test can cut and restore. */
export async function dockerProxy(): Promise<{ socketPath: string; cut(): Promise<void>; restore(): Promise<void> }> {
  const socketPath = path.join(await mkdtemp(path.join(os.tmpdir(), 'gameday-proxy-')), 'docker.sock');
  const open = new Set<net.Socket>();
  let server: net.Server | undefined;
  const restore = async (): Promise<void> => {
    if (server?.listening) return;
    await rm(socketPath, { force: true });
    server = net.createServer((client) => {
      const upstream = net.connect('/var/run/docker.sock');
      open.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = (): void => void [client, upstream].forEach((s) => (s.destroy(), open.delete(s)));
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((r) => server!.listen(socketPath, r));
  };
  const cut = async (): Promise<void> => {
    if (!server?.listening) return;
    // close() waits for open connections to end: end them first (keep-alive ones among them).
    const closed = new Promise<void>((r) => server!.close(() => r()));
    open.forEach((s) => s.destroy());
    await closed;
  };
  await restore();
  return { socketPath, cut, restore };
}
