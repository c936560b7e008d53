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

test('the results store keeps samples 30 days unless GAMEDAY_RESULTS_RETENTION says otherwise', () => {
  assert.equal(loadConfig({}).resultsRetention, 30 * 86_400_000);
  assert.equal(loadConfig({ GAMEDAY_RESULTS_RETENTION: '12h' }).resultsRetention, 12 * 3_600_000);
  assert.equal(loadConfig({ GAMEDAY_RESULTS_RETENTION: '4w' }).resultsRetention, 28 * 86_400_000);
  assert.equal(loadConfig({ GAMEDAY_RESULTS_RETENTION: 'off' }).resultsRetention, 'off');
});

test('a retention that is not a duration of at least an hour is refused, naming the variable and the value', () => {
  for (const bad of ['30 days', '10m', '0d', 'forever', '']) {
    assert.throws(
      () => loadConfig({ GAMEDAY_RESULTS_RETENTION: bad }),
      (e: unknown) =>
        e instanceof GamedayError &&
        e.type === 'InvalidConfig' &&
        e.message.includes(`GAMEDAY_RESULTS_RETENTION: expected how long to keep the samples of finished runs, at least an hour, such as 12h, 30d or 4w (units m, h, d, w), or off to keep them all; not ${JSON.stringify(bad)}`),
      bad,
    );
  }
});

test('GAMEDAY_METRICS_ADDRESS is an IP address and a port; anything else is refused, naming the variable', () => {
  assert.equal(loadConfig({}).metricsAddress, undefined);
  assert.equal(loadConfig({ GAMEDAY_METRICS_ADDRESS: '127.0.0.1:9464' }).metricsAddress, '127.0.0.1:9464');
  assert.equal(loadConfig({ GAMEDAY_METRICS_ADDRESS: '[::1]:9464' }).metricsAddress, '[::1]:9464');
  for (const bad of ['9464', 'localhost:9464', '127.0.0.1', '127.0.0.1:99999', '127.0.0.1:0', '300.0.0.1:9464', 'http://127.0.0.1:9464', '']) {
    assert.throws(
      () => loadConfig({ GAMEDAY_METRICS_ADDRESS: bad }),
      (e: unknown) => e instanceof GamedayError && e.type === 'InvalidConfig' && e.message.includes('GAMEDAY_METRICS_ADDRESS: expected an IP address and a port to serve /metrics on, such as 127.0.0.1:9464'),
      `refused: ${JSON.stringify(bad)}`,
    );
  }
});

test('the demo target system is the weak build unless GAMEDAY_DEMO_BUILD says resilient; another value is refused, naming the variable', () => {
  assert.equal(loadConfig({}).demoBuild, 'weak');
  assert.equal(loadConfig({ GAMEDAY_DEMO_BUILD: 'resilient' }).demoBuild, 'resilient');
  assert.throws(
    () => loadConfig({ GAMEDAY_DEMO_BUILD: 'fixed' }),
    (e: unknown) => e instanceof GamedayError && e.type === 'InvalidConfig' && e.message.includes('GAMEDAY_DEMO_BUILD: expected weak or resilient'),
  );
});

test("`run` goes through the local stack's HTTP API (the gRPC port + 10) only where the connection is local and plain, unless GAMEDAY_TEMPORAL_HTTP_URL says", () => {
  assert.equal(loadConfig({}).temporalHttpUrl, 'http://127.0.0.1:7243');
  assert.equal(loadConfig({ TEMPORAL_ADDRESS: 'localhost:7300' }).temporalHttpUrl, 'http://localhost:7310');
  // A team's own cluster, TLS or an API key: gRPC, unless the URL is given.
  assert.equal(loadConfig({ TEMPORAL_ADDRESS: 'temporal.example.com:7233' }).temporalHttpUrl, undefined);
  assert.equal(loadConfig({ TEMPORAL_API_KEY: 'k' }).temporalHttpUrl, undefined);
  assert.equal(loadConfig({ TEMPORAL_TLS: 'true' }).temporalHttpUrl, undefined);
  assert.equal(loadConfig({ TEMPORAL_ADDRESS: 'temporal.example.com:7233', GAMEDAY_TEMPORAL_HTTP_URL: 'https://temporal.example.com:7243/' }).temporalHttpUrl, 'https://temporal.example.com:7243');
  assert.equal(loadConfig({ GAMEDAY_TEMPORAL_HTTP_URL: 'off' }).temporalHttpUrl, undefined);
  assert.throws(() => loadConfig({ GAMEDAY_TEMPORAL_HTTP_URL: '7243' }), /GAMEDAY_TEMPORAL_HTTP_URL: expected the Temporal HTTP API's base URL such as http:\/\/127\.0\.0\.1:7243, or off/);
});
