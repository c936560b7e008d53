/**
 * Gameday's HTTP fault proxy: a reverse proxy (http-proxy-3) in front of one HTTP dependency, whose
 * clients are pointed at its listen address, and an admin API on an address of its own through
 * which Gameday adds and removes fault rules by tag, as Toxiproxy's API does toxics:
 *
 *     GET    /proxy        { kind: 'gameday-http-proxy', upstream, listen, pid, rules }
 *     GET    /rules        the rules in place
 *     PUT    /rules/:tag   sets the rule named by a fault's tag (idempotent; see RuleBody)
 *     DELETE /rules/:tag   removes it; 404 when there is none
 *
 * Requests that no rule acts on pass through unchanged. A rule carries its self-limit (ttlMs): it
 * ends by itself then, whatever happens to the Gameday worker that set it. Rules live in memory:
 * a proxy that restarts has none.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProxyServer } from 'http-proxy-3';
import { parseRule, ruleFor, type ProxyRule } from './rules';

/** What `GET /proxy` answers: how Gameday knows it found a fault proxy, and which. */
export interface ProxyInfo {
  kind: 'gameday-http-proxy';
  upstream: string;
  /** host:port it proxies on. */
  listen: string;
  pid: number;
  rules: ProxyRule[];
}

export interface FaultProxyOptions {
  /** The dependency's base URL: http://scoring:8082. */
  upstream: string;
  /** Where clients reach the dependency through the proxy. Port 0: any free one. */
  listen: { host: string; port: number };
  /** Where the admin API listens. Port 0: any free one. */
  admin: { host: string; port: number };
  /** One line per event (rules set, removed, ended by themselves). @default nothing */
  log?: (event: string, fields: Record<string, unknown>) => void;
}

/** A running fault proxy. */
export interface FaultProxy {
  /** host:port of the proxy and of its admin API, with the ports actually bound. */
  listen: string;
  admin: string;
  rules: Map<string, ProxyRule>;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

function listening(server: Server, at: { host: string; port: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve(`${at.host}:${(server.address() as AddressInfo).port}`);
    });
  });
}

/** Starts a fault proxy; it runs until `close`. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const log = options.log ?? (() => {});
  const rules = new Map<string, ProxyRule>();
  const timers = new Map<string, NodeJS.Timeout>();
  const upstream = new URL(options.upstream);
  const proxy = createProxyServer({ target: upstream.href, xfwd: true });
  /** Bytes to pass of a response a truncate rule acts on. */
  const truncated = new WeakMap<IncomingMessage, number>();

  proxy.on('error', (e, _req, res) => {
    if (!('writeHead' in res)) return void res.destroy();
    if (res.headersSent) return void res.destroy();
    send(res, 502, { error: `the fault proxy could not reach ${upstream.origin}: ${e.message}` });
  });
  proxy.on('proxyRes', (proxyRes, req, res) => {
    const bytes = truncated.get(req);
    if (bytes === undefined) return;
    // The upstream's status and headers (its content-length among them), then only `bytes` of
    // the body, then the connection is cut: the client sees a body that ends early.
    res.writeHead(proxyRes.statusCode ?? 502, proxyRes.headers);
    let left = bytes;
    const cut = (): void => {
      proxyRes.destroy();
      res.socket?.destroy();
    };
    if (left === 0) return void res.flushHeaders(), setImmediate(cut);
    proxyRes.on('data', (chunk: Buffer) => {
      if (left <= 0) return;
      res.write(chunk.subarray(0, left));
      left -= chunk.length;
      if (left <= 0) setImmediate(cut);
    });
    proxyRes.on('end', () => setImmediate(cut));
  });

  const forward = (req: IncomingMessage, res: ServerResponse, truncateTo?: number): void => {
    if (truncateTo !== undefined) truncated.set(req, truncateTo);
    proxy.web(req, res, { selfHandleResponse: truncateTo !== undefined });
  };

  const server = createServer((req, res) => {
    const rule = ruleFor(rules.values(), req.method ?? 'GET', req.url ?? '/');
    if (!rule) return forward(req, res);
    const a = rule.action;
    switch (a.type) {
      case 'error':
        return send(res, a.status, { error: `injected by Gameday's fault proxy (${rule.tag}): ${a.status}` }, { 'x-gameday-fault': rule.tag, ...(a.retryAfterSeconds === undefined ? {} : { 'retry-after': String(a.retryAfterSeconds) }) });
      case 'delay': {
        const timer = setTimeout(() => forward(req, res), a.delayMs);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      case 'drop':
        return void req.socket.destroy();
      case 'truncate':
        return forward(req, res, a.bytes);
    }
  });

  const remove = (tag: string): boolean => {
    clearTimeout(timers.get(tag));
    timers.delete(tag);
    return rules.delete(tag);
  };

  const listen = await listening(server, options.listen);
  const info = (): ProxyInfo => ({ kind: 'gameday-http-proxy', upstream: upstream.href, listen, pid: process.pid, rules: [...rules.values()] });

  const admin = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    const tag = /^\/rules\/([^/]+)$/.exec(url.pathname)?.[1];
    const route = `${req.method} ${tag === undefined ? url.pathname : '/rules/:tag'}`;
    void (async () => {
      switch (route) {
        case 'GET /proxy':
          return send(res, 200, info());
        case 'GET /rules':
          return send(res, 200, { rules: [...rules.values()] });
        case 'PUT /rules/:tag': {
          const rule = parseRule(decodeURIComponent(tag!), await readBody(req).catch(() => undefined));
          if (typeof rule === 'string') return send(res, 400, { error: rule });
          remove(rule.tag);
          rules.set(rule.tag, rule);
          timers.set(rule.tag, setTimeout(() => remove(rule.tag) && log('rule-ended-by-itself', { tag: rule.tag }), rule.ttlMs).unref());
          log('rule-set', { ...rule });
          return send(res, 200, { rule });
        }
        case 'DELETE /rules/:tag': {
          const name = decodeURIComponent(tag!);
          if (!remove(name)) return send(res, 404, { error: `no rule ${name}`, rule: null });
          log('rule-removed', { tag: name });
          return send(res, 200, { removed: name });
        }
        default:
          return send(res, 404, { error: `no route ${route}` });
      }
    })().catch((e: Error) => send(res, 500, { error: e.message }));
  });
  const adminAddress = await listening(admin, options.admin).catch(async (e: Error) => {
    await new Promise((r) => server.close(r));
    throw e;
  });
  log('fault-proxy-listening', { upstream: upstream.href, listen, admin: adminAddress });

  return {
    listen,
    admin: adminAddress,
    rules,
    async close() {
      for (const tag of [...rules.keys()]) remove(tag);
      server.closeAllConnections();
      admin.closeAllConnections();
      await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => admin.close(r))]);
      proxy.close();
    },
  };
}
