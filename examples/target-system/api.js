'use strict';
// The webhook API: POST /webhook {text} stores the message in PostgreSQL, publishes its id to
// JetStream (subject tasks.scoring), then answers 202 {id}. Every status change of a message (its
// own, and the worker's on NATS subject dashboard.status) goes to the dashboard feed
// (dashboard.js: a WebSocket at /events, the page at /dashboard).
//
// Its known weakness, kept on purpose for the experiments to find (METHOD.md, chaos-001): the
// handler awaits the JetStream publish acknowledgement before it answers. While NATS is paused or
// slow, every webhook waits up to PUBLISH_TIMEOUT_MS (10 s) and then answers 503: a caller that
// gives up after 5 s sees a timeout. The remediation is to answer first and enqueue in the background:
// the resilient build (DEMO_BUILD=resilient) does, with an outbox (outbox.js).
const { config, log, readJson, sendJson, serve, connectDatabase, connectNats } = require('./lib');
const { createDashboard } = require('./dashboard');
const { PAGE } = require('./dashboard-page');

const PORT = Number(process.env.PORT ?? 8081);
const counters = { webhooksAccepted: 0, webhooksRejected: 0, publishFailures: 0 };

async function main() {
  const db = await connectDatabase();
  const nc = await connectNats('api');
  const js = nc.jetstream({ timeout: config.publishTimeoutMs });
  const dashboard = createDashboard(PAGE);
  nc.subscribe(config.statusSubject, {
    callback: (err, m) => {
      if (err) return log('status-subscription-error', { error: err.message });
      try {
        const { id, status } = JSON.parse(m.string());
        dashboard.emit(id, status);
      } catch (e) {
        log('status-unreadable', { error: e.message });
      }
    },
  });
  const resilientWebhook = config.resilient ? await require('./outbox').outboxWebhook(db, js, counters) : undefined;
  log('api-build', { build: config.resilient ? 'resilient' : 'weak' });

  const server = serve(PORT, {
    ...dashboard.routes,
    'GET /health': async (_req, res) => {
      await db.query('SELECT 1');
      sendJson(res, 200, { status: 'ok', nats: nc.isClosed() ? 'closed' : 'connected' });
    },
    'GET /metrics': (_req, res) => sendJson(res, 200, counters),
    'GET /messages/:id': async (_req, res, { id }) => {
      if (!/^\d+$/.test(id)) return sendJson(res, 400, { error: 'id must be a number' });
      const { rows } = await db.query('SELECT id, text, status, score, attempts, error, created_at, updated_at FROM messages WHERE id = $1', [id]);
      if (rows.length === 0) return sendJson(res, 404, { error: `no message ${id}` });
      sendJson(res, 200, { ...rows[0], id: Number(rows[0].id) });
    },
    'POST /webhook': async (req, res) => {
      if (resilientWebhook) return resilientWebhook(req, res);
      const body = await readJson(req).catch((e) => ({ invalid: e.message }));
      if (typeof body.text !== 'string' || body.text.trim() === '') {
        counters.webhooksRejected++;
        return sendJson(res, 400, { error: body.invalid ?? 'text: a non-empty string is required' });
      }
      const { rows } = await db.query('INSERT INTO messages (text) VALUES ($1) RETURNING id', [body.text]);
      const id = Number(rows[0].id);
      dashboard.emit(id, 'received');
      try {
        // The weakness: awaited before answering (see the top of this file).
        await js.publish(config.subject, JSON.stringify({ id }), { msgID: `message-${id}` });
      } catch (e) {
        counters.publishFailures++;
        // The caller is told it failed; the row says so. (Whether the broker stored the publish
        // anyway is what chaos-001 finds out.)
        await db.query("UPDATE messages SET status = 'rejected', error = $2, updated_at = now() WHERE id = $1 AND status = 'received'", [id, `queueing failed: ${e.message}`]);
        dashboard.emit(id, 'rejected');
        log('publish-failed', { id, error: e.message });
        return sendJson(res, 503, { id, error: `queueing failed: ${e.message}` });
      }
      await db.query("UPDATE messages SET status = 'queued', updated_at = now() WHERE id = $1 AND status = 'received'", [id]);
      dashboard.emit(id, 'queued');
      counters.webhooksAccepted++;
      log('accepted', { id });
      sendJson(res, 202, { id });
    },
  });
  dashboard.attach(server);
  log('api-listening', { port: PORT });
}

main().catch((e) => {
  log('api-crashed', { error: e.message });
  process.exit(1);
});
