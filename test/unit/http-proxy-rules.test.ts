import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRule, pathMatches, ruleFor, type ProxyRule } from '../../src/http-proxy/rules';

test('a rule body with a wrong field is refused, naming the field', () => {
  assert.equal(parseRule('t1', { action: { type: 'error', status: 200 }, ttlMs: 1000 }), 'action.status: an HTTP error status (400–599) is required');
  assert.equal(parseRule('t1', { action: { type: 'explode' }, ttlMs: 1000 }), "action.type: one of 'error', 'delay', 'drop', 'truncate' is required");
  assert.equal(parseRule('t1', { action: { type: 'drop' } }), 'ttlMs: how long the rule lasts, in ms between 1 and 86400000, is required');
  assert.equal(parseRule('t1', { action: { type: 'drop' }, ttlMs: 1000, path: 'score' }), 'path: a path starting with / is expected');
  assert.equal(parseRule('t/1', { action: { type: 'drop' }, ttlMs: 1000 }), 'tag: letters, digits, dots, dashes and underscores are expected');
});

test('a rule ends at its ttl: it is set with its expiry, and an expired rule acts on nothing', () => {
  const rule = parseRule('t1', { action: { type: 'drop' }, ttlMs: 1000 }, 5000) as ProxyRule;
  assert.equal(rule.expiresAt, 6000);
  assert.equal(ruleFor([rule], 'GET', '/', 5999)?.tag, 't1');
  assert.equal(ruleFor([rule], 'GET', '/', 6000), undefined);
});

test('a path without a wildcard is a prefix of whole segments; with one, a glob', () => {
  assert.ok(pathMatches('/score', '/score'));
  assert.ok(pathMatches('/score', '/score/batch?x=1'));
  assert.ok(pathMatches('/score', '/score?x=1'));
  assert.ok(!pathMatches('/score', '/scores'));
  assert.ok(pathMatches('/v1/*/score', '/v1/en/score'));
  assert.ok(!pathMatches('/v1/*/score', '/v1/en/x/score'));
  assert.ok(pathMatches('/v1/**', '/v1/en/x/score'));
});

test('a rule acts on the methods it names and on its share of requests', () => {
  const rule = parseRule('t1', { action: { type: 'drop' }, methods: ['post'], percent: 30, ttlMs: 1000 }) as ProxyRule;
  assert.equal(ruleFor([rule], 'GET', '/', undefined, () => 0), undefined);
  assert.equal(ruleFor([rule], 'POST', '/', undefined, () => 0.29)?.tag, 't1');
  assert.equal(ruleFor([rule], 'POST', '/', undefined, () => 0.3), undefined);
});
