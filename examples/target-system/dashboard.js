'use strict';
// The dashboard feed of the api: every status change of a message (received, queued, rejected by
// the api; scored, failed by the worker, which publishes them on NATS subject dashboard.status)
// gets the next sequence number and is pushed over a WebSocket to every open dashboard.
//
//   ws://…/events?since=N   the events after sequence N still in the buffer (the last
//                           DASHBOARD_BUFFER, default 10000) first, then the live ones;
//                           without `since`, only the live ones
//   GET /events?since=N     the same events as JSON {latest, events}: what the api emitted
//   GET /dashboard          the page (dashboard-page.js)
//
// Frames are JSON: {type:'hello', latest, oldest} on connect, {type:'event', seq, id, status, at}
// per change, {type:'heartbeat', latest} every second, so that both ends notice a dead connection
// within a few seconds even when no message moves. An event older than the buffer is gone: the
// next one's sequence number shows the gap.
const { WebSocketServer } = require('ws');
const { log, sendJson } = require('./lib');

const BUFFER = Number(process.env.DASHBOARD_BUFFER ?? 10_000);
const HEARTBEAT_MS = 1000;

function sinceOf(url) {
  const since = new URL(url ?? '/', 'http://x').searchParams.get('since');
  return since === null || !/^\d+$/.test(since) ? undefined : Number(since);
}

/**
 * The feed: `emit(id, status)` records and pushes a change, `routes` are its HTTP routes for the
 * api's route table, `attach(server)` serves the WebSocket on the api's HTTP server.
 */
function createDashboard(page) {
  const events = [];
  let latest = 0;
  const wss = new WebSocketServer({ noServer: true });
  const after = (since) => events.filter((e) => e.seq > since);
  const send = (socket, frame) => socket.readyState === socket.OPEN && socket.send(JSON.stringify(frame));

  wss.on('connection', (socket, req) => {
    const since = sinceOf(req.url);
    send(socket, { type: 'hello', latest, oldest: events[0]?.seq ?? latest + 1 });
    const replay = since === undefined ? [] : after(since);
    for (const e of replay) send(socket, { type: 'event', ...e });
    log('dashboard-connected', { since: since ?? 'live', replayed: replay.length, clients: wss.clients.size });
    socket.on('close', () => log('dashboard-disconnected', { clients: wss.clients.size }));
    socket.on('error', (e) => log('dashboard-socket-error', { error: e.message }));
  });
  const heartbeat = setInterval(() => {
    for (const socket of wss.clients) send(socket, { type: 'heartbeat', latest });
  }, HEARTBEAT_MS);
  heartbeat.unref();

  function emit(id, status) {
    const event = { seq: ++latest, id, status, at: new Date().toISOString() };
    events.push(event);
    if (events.length > BUFFER) events.shift();
    for (const socket of wss.clients) send(socket, { type: 'event', ...event });
  }

  const routes = {
    'GET /dashboard': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(page) });
      res.end(page);
    },
    'GET /events': (req, res) => sendJson(res, 200, { latest, events: after(sinceOf(req.url) ?? 0) }),
  };
  function attach(server) {
    server.on('upgrade', (req, socket, head) => {
      if (new URL(req.url ?? '/', 'http://x').pathname !== '/events') return socket.destroy();
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });
  }
  return { emit, routes, attach };
}

module.exports = { createDashboard };
