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

test('a store whose server is stopped rejects writes within seconds, and works again once a server is back on its port', async () => {
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
