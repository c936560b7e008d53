/**
 * The websocket probe against a real WebSocket server in this process (the ws package): a feed
 * that numbers its events and replays those after `?since=N`, as the demo dashboard's does, and
 * that a test can make forget events or drop every connection.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { closeWebsockets, probeWebsocket, type WebsocketProbe } from '../../src/probes/websocket';

describe('the websocket probe', () => {
  let server: WebSocketServer;
  let url: string;
  let seq = 0;
  let replay = true;
  const connections: string[] = [];

  const emit = (n = 1): void => {
    for (let i = 0; i < n; i++) {
      seq++;
      for (const c of server.clients) c.send(JSON.stringify({ type: 'event', seq }));
    }
  };

  before(async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => server.once('listening', r));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
    server.on('connection', (socket, req) => {
      connections.push(req.url ?? '');
      const since = new URL(req.url ?? '/', 'http://x').searchParams.get('since');
      socket.send(JSON.stringify({ type: 'hello', latest: seq }));
      if (since !== null && replay) for (let s = Number(since) + 1; s <= seq; s++) socket.send(JSON.stringify({ type: 'event', seq: s }));
    });
  });
  beforeEach(() => {
    closeWebsockets();
    connections.length = 0;
    replay = true;
  });
  after(async () => {
    closeWebsockets();
    await new Promise((r) => server.close(r));
  });

  const probe = (extra: Partial<WebsocketProbe> = {}): WebsocketProbe => ({ kind: 'websocket', url, window: '200ms', sequence: 'seq', resume: 'since', ...extra });
  const run = { baselineStartedAt: new Date().toISOString() };

  test('A sample measures its connect time and the messages that came within its window.', async () => {
    server.once('connection', () => setTimeout(() => emit(3), 20));
    const m = await probeWebsocket(probe(), 1000, run);
    assert.equal(m.connected, true);
    assert.equal(typeof m.connectMs, 'number');
    assert.equal(m.messages, 4, 'the hello and three events');
    assert.ok(Number(m.firstMessageMs) < 200);
    assert.deepEqual([m.reconnects, m.drops, m.missed, m.lastSeq], [0, 0, 0, seq]);
  });

  test('Samples of one run share the connection: no reconnect while it stays open.', async () => {
    await probeWebsocket(probe(), 1000, run);
    emit(2);
    const m = await probeWebsocket(probe(), 1000, run);
    assert.equal(connections.length, 1);
    assert.deepEqual([m.reconnects, m.drops, m.missed, m.lastSeq], [0, 0, 0, seq]);
  });

  test('A dropped connection is reopened by the next sample with the last sequence seen, and what it missed is replayed.', async () => {
    await probeWebsocket(probe(), 1000, run);
    emit(1);
    await new Promise((r) => setTimeout(r, 50));
    const seen = seq;
    for (const c of server.clients) c.terminate();
    await new Promise((r) => setTimeout(r, 50));
    emit(4); // while no probe is connected
    const m = await probeWebsocket(probe(), 1000, run);
    assert.deepEqual(connections, [url.slice(url.indexOf('/events')), `/events?since=${seen}`]);
    assert.deepEqual([m.connected, m.reconnects, m.drops, m.missed, m.lastSeq], [true, 1, 1, 0, seq]);
  });

  test('Events neither sent live nor replayed count as missed.', async () => {
    replay = false;
    await probeWebsocket(probe(), 1000, run);
    emit(1);
    await new Promise((r) => setTimeout(r, 50));
    for (const c of server.clients) c.terminate();
    await new Promise((r) => setTimeout(r, 50));
    emit(4);
    setTimeout(() => emit(1), 50);
    const m = await probeWebsocket(probe(), 1000, run);
    assert.equal(m.missed, 4);
  });

  test('A connect that fails is the sample\'s error, naming the URL.', async () => {
    await assert.rejects(probeWebsocket(probe({ url: 'ws://127.0.0.1:9/events' }), 500, run), /could not connect to ws:\/\/127\.0\.0\.1:9\/events: .*ECONNREFUSED/);
  });

  test('A fresh connection per sample is closed after it: the server is left with none.', async () => {
    const m = await probeWebsocket(probe({ connection: 'fresh' }), 1000, run);
    assert.equal(m.connected, true);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(server.clients.size, 0);
  });
});
