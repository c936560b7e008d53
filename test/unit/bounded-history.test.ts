import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tellsWorkflowAt } from '../../activities';
import { addSample, aggregateSamples } from '../../src/judge';
import type { ProbeSample } from '../../src/types';

const sample = (ok: boolean, at: string): ProbeSample => ({ check: 'c', stage: 'observe', at, measurement: {}, error: '', expectations: [], ok });

test('a failing revert tells its workflow at attempts 3, 6, 12, 24 … only: a dozen signals in a day of attempts', () => {
  const told = Array.from({ length: 3000 }, (_, i) => i + 1).filter(tellsWorkflowAt);
  assert.deepEqual(told, [3, 6, 12, 24, 48, 96, 192, 384, 768, 1536]);
});

test('aggregates keep the count, the passing, the first, the first miss and the last sample, whatever the number of samples', () => {
  const samples = Array.from({ length: 10_000 }, (_, i) => sample(i !== 4321 && i !== 9000, `t${i}`));
  const a = aggregateSamples(samples).c;
  assert.equal(a.count, 10_000);
  assert.equal(a.passing, 9_998);
  assert.equal(a.first?.at, 't0');
  assert.equal(a.firstFailure?.at, 't4321');
  assert.equal(a.last?.at, 't9999');
  const one = {};
  addSample(one, sample(true, 'x'));
  assert.deepEqual(Object.keys(one), ['c']);
});
