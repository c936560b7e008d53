'use strict';
// The worker: a durable JetStream pull consumer (`scorer` on stream `tasks`). For each message it
// calls the scoring service (timeout SCORING_TIMEOUT_MS, SCORING_ATTEMPTS attempts with backoff),
// writes the score (status `scored`) or the failure (status `failed`) to the row, then acks.
// A message whose row cannot be written is not acked (nak with a delay): JetStream redelivers it.
// Each scored or failed row is announced on NATS subject dashboard.status (the api's dashboard).
// One log line per message: `scored id=… score=… attempts=… delivery=… was=…` or `failed id=… attempts=… error=…`.
// The resilient build (DEMO_BUILD=resilient) scores through scoring-client.js instead: backoff on
// 429 honouring Retry-After, a circuit breaker on 5xx, and `deferred id=…` (nak with a delay)
// where this one marks the message failed.
// Each delivery it begins to score is a row of `scorings` (message_id, delivery), finished with
// its outcome once the message's row is written: a row left unfinished is a scoring cut short.
const { config, log, sleep, sendJson, serve, connectDatabase, connectNats } = require('./lib');

const PORT = Number(process.env.PORT ?? 8083);
const counters = { scored: 0, failed: 0, redelivered: 0, retriedLater: 0 };

/** Asks the scoring service; returns the score, or throws after the last attempt with the last error. */
async function score(text) {
  let lastError;
  for (let attempt = 1; attempt <= config.scoringAttempts; attempt++) {
    try {
      const res = await fetch(`${config.scoringUrl}/score`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
        signal: AbortSignal.timeout(config.scoringTimeoutMs),
      });
      if (!res.ok) throw new Error(`scoring answered ${res.status}`);
      const body = await res.json();
      return { score: body.score, attempts: attempt };
    } catch (e) {
      lastError = e;
      if (attempt < config.scoringAttempts) await sleep(200 * 2 ** (attempt - 1));
    }
  }
  const error = new Error(lastError.name === 'TimeoutError' ? `timed out after ${config.scoringTimeoutMs} ms` : lastError.message);
  error.attempts = config.scoringAttempts;
  throw error;
}

/** Tells the api's dashboard; never fails the message (the row is written, the dashboard is extra). */
function announce(nc, id, status) {
  try {
    nc.publish(config.statusSubject, JSON.stringify({ id, status }));
  } catch (e) {
    log('announce-failed', { id, error: e.message });
  }
}

async function handle(db, nc, m) {
  const { id } = JSON.parse(m.string());
  if (m.info.redeliveryCount > 1) counters.redelivered++;
  const started = Date.now();
  const { rows } = await db.query('SELECT text, status FROM messages WHERE id = $1', [id]);
  if (rows.length === 0) {
    log('skipped', { id, reason: 'no such row' });
    return m.ack();
  }
  const scoring = (await db.query('INSERT INTO scorings (message_id, delivery) VALUES ($1, $2) RETURNING id', [id, m.info.redeliveryCount])).rows[0].id;
  const finish = (outcome, value) => db.query('UPDATE scorings SET finished_at = now(), outcome = $2, score = $3 WHERE id = $1', [scoring, outcome, value]);
  try {
    const result = config.resilient ? await require('./scoring-client').score(rows[0].text, m.info.redeliveryCount) : await score(rows[0].text);
    await db.query("UPDATE messages SET status = 'scored', score = $2, attempts = $3, error = NULL, updated_at = now() WHERE id = $1", [id, result.score, result.attempts]);
    await finish('scored', result.score);
    counters.scored++;
    announce(nc, id, 'scored');
    // `was`: the row's status before; `rejected` means the api told the caller it failed.
    log('scored', { id, score: result.score, attempts: result.attempts, ms: Date.now() - started, delivery: m.info.redeliveryCount, was: rows[0].status });
  } catch (e) {
    if (e.deferMs !== undefined) {
      await finish('deferred', null);
      log('deferred', { id, attempts: e.attempts, error: e.message, retryInMs: e.deferMs, delivery: m.info.redeliveryCount });
      return m.nak(e.deferMs);
    }
    if (e.attempts === undefined) throw e; // the database, not the scoring service: redeliver later
    await db.query("UPDATE messages SET status = 'failed', attempts = $2, error = $3, updated_at = now() WHERE id = $1", [id, e.attempts, e.message]);
    await finish('failed', null);
    counters.failed++;
    announce(nc, id, 'failed');
    log('failed', { id, attempts: e.attempts, error: e.message, ms: Date.now() - started });
  }
  m.ack();
}

async function main() {
  const db = await connectDatabase();
  const nc = await connectNats('worker');
  serve(PORT, {
    'GET /health': (_req, res) => sendJson(res, 200, { status: 'ok', nats: nc.isClosed() ? 'closed' : 'connected' }),
    'GET /metrics': (_req, res) => sendJson(res, 200, counters),
  });
  log('worker-listening', { port: PORT, stream: config.stream, consumer: config.consumer, build: config.resilient ? 'resilient' : 'weak' });
  const js = nc.jetstream();
  for (;;) {
    try {
      const consumer = await js.consumers.get(config.stream, config.consumer);
      const messages = await consumer.consume({ max_messages: 10 });
      for await (const m of messages) {
        await handle(db, nc, m).catch((e) => {
          counters.retriedLater++;
          log('retry-later', { subject: m.subject, error: e.message });
          m.nak(5000);
        });
      }
    } catch (e) {
      log('consume-error', { error: e.message });
    }
    await sleep(1000);
  }
}

main().catch((e) => {
  log('worker-crashed', { error: e.message });
  process.exit(1);
});
