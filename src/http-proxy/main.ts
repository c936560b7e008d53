/**
 * Runs Gameday's HTTP fault proxy as a process of its own: `gameday http-proxy --upstream URL
 * --listen HOST:PORT --admin HOST:PORT`, or the bundle (dist/bundle/http-proxy.js) with the same
 * arguments, which is how a worker starts one in front of a dependency and how the demo system's
 * scoring-proxy container runs it. One JSON line per event on stdout; ends on SIGTERM or SIGINT.
 */
import { startFaultProxy, type FaultProxy } from './server';

/** "127.0.0.1:18099" → { host, port }, or an error naming the option. */
export function parseAddress(option: string, value: string | undefined): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(value ?? '');
  const port = Number(m?.[2]);
  if (!m || port > 65_535) throw new Error(`${option}: expected host:port such as 127.0.0.1:18099, got '${value ?? ''}'`);
  return { host: m[1].replace(/^\[(.*)\]$/, '$1'), port };
}

/** The proxy's options from its arguments (--upstream, --listen, --admin). */
export function proxyArgs(argv: string[]): { upstream: string; listen: { host: string; port: number }; admin: { host: string; port: number } } {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
  };
  const upstream = get('--upstream');
  if (!upstream || !/^https?:\/\//.test(upstream)) throw new Error(`--upstream: expected the dependency's URL such as http://127.0.0.1:8082, got '${upstream ?? ''}'`);
  return { upstream, listen: parseAddress('--listen', get('--listen')), admin: parseAddress('--admin', get('--admin')) };
}

/** Starts the proxy from arguments and keeps it running until a signal. */
export async function runFaultProxy(argv: string[]): Promise<FaultProxy> {
  const proxy = await startFaultProxy({ ...proxyArgs(argv), log: (event, fields) => process.stdout.write(JSON.stringify({ at: new Date().toISOString(), event, ...fields }) + '\n') });
  const stop = (): void => void proxy.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return proxy;
}
