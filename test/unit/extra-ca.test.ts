import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HELD_BACK_EXTRA_CA, mayUseTls, restoreExtraCaCerts } from '../../src/cli/extra-ca';
import { loadConfig } from '../../src/config';

test('restoreExtraCaCerts puts the variable bin/gameday held back into the environment again, once', () => {
  const env: NodeJS.ProcessEnv = { [HELD_BACK_EXTRA_CA]: '/etc/corp-ca.pem' };
  assert.equal(restoreExtraCaCerts(env), '/etc/corp-ca.pem');
  assert.deepEqual(env, { NODE_EXTRA_CA_CERTS: '/etc/corp-ca.pem' });
  assert.equal(restoreExtraCaCerts(env), undefined);
  assert.deepEqual(restoreExtraCaCerts({}), undefined);
});

test('mayUseTls: the plain local stack does not, TLS, an API key or an https HTTP API may', () => {
  assert.equal(mayUseTls(loadConfig({})), false);
  assert.equal(mayUseTls(loadConfig({ TEMPORAL_TLS: 'true' })), true);
  assert.equal(mayUseTls(loadConfig({ TEMPORAL_API_KEY: 'k', TEMPORAL_ADDRESS: 'example.tmprl.cloud:7233' })), true);
  assert.equal(mayUseTls(loadConfig({ GAMEDAY_TEMPORAL_HTTP_URL: 'https://temporal.example:7243' })), true);
  assert.equal(mayUseTls(loadConfig({ GAMEDAY_TEMPORAL_HTTP_URL: 'http://127.0.0.1:7243' })), false);
});
