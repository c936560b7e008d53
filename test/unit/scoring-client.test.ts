/**
 * The resilient build's scoring client (examples/target-system/scoring-client.js) against a real
 * HTTP server standing in for the scoring dependency: what it does with 429 and Retry-After, with
 * other 4xx, and with repeated 5xx (its circuit opens). One attempt a message (SCORING_ATTEMPTS=1),
 * so each call is one request and a deferred message says after how long it is tried again.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

interface ScoringClient {
  score(text: string, delivery?: number): Promise<{ score: number; attempts: number }>;
  Deferred: new (...args: unknown[]) => Error & { deferMs: number };
}

const ROOT = path.resolve(__dirname, '..', '..', '..');

describe('the resilient build\'s scoring client', () => {
  let server: http.Server;
  let client: ScoringClient;
  let requests = 0;
  let answer: { status: number; headers?: Record<string, string> } = { status: 200 };

  before(async () => {
    server = http.createServer((_req, res) => {
      requests++;
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.status === 200 ? '{"score":0.5}' : '{"error":"no"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    // lib.js reads its configuration when it is first required.
    process.env.SCORING_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    process.env.SCORING_ATTEMPTS = '1';
    client = require(path.join(ROOT, 'examples', 'target-system', 'scoring-client.js')) as ScoringClient;
  });
  after(() => server.close());

  const deferred = async (): Promise<Error & { deferMs: number }> => {
    const e = await client.score('x').then(() => assert.fail('expected the message to be deferred'), (e: Error) => e);
    assert.ok(e instanceof client.Deferred, `deferred, not failed: ${e.message}`);
    return e as Error & { deferMs: number };
  };

  test('a score is returned as the dependency answers it', async () => {
    answer = { status: 200 };
    assert.deepEqual(await client.score('x'), { score: 0.5, attempts: 1 });
  });

  test('a 429 defers the message by its Retry-After in seconds', async () => {
    answer = { status: 429, headers: { 'retry-after': '3' } };
    const e = await deferred();
    assert.equal(e.deferMs, 3000);
    assert.equal(e.message, 'scoring answered 429');
  });

  test('a 429 defers the message until its Retry-After date', async () => {
    answer = { status: 429, headers: { 'retry-after': new Date(Date.now() + 4000).toUTCString() } };
    const e = await deferred();
    // An HTTP date has whole seconds: between 3 and 4 s from now.
    assert.ok(e.deferMs > 2000 && e.deferMs <= 4000, `deferred by ${e.deferMs} ms`);
  });

  test('a 429 without Retry-After defers the message by the first backoff, 1 s', async () => {
    answer = { status: 429 };
    assert.equal((await deferred()).deferMs, 1000);
  });

  test('another 4xx fails the message for good', async () => {
    answer = { status: 400 };
    const e = await client.score('x').then(() => assert.fail('expected a failure'), (e: Error) => e);
    assert.ok(!(e instanceof client.Deferred));
    assert.equal(e.message, 'scoring answered 400');
  });

  test('repeated 503s open the circuit: the next message is deferred without a call to the dependency', async () => {
    answer = { status: 503 };
    let open: (Error & { deferMs: number }) | undefined;
    for (let i = 0; i < 12 && !open; i++) {
      const before = requests;
      const e = await deferred();
      if (e.message === 'the scoring circuit is open') {
        assert.equal(requests, before, 'no request while the circuit is open');
        open = e;
      } else assert.equal(e.message, 'scoring answered 503');
    }
    assert.ok(open, 'the circuit opened');
    assert.equal(open.deferMs, 5000, 'deferred until the circuit lets a trial call through');
  });
});
