/**
 * An HTTP endpoint the bench serves itself on 127.0.0.1, for probes and guardrails that cost the
 * system under test nothing: every path answers 200 until the bench flips it to another status
 * (and records when).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The bench's HTTP endpoint. */
export interface HttpTarget {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** From now on, `path` answers `status`; returns the moment of the flip (ms since the epoch). */
  flip(path: string, status: number): number;
  /** How many requests were answered. */
  requests(): number;
  close(): Promise<void>;
}

/** Starts the endpoint on a free port. */
export async function startHttpTarget(): Promise<HttpTarget> {
  const statuses = new Map<string, number>();
  let served = 0;
  const server = http.createServer((req, res) => {
    served++;
    res.writeHead(statuses.get(req.url ?? '') ?? 200, { 'content-type': 'text/plain', connection: 'keep-alive' });
    res.end('ok');
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    flip(path, status) {
      statuses.set(path, status);
      return Date.now();
    },
    requests: () => served,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
