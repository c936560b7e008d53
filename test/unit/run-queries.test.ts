import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SCENARIO_STATUS_QUERY, STATUS_QUERY } from '../../src/cli/run';
import { FAULTS_MEMO, TRIGGER_MEMO } from '../../src/search-attributes';
import { scenarioStatusQuery, statusQuery } from '../../workflows/definitions';

test('the CLI waits on the status queries by the names the workflows define them with', () => {
  assert.equal(STATUS_QUERY, statusQuery.name);
  assert.equal(SCENARIO_STATUS_QUERY, scenarioStatusQuery.name);
});

test('the memo keys stay where the workflows and the janitor import them from', () => {
  assert.equal(FAULTS_MEMO, 'gamedayFaults');
  assert.equal(TRIGGER_MEMO, 'gamedayTrigger');
});
