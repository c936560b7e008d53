'use strict';
// What the three services share: configuration from the environment, JSON over plain node:http,
// the PostgreSQL schema, the JetStream stream and consumer, and one-line logs.
const http = require('node:http');

/** Configuration from the environment; the defaults are the addresses inside the demo network. */
const config = {
  databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@toxiproxy:5432/postgres',
  natsUrl: process.env.NATS_URL ?? 'nats://toxiproxy:4222',
  scoringUrl: process.env.SCORING_URL ?? 'http://toxiproxy:8082',
  stream: 'tasks',
  subject: 'tasks.scoring',
  /** Core NATS (outside the stream): the worker's status changes, for the api's dashboard feed. */
  statusSubject: 'dashboard.status',
  consumer: 'scorer',
  publishTimeoutMs: Number(process.env.PUBLISH_TIMEOUT_MS ?? 10_000),
  scoringTimeoutMs: Number(process.env.SCORING_TIMEOUT_MS ?? 2_000),
  scoringAttempts: Number(process.env.SCORING_ATTEMPTS ?? 3),
  /**
   * DEMO_BUILD=resilient switches on the remediations the reports recommend (api: outbox.js,
   * worker: scoring-client.js, both: a bounded pool); anything else is the weak build the
   * experiments are written to find.
   */
  resilient: process.env.DEMO_BUILD === 'resilient',
};

/** One line per event, `key=value` pairs after the event name, for log probes to match. */
function log(event, fields = {}) {
  const pairs = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : v}`);
  process.stdout.write(`${new Date().toISOString()} ${event} ${pairs.join(' ')}\n`.replace(/ \n$/, '\n'));
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Retries `attempt` every second until it succeeds: services start before their dependencies answer. */
async function retryForever(what, attempt) {
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      log('waiting', { for: what, error: e.message });
      await sleep(1000);
    }
  }
}

/** Reads a JSON body (at most 64 KiB); rejects with a 400-worthy message when it is not JSON. */
function readJson(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
      if (body.length > 65_536) reject(new Error('body larger than 64 KiB'));
    });
    req.on('end', () => {
      try {
        resolve(body === '' ? {} : JSON.parse(body));
      } catch {
        reject(new Error('body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

function sendJson(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * An HTTP server from a route table `{ 'POST /webhook': handler }`; a path segment `:id` matches any
 * value, passed to the handler as `params.id`. A handler that throws answers 500.
 */
function serve(port, routes) {
  const table = Object.entries(routes).map(([key, handler]) => {
    const [method, pattern] = key.split(' ');
    return { method, parts: pattern.split('/'), handler };
  });
  const server = http.createServer((req, res) => {
    const parts = new URL(req.url ?? '/', 'http://x').pathname.split('/');
    for (const route of table) {
      if (route.method !== req.method || route.parts.length !== parts.length) continue;
      const params = {};
      if (!route.parts.every((p, i) => (p.startsWith(':') ? ((params[p.slice(1)] = parts[i]), true) : p === parts[i]))) continue;
      Promise.resolve(route.handler(req, res, params)).catch((e) => sendJson(res, 500, { error: e.message }));
      return;
    }
    sendJson(res, 404, { error: `no route ${req.method} ${parts.join('/')}` });
  });
  server.listen(port, '0.0.0.0');
  return server;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS messages (
  id bigserial PRIMARY KEY,
  text text NOT NULL,
  status text NOT NULL DEFAULT 'received',
  score double precision,
  attempts integer NOT NULL DEFAULT 0,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS scorings (
  id bigserial PRIMARY KEY,
  message_id bigint NOT NULL,
  delivery integer NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  outcome text,
  score double precision
)`;

/**
 * A connection pool, once the database answers and its tables exist: `messages`, and `scorings`,
 * one row per delivery the worker began to score (finished_at and outcome stay empty when it died
 * first), so that a query tells whether a message was scored once. The resilient build bounds the
 * wait for a connection (1 s) and for a query's answer (2 s), well within a caller's 5 s patience:
 * a slow database is an error it can answer 503 for, not a hung request.
 */
async function connectDatabase() {
  const { Pool } = require('pg');
  const bounds = config.resilient ? { connectionTimeoutMillis: 1000, query_timeout: 2000 } : { connectionTimeoutMillis: 3000 };
  const pool = new Pool({ connectionString: config.databaseUrl, max: 5, ...bounds });
  // A backend terminated by an experiment emits 'error' on an idle client: log it, do not crash.
  pool.on('error', (e) => log('database-error', { error: e.message }));
  await retryForever('postgres', () => pool.query(SCHEMA));
  return pool;
}

/** A NATS connection that reconnects forever, once the `tasks` stream exists. */
async function connectNats(name) {
  const { connect, AckPolicy, RetentionPolicy } = require('nats');
  const nc = await retryForever('nats', () => connect({ servers: config.natsUrl, name, maxReconnectAttempts: -1, reconnectTimeWait: 500, timeout: 2000 }));
  (async () => {
    for await (const s of nc.status()) if (s.type === 'disconnect' || s.type === 'reconnect') log(`nats-${s.type}`, { server: String(s.data) });
  })().catch(() => undefined);
  const jsm = await retryForever('jetstream', () => nc.jetstreamManager({ timeout: 2000 }));
  await retryForever('stream tasks', async () => {
    const exists = await jsm.streams.info(config.stream).then(() => true, () => false);
    if (!exists) await jsm.streams.add({ name: config.stream, subjects: ['tasks.>'], retention: RetentionPolicy.Limits });
    const hasConsumer = await jsm.consumers.info(config.stream, config.consumer).then(() => true, () => false);
    if (!hasConsumer) {
      await jsm.consumers.add(config.stream, { durable_name: config.consumer, ack_policy: AckPolicy.Explicit, filter_subject: config.subject, ack_wait: 30_000_000_000 });
    }
  });
  return nc;
}

module.exports = { config, log, sleep, readJson, sendJson, serve, connectDatabase, connectNats };
