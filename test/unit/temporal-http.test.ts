import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { fromPayload, TemporalHttp, TemporalHttpUnreachable, toPayload } from '../../src/cli/temporal-http';
import { freePort } from '../prometheus';

test('a payload keeps what JSON holds, empty lists and objects included (the API\'s shorthand made them null)', () => {
  const value = { recent: [], lastProbes: {}, n: 0, s: '', nested: { list: [[]] } };
  assert.deepEqual(fromPayload(toPayload(value)), value);
  assert.equal(fromPayload(toPayload(undefined)), undefined);
});

/** A stand-in for Temporal's HTTP API (a restarting dev server cannot be had here without taking the suite's down): it answers the close-event long poll with a completed run. */
function standIn(port: number, result: unknown): Promise<Server> {
  const server = createServer((req, res) => {
    assert.match(req.url ?? '', /\/api\/v1\/namespaces\/default\/workflows\/wf-1\/history\?.*HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT/);
    const event = { eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED', workflowExecutionCompletedEventAttributes: { result: { payloads: [toPayload(result)] } } };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ history: { events: [event] } }));
  });
  return new Promise((r) => server.listen(port, '127.0.0.1', () => r(server)));
}

test('the wait for a run\'s end rides out a server that does not answer for a while (stand-in HTTP server)', async () => {
  const port = await freePort();
  const api = new TemporalHttp(`http://127.0.0.1:${port}`, 'default');
  let server: Server | undefined;
  const late = setTimeout(() => void standIn(port, { verdict: 'passed' }).then((s) => (server = s)), 1200);
  try {
    const event = await api.closeEvent('wf-1');
    assert.deepEqual(TemporalHttp.result(event), { verdict: 'passed' });
  } finally {
    clearTimeout(late);
    api.close();
    server?.close();
  }
});

test('the wait gives up, saying so, once the server has not answered for longer than its outage allowance (stand-in HTTP server)', async () => {
  const port = await freePort();
  const api = new TemporalHttp(`http://127.0.0.1:${port}`, 'default');
  try {
    await assert.rejects(api.closeEvent('wf-1', undefined, 700), (e: unknown) => e instanceof TemporalHttpUnreachable && e.message.startsWith(`nothing answers at Temporal's HTTP API http://127.0.0.1:${port}`));
  } finally {
    api.close();
  }
});

test('a server that answers something other than Temporal\'s JSON is not retried: the error says what came back (stand-in HTTP server)', async () => {
  const server = createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('not found'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const api = new TemporalHttp(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'default');
  try {
    await assert.rejects(api.closeEvent('wf-1'), /HTTP 404 from http:\/\/127\.0\.0\.1:\d+: not found/);
  } finally {
    api.close();
    server.close();
  }
});
