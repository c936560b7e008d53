/**
 * A small reader of the Prometheus text exposition format (what /metrics serves), for tests that
 * scrape a worker: every sample line as a name, its labels and its value.
 */
import net from 'node:net';

export interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses an exposition; comments (# HELP, # TYPE) and blank lines are skipped, anything else unreadable throws. */
export function parseExposition(text: string): Series[] {
  return text
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => {
      const m = LINE.exec(l.trim());
      if (!m) throw new Error(`not a Prometheus sample line: ${l}`);
      const labels: Record<string, string> = {};
      for (const [, k, v] of (m[2] ?? '').matchAll(LABEL)) labels[k] = v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      return { name: m[1], labels, value: Number(m[3]) };
    });
}

/** The value of the one series of that name whose labels include `labels`; undefined when none. */
export function valueOf(series: Series[], name: string, labels: Record<string, string> = {}): number | undefined {
  return series.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

/** GET /metrics at `address` (ip:port), parsed. */
export async function scrape(address: string): Promise<Series[]> {
  const res = await fetch(`http://${address}/metrics`);
  if (!res.ok) throw new Error(`GET http://${address}/metrics answered ${res.status}`);
  return parseExposition(await res.text());
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick, above 20000 here). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}
