import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResultsStoreUnreachable } from '../../src/store/errors';
import { migrateResultsStore } from '../../src/store/migrate';
import { openResultsStore } from '../../src/store/postgres';
import { startPrivatePostgres } from '../pg-server';
import { journalFixture, samples } from '../store-fixtures';

// A server of its own, since this test stops it. Trust auth ignores the password: it is here to
// show that no message carries it.
const PASSWORD = 's3cret-store-pw';
const urlOn = (port: number) => `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/gameday`;

test('a store whose server is stopped rejects writes within seconds, and works again once a server is back on its port', async (t) => {
  let server = await startPrivatePostgres(20);
  const url = urlOn(server.port);
  await migrateResultsStore(url);
  const store = openResultsStore(url);
  const j = journalFixture('store-down', 'run-1');
  try {
    await store.writeSamples(j, samples('observe', 'webhooks', 0, 10));
    await server.stop();

    const t0 = Date.now();
    const failed = await store.writeSamples(j, samples('observe', 'webhooks', 10, 10)).then(
      () => assert.fail('writeSamples succeeded with the server stopped'),
      (e: unknown) => e,
    );
    const tookMs = Date.now() - t0;
    assert.ok(failed instanceof ResultsStoreUnreachable, `expected ResultsStoreUnreachable, got ${String(failed)}`);
    assert.match(failed.message, new RegExp(`^the results store at postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:${server.port}/gameday is unreachable \\(write 10 samples of store-down\\)`));
    assert.ok(!failed.message.includes(PASSWORD));
    assert.ok(tookMs < 5000, `took ${tookMs} ms to fail`);
    t.diagnostic(`writeSamples to a stopped server rejected after ${tookMs} ms`);

    // Migrating a store that is down says so too, without the password.
    await assert.rejects(migrateResultsStore(url), (e: unknown) => e instanceof ResultsStoreUnreachable && /unreachable \(create the database gameday\)/.test(e.message) && !e.message.includes(PASSWORD));

    // A new server on the same port (an empty one: the old one's data went with it).
    server = await startPrivatePostgres(20, { port: server.port });
    await migrateResultsStore(url);
    await store.writeSamples(j, samples('observe', 'webhooks', 10, 10));
    await store.finishRun(j);
    const back = await store.readJournal(j.workflowId);
    assert.deepEqual(back?.observations.map((s) => s.measurement.messages), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  } finally {
    await store.close();
    await server.stop();
  }
});

test('a store whose server hangs (its processes paused) rejects writes within seconds instead of waiting, and works once it resumes', async (t) => {
  const server = await startPrivatePostgres(20);
  const url = urlOn(server.port);
  await migrateResultsStore(url);
  const store = openResultsStore(url, { statementTimeoutMillis: 2000 });
  const j = journalFixture('store-hang', 'run-1');
  let paused: number[] = [];
  const resume = () => paused.forEach((pid) => process.kill(pid, 'SIGCONT'));
  try {
    // Two connections in the pool, so that one call finds an open connection to a paused backend
    // and the other has to open a new one to a paused postmaster.
    await Promise.all([store.writeSamples(j, samples('observe', 'a', 0, 5)), store.writeSamples(j, samples('observe', 'b', 0, 5))]);
    paused = await server.pids();
    paused.forEach((pid) => process.kill(pid, 'SIGSTOP'));
    try {
      const t0 = Date.now();
      const results = await Promise.allSettled([1, 2, 3].map((i) => store.writeSamples(j, samples('observe', `c${i}`, 0, 5))));
      const tookMs = Date.now() - t0;
      assert.ok(results.every((r) => r.status === 'rejected' && r.reason instanceof ResultsStoreUnreachable), JSON.stringify(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'fulfilled'))));
      assert.ok(tookMs < 6000, `took ${tookMs} ms to fail`);
      t.diagnostic(`writeSamples to a paused server rejected after ${tookMs} ms`);
    } finally {
      resume();
    }
    // A write the client gave up on may still have landed once the backend resumed; the retries
    // (the activity's) overwrite it: each sample once.
    for (const i of [1, 2, 3]) await store.writeSamples(j, samples('observe', `c${i}`, 0, 5));
    await store.finishRun(j);
    const back = await store.readJournal(j.workflowId);
    assert.deepEqual(back?.observations.map((s) => `${s.check}#${s.measurement.messages}`).sort(), ['a', 'b', 'c1', 'c2', 'c3'].flatMap((c) => [0, 1, 2, 3, 4].map((n) => `${c}#${n}`)).sort());
  } finally {
    await store.close();
    await server.stop();
  }
});
