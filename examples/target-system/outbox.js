'use strict';
// The resilient build's webhook (DEMO_BUILD=resilient; api.js uses it instead of its own handler):
// the remediation chaos-001 recommends. The handler answers as soon as the message is stored: the
// row and its outbox entry are written in one statement (one transaction), then 202. A relay
// publishes the outbox to JetStream in the background, with the Nats-Msg-Id `message-<id>`, so a
// publish retried after a timeout (the broker may have stored the first) is deduplicated by
// JetStream; only then is the row `queued` and the entry removed. A paused or slow broker delays
// scoring; it no longer fails or holds a webhook.
//
// A database slower than the pool's bounds (lib.js) is answered 503 with Retry-After at once
// (chaos-005), instead of a 500 after the caller has given up.
const { config, log, readJson, sendJson, sleep } = require('./lib');

const OUTBOX = `CREATE TABLE IF NOT EXISTS outbox (
  message_id bigint PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now()
)`;

/** The row and its outbox entry, atomically: a data-modifying CTE is one statement. */
const ACCEPT = `WITH m AS (INSERT INTO messages (text) VALUES ($1) RETURNING id)
INSERT INTO outbox (message_id) SELECT id FROM m RETURNING message_id`;

/** Errors of the pool's bounds: the database is too slow to answer within the caller's patience. */
function isDatabaseTooSlow(e) {
  return /timeout|timed out|Connection terminated/i.test(e.message);
}

/**
 * Starts the relay and returns the POST /webhook handler. `counters` gets `webhooksAccepted`,
 * `webhooksRejected`, `webhooksDeferred` (503: database too slow) and `publishFailures` (retried).
 */
async function outboxWebhook(db, js, counters) {
  await db.query(OUTBOX);
  counters.webhooksDeferred = 0;
  const relay = startRelay(db, js, counters);
  return async (req, res) => {
    const body = await readJson(req).catch((e) => ({ invalid: e.message }));
    if (typeof body.text !== 'string' || body.text.trim() === '') {
      counters.webhooksRejected++;
      return sendJson(res, 400, { error: body.invalid ?? 'text: a non-empty string is required' });
    }
    let id;
    try {
      id = Number((await db.query(ACCEPT, [body.text])).rows[0].message_id);
    } catch (e) {
      if (!isDatabaseTooSlow(e)) throw e;
      counters.webhooksDeferred++;
      log('deferred', { error: e.message });
      res.setHeader('retry-after', '5');
      return sendJson(res, 503, { error: `the database is slow, retry later: ${e.message}` });
    }
    counters.webhooksAccepted++;
    log('accepted', { id, via: 'outbox' });
    sendJson(res, 202, { id });
    relay.wake();
  };
}

/** Publishes the outbox, oldest first, whenever woken and at least every second; retries what failed. */
function startRelay(db, js, counters) {
  let wake = () => undefined;
  const woken = () => new Promise((resolve) => {
    wake = resolve;
    setTimeout(resolve, 1000);
  });
  (async () => {
    for (;;) {
      await woken();
      try {
        const { rows } = await db.query('SELECT message_id FROM outbox ORDER BY message_id LIMIT 100');
        for (const { message_id } of rows) {
          const id = Number(message_id);
          await js.publish(config.subject, JSON.stringify({ id }), { msgID: `message-${id}` });
          await db.query("WITH sent AS (DELETE FROM outbox WHERE message_id = $1) UPDATE messages SET status = 'queued', updated_at = now() WHERE id = $1 AND status = 'received'", [id]);
        }
      } catch (e) {
        counters.publishFailures++;
        log('relay-retrying', { error: e.message });
        await sleep(500);
      }
    }
  })();
  return { wake: () => wake() };
}

module.exports = { outboxWebhook };
