/**
 * The pure parts of the docker-logs and http-latency probes: where a log count starts, how a
 * multiplexed `docker logs` answer splits into lines, and the nearest-rank percentile.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { logLines, logsStartMs } from '../../src/probes/docker';
import { percentile } from '../../src/probes/http-latency';

describe('where a docker-logs count starts', () => {
  const window = { baselineStartedAt: '2030-01-01T00:00:00.000Z', faultStartedAt: '2030-01-01T00:00:10.000Z' };
  const now = Date.parse('2030-01-01T00:01:00.000Z');

  test('By default (fault), at the first fault once one was injected.', () => {
    assert.equal(logsStartMs(undefined, window, now), Date.parse(window.faultStartedAt));
    assert.equal(logsStartMs('fault', window, now), Date.parse(window.faultStartedAt));
  });

  test('Before any fault, since-the-fault counts from the baseline.', () => {
    assert.equal(logsStartMs('fault', { baselineStartedAt: window.baselineStartedAt }, now), Date.parse(window.baselineStartedAt));
  });

  test('baseline counts from the baseline even after a fault.', () => {
    assert.equal(logsStartMs('baseline', window, now), Date.parse(window.baselineStartedAt));
  });

  test('A duration counts back from now.', () => {
    assert.equal(logsStartMs('30s', window, now), now - 30_000);
  });

  test('Outside an experiment (no window), fault and baseline count the whole log.', () => {
    assert.equal(logsStartMs(undefined, undefined, now), 0);
    assert.equal(logsStartMs('baseline', undefined, now), 0);
  });
});

describe('the lines of a docker logs answer', () => {
  function frame(stream: 1 | 2, text: string): Buffer {
    const payload = Buffer.from(text);
    const header = Buffer.alloc(8);
    header.writeUInt8(stream, 0);
    header.writeUInt32BE(payload.length, 4);
    return Buffer.concat([header, payload]);
  }

  test('Without a TTY, stdout and stderr frames are joined and split into lines.', () => {
    const raw = Buffer.concat([frame(1, 'one\ntw'), frame(2, 'o\nthree\n')]);
    assert.deepEqual(logLines(raw, false), ['one', 'two', 'three']);
  });

  test('With a TTY, the bytes are the lines.', () => {
    assert.deepEqual(logLines(Buffer.from('a\nb\n'), true), ['a', 'b']);
  });
});

describe('nearest-rank percentiles', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  test('Of 1..100, p50 is 50, p95 is 95, p99 is 99.', () => {
    assert.deepEqual([percentile(hundred, 50), percentile(hundred, 95), percentile(hundred, 99)], [50, 95, 99]);
  });

  test('Of ten values with one slow one, p50 is a fast one and p99 the slow one.', () => {
    const ten = [10, 11, 12, 13, 14, 15, 16, 17, 18, 900];
    assert.equal(percentile(ten, 50), 14);
    assert.equal(percentile(ten, 99), 900);
  });

  test('Of no values there is no percentile.', () => {
    assert.equal(percentile([], 50), undefined);
  });
});
