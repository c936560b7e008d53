import { createServer, type ServerResponse } from 'node:http';

/** What a receiver does with its n-th request (1-based): answer with a status, or never answer. */
export type Answer = number | 'hang';

/** One request a receiver got: when, and its JSON body. */
export interface Received {
  at: number;
  body: Record<string, unknown>;
}

/**
 * A local webhook receiver on 127.0.0.1: records every POST and answers as `answer` says.
 * `onRequest` runs as each one arrives (a test can act at that moment).
 */
export async function startReceiver(answer: (n: number) => Answer = () => 200, onRequest?: (r: Received) => void): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      const r = { at: Date.now(), body: JSON.parse(data || '{}') as Record<string, unknown> };
      received.push(r);
      onRequest?.(r);
      const a = answer(received.length);
      if (a === 'hang') hanging.add(res);
      else res.writeHead(a).end(a < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks/T000/B000/SECRET`,
    received,
    close: async () => {
      hanging.forEach((res) => res.destroy());
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
