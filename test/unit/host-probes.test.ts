/**
 * Probes on another host (src/observe/host-sampling.ts): what a probe's `host` accepts, and how a
 * chunk of rounds an agent sends back is bounded. Real probes against a local HTTP server.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { InvalidExperimentError } from '../../src/errors';
import { CHUNK_BYTES, sampleChunk, type ChunkArgs } from '../../src/observe/host-sampling';
import { parseExperiment } from '../../src/spec/loader';
import type { Experiment, ObserveCheck } from '../../src/spec/schema';

const spec = (probeHost: string): Experiment => ({
  id: 'probe-host',
  title: 'a probe on another host',
  hypothesis: 'h',
  targets: { db: { kind: 'docker', container: 'postgres-1', host: 'db-1' } },
  steadyState: [{ name: 'db runs', probe: { kind: 'docker-container', container: 'postgres-1', host: probeHost }, expect: { running: { equals: true } } }],
  method: [{ fault: { kind: 'docker-pause', target: 'db' }, duration: '5s' }],
});

describe('probes on another host', () => {
  let server: http.Server;
  let url: string;
  before(async () => {
    // A body of 2 KiB, what the http probe keeps of one: each sample weighs a little over that.
    server = http.createServer((req, res) => {
      if (req.url === '/down') res.writeHead(503).end('down');
      else res.end('x'.repeat(2048));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  const checks = (n: number, path = '/'): ObserveCheck[] => Array.from({ length: n }, (_, i) => ({ name: `c${i}`, probe: { kind: 'http', url: `${url}${path}` }, expect: { status: { equals: 200 } } }));
  const chunk = (args: Partial<ChunkArgs> & Pick<ChunkArgs, 'checks'>) =>
    sampleChunk({ stage: 'observe', intervalMs: 0, until: Date.now() + 60_000, ...args }, { probe: {}, signal: new AbortController().signal, heartbeat: () => undefined });

  test('a probe takes host: NAME, and a host that is not a host name is one problem naming the field', () => {
    assert.equal(parseExperiment(spec('db-1')).steadyState[0].probe.host, 'db-1');
    assert.throws(
      () => parseExperiment(spec('DB_1'), 'exp.yaml'),
      (e: unknown) => e instanceof InvalidExperimentError && e.problems.length === 1 && e.problems[0].path === 'steadyState.0.probe.host' && /host name of lower-case letters/.test(e.problems[0].message),
    );
  });

  test('a chunk returns once its samples near 128 KB, so that it stays one payload under 256 KB, and says the sampling goes on', async () => {
    const c = await chunk({ checks: checks(5) });
    assert.equal(c.done, false);
    const bytes = JSON.stringify(c.rounds).length;
    assert.ok(bytes >= CHUNK_BYTES && bytes < 256 * 1024, `${bytes} bytes in ${c.rounds.length} rounds`);
    assert.ok(c.rounds.every((r) => r.length === 5 && r.every((s) => s.ok)));
  });

  test('a chunk ends the sampling at its stop condition: the first round that held (verify), the first breach (a guardrail), or its rounds', async () => {
    const held = await chunk({ checks: checks(2), stage: 'verify', stop: 'held' });
    assert.deepEqual([held.done, held.rounds.length], [true, 1]);
    const breach = await chunk({ checks: [{ name: 'down', probe: { kind: 'http', url: `${url}/down` }, expect: { status: { equals: 503 } } }], stop: 'breach' });
    assert.deepEqual([breach.done, breach.rounds.length], [true, 1]);
    const once = await chunk({ checks: checks(1, '/down'), stage: 'baseline', maxRounds: 1 });
    assert.deepEqual([once.done, once.rounds.length, once.rounds[0][0].ok], [true, 1, false]);
  });

  test('an observe chunk takes no round after until, and ends the sampling there', async () => {
    const c = await chunk({ checks: checks(1), intervalMs: 100, until: Date.now() + 550 });
    assert.equal(c.done, true);
    assert.ok(c.rounds.length >= 4 && c.rounds.length <= 6, `${c.rounds.length} rounds in 550 ms at 100 ms`);
  });
});
