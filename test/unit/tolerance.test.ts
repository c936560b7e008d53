/**
 * Tolerances: whether a measured value meets one, how one reads in a report, and how a check's
 * expectations are judged against a measurement.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeTolerance, judge, withinTolerance } from '../../src/probes/tolerance';

describe('withinTolerance', () => {
  describe('equals', () => {
    test('A number equals the same number and not another.', () => {
      assert.equal(withinTolerance({ equals: 200 }, 200), true);
      assert.equal(withinTolerance({ equals: 200 }, 503), false);
    });

    test('A string equals the same string, compared exactly.', () => {
      assert.equal(withinTolerance({ equals: '' }, ''), true);
      assert.equal(withinTolerance({ equals: 'ok' }, 'ok'), true);
      assert.equal(withinTolerance({ equals: 'ok' }, 'OK'), false);
      assert.equal(withinTolerance({ equals: '' }, 'TIMEOUT'), false);
    });

    test('A boolean equals the same boolean and not the other.', () => {
      assert.equal(withinTolerance({ equals: false }, false), true);
      assert.equal(withinTolerance({ equals: false }, true), false);
      assert.equal(withinTolerance({ equals: true }, true), true);
    });

    test('Equals does not convert between types: 200 is not "200" and 0 is not false.', () => {
      assert.equal(withinTolerance({ equals: 200 }, '200'), false);
      assert.equal(withinTolerance({ equals: '200' }, 200), false);
      assert.equal(withinTolerance({ equals: false }, 0), false);
      assert.equal(withinTolerance({ equals: 0 }, false), false);
    });
  });

  describe('numeric bounds', () => {
    test('atMost is inclusive: the bound itself passes and the next value above fails.', () => {
      assert.equal(withinTolerance({ atMost: 1000 }, 999), true);
      assert.equal(withinTolerance({ atMost: 1000 }, 1000), true);
      assert.equal(withinTolerance({ atMost: 1000 }, 1000.5), false);
      assert.equal(withinTolerance({ atMost: 1000 }, 1001), false);
    });

    test('atLeast is inclusive: the bound itself passes and the next value below fails.', () => {
      assert.equal(withinTolerance({ atLeast: 0 }, 0), true);
      assert.equal(withinTolerance({ atLeast: 0 }, 5), true);
      assert.equal(withinTolerance({ atLeast: 0 }, -1), false);
      assert.equal(withinTolerance({ atLeast: 10 }, 9.99), false);
    });

    test('between includes both of its bounds and excludes values outside them.', () => {
      const t = { between: [10, 20] as [number, number] };
      assert.equal(withinTolerance(t, 10), true);
      assert.equal(withinTolerance(t, 15), true);
      assert.equal(withinTolerance(t, 20), true);
      assert.equal(withinTolerance(t, 9), false);
      assert.equal(withinTolerance(t, 21), false);
    });

    test('A between with equal bounds accepts that one value only.', () => {
      const t = { between: [5, 5] as [number, number] };
      assert.equal(withinTolerance(t, 5), true);
      assert.equal(withinTolerance(t, 4), false);
      assert.equal(withinTolerance(t, 6), false);
    });

    test('NaN fails every numeric bound.', () => {
      assert.equal(withinTolerance({ atMost: 10 }, Number.NaN), false);
      assert.equal(withinTolerance({ atLeast: 0 }, Number.NaN), false);
      assert.equal(withinTolerance({ between: [0, 10] }, Number.NaN), false);
    });
  });

  describe('regex', () => {
    test('A regex matches a string anywhere unless anchored.', () => {
      assert.equal(withinTolerance({ regex: 'ok' }, 'status: ok'), true);
      assert.equal(withinTolerance({ regex: '^ok$' }, 'status: ok'), false);
      assert.equal(withinTolerance({ regex: '^ok$' }, 'ok'), true);
      assert.equal(withinTolerance({ regex: 'ok' }, 'failed'), false);
    });

    test('A regex is tested against a number written in decimal.', () => {
      assert.equal(withinTolerance({ regex: '^2\\d\\d$' }, 204), true);
      assert.equal(withinTolerance({ regex: '^2\\d\\d$' }, 503), false);
      assert.equal(withinTolerance({ regex: '^1\\.5$' }, 1.5), true);
    });

    test('A regex is tested against a boolean written as true or false.', () => {
      assert.equal(withinTolerance({ regex: '^false$' }, false), true);
      assert.equal(withinTolerance({ regex: '^false$' }, true), false);
    });

    test('An empty regex matches every value, including an empty string.', () => {
      assert.equal(withinTolerance({ regex: '' }, ''), true);
      assert.equal(withinTolerance({ regex: '' }, 0), true);
    });
  });

  describe('combined tolerances', () => {
    test('atLeast and atMost together hold only inside both bounds.', () => {
      const t = { atLeast: 1, atMost: 3 };
      assert.equal(withinTolerance(t, 0), false);
      assert.equal(withinTolerance(t, 1), true);
      assert.equal(withinTolerance(t, 3), true);
      assert.equal(withinTolerance(t, 4), false);
    });

    test('A number must meet both its bounds and its regex.', () => {
      const t = { between: [200, 299] as [number, number], regex: '^20[04]$' };
      assert.equal(withinTolerance(t, 200), true);
      assert.equal(withinTolerance(t, 204), true);
      assert.equal(withinTolerance(t, 201), false, 'in bounds but not matching the regex');
      assert.equal(withinTolerance(t, 300), false, 'out of bounds and not matching the regex');
    });

    test('equals and a bound must both hold: a value that equals but is out of bounds fails.', () => {
      assert.equal(withinTolerance({ equals: 5, atMost: 10 }, 5), true);
      assert.equal(withinTolerance({ equals: 5, atMost: 4 }, 5), false);
      assert.equal(withinTolerance({ equals: 5, atMost: 10 }, 6), false);
    });

    test('A string must meet both equals and regex.', () => {
      assert.equal(withinTolerance({ equals: 'ok', regex: '^o' }, 'ok'), true);
      assert.equal(withinTolerance({ equals: 'ok', regex: '^x' }, 'ok'), false);
    });
  });

  describe('values a tolerance cannot hold for', () => {
    test('A missing value fails every kind of tolerance.', () => {
      for (const t of [{ equals: '' }, { equals: 0 }, { equals: false }, { atMost: 10 }, { atLeast: 0 }, { between: [0, 10] as [number, number] }, { regex: '' }, { regex: 'undefined' }]) {
        assert.equal(withinTolerance(t, undefined), false, `a missing value should fail ${JSON.stringify(t)}`);
      }
    });

    test('A string value fails every numeric tolerance, even when it reads as a number in range.', () => {
      assert.equal(withinTolerance({ atMost: 10 }, '5'), false);
      assert.equal(withinTolerance({ atLeast: 0 }, '5'), false);
      assert.equal(withinTolerance({ between: [0, 10] }, '5'), false);
    });

    test('A boolean value fails every numeric tolerance.', () => {
      assert.equal(withinTolerance({ atMost: 10 }, true), false);
      assert.equal(withinTolerance({ atLeast: 0 }, false), false);
    });
  });
});

describe('describeTolerance', () => {
  test('Each kind of tolerance reads as words.', () => {
    assert.equal(describeTolerance({ equals: 200 }), 'equals 200');
    assert.equal(describeTolerance({ equals: '' }), 'equals ""');
    assert.equal(describeTolerance({ equals: 'ok' }), 'equals "ok"');
    assert.equal(describeTolerance({ equals: false }), 'equals false');
    assert.equal(describeTolerance({ atMost: 1000 }), 'at most 1000');
    assert.equal(describeTolerance({ atLeast: 0 }), 'at least 0');
    assert.equal(describeTolerance({ between: [1, 3] }), 'between 1 and 3');
    assert.equal(describeTolerance({ regex: '^2\\d\\d$' }), 'matches /^2\\d\\d$/');
  });

  test('A combined tolerance joins its parts with "and" in a fixed order.', () => {
    assert.equal(describeTolerance({ regex: 'ok', atMost: 5, atLeast: 1 }), 'at least 1 and at most 5 and matches /ok/');
    assert.equal(
      describeTolerance({ regex: 'x', between: [1, 3], atMost: 2, atLeast: 1, equals: 'x' }),
      'equals "x" and at least 1 and at most 2 and between 1 and 3 and matches /x/',
    );
  });
});

describe('judge', () => {
  test('Every expectation is judged against the measurement, with what was expected and what was observed.', () => {
    const results = judge({ latencyMs: { atMost: 1000 }, messages: { atLeast: 1 }, error: { equals: '' } }, { latencyMs: 12, messages: 0, error: '' }, '');
    assert.deepEqual(results, [
      { field: 'latencyMs', expected: 'at most 1000', observed: '12', ok: true },
      { field: 'messages', expected: 'at least 1', observed: '0', ok: false },
      { field: 'error', expected: 'equals ""', observed: '""', ok: true },
    ]);
  });

  test('A string or boolean observation is shown as JSON.', () => {
    assert.deepEqual(judge({ body: { regex: 'up' }, duplicate: { equals: false } }, { body: 'all up', duplicate: true }, ''), [
      { field: 'body', expected: 'matches /up/', observed: '"all up"', ok: true },
      { field: 'duplicate', expected: 'equals false', observed: 'true', ok: false },
    ]);
  });

  test('When the probe failed, a field it did not measure is observed as no value, with the probe\'s error.', () => {
    const results = judge({ pending: { atMost: 5 }, latencyMs: { atMost: 2500 } }, { latencyMs: 1500, error: 'TIMEOUT' }, 'TIMEOUT');
    assert.deepEqual(results, [
      { field: 'pending', expected: 'at most 5', observed: 'no value (TIMEOUT)', ok: false },
      { field: 'latencyMs', expected: 'at most 2500', observed: '1500', ok: true },
    ]);
  });

  test('A field missing from a measurement without an error is observed as no value.', () => {
    assert.deepEqual(judge({ pending: { atLeast: 0 } }, {}, ''), [{ field: 'pending', expected: 'at least 0', observed: 'no value', ok: false }]);
  });

  test('A check without expectations judges nothing.', () => {
    assert.deepEqual(judge(undefined, { latencyMs: 3 }, ''), []);
    assert.deepEqual(judge({}, { latencyMs: 3 }, ''), []);
  });
});
