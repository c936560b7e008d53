import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config';
import { GamedayError } from '../../src/errors';

test('the configuration defaults to the local stack', () => {
  const c = loadConfig({});
  assert.equal(c.temporalAddress, '127.0.0.1:7233');
  assert.equal(c.namespace, 'default');
  assert.equal(c.taskQueue, 'gameday');
  assert.equal(c.uiPort, 8233);
  assert.match(c.experimentsDir, /experiments$/);
});

test('every configuration problem is reported at once, naming the variable', () => {
  assert.throws(
    () => loadConfig({ TEMPORAL_ADDRESS: 'localhost', GAMEDAY_UI_PORT: '99999' }),
    (e: unknown) =>
      e instanceof GamedayError &&
      e.type === 'InvalidConfig' &&
      /TEMPORAL_ADDRESS: expected host:port, e\.g\. 127\.0\.0\.1:7233/.test(e.message) &&
      /GAMEDAY_UI_PORT: /.test(e.message),
  );
});
