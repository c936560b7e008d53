/** The pure parts of the Docker network and resource faults: the iptables rules and the manual reverts. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { selfLimitDeadline } from '../../src/faults/family';
import { manualRevert } from '../../src/faults/describe';
import { lossRules } from '../../src/faults/docker-network';
import type { FaultSpec } from '../../src/spec/schema';
import type { PlannedFault, TargetRef } from '../../src/types';

/** No configured grace: the default rule. */
const NO_DEPS = { docker: undefined as never };

function planned(fault: FaultSpec, c: TargetRef, durationMs?: number): PlannedFault {
  return { id: 'f1', step: 0, fault, target: { name: 't', selector: '', refs: [c] }, status: 'planned', description: '', tag: 'gameday-0000abcd-f1', durationMs };
}

describe('docker network and resource faults, without Docker', () => {
  test('packet loss on a port drops to and from it, in and out, with the tag and an end date', () => {
    const rules = lossRules({ kind: 'docker-packet-loss', target: 't', percent: 25, port: 4222 }, 'gameday-x-f1', Date.UTC(2030, 0, 1, 0, 0, 0, 1));
    assert.deepEqual(rules.map((r) => r.slice(0, 5).join(' ')), ['INPUT -p tcp --dport 4222', 'INPUT -p tcp --sport 4222', 'OUTPUT -p tcp --dport 4222', 'OUTPUT -p tcp --sport 4222']);
    for (const r of rules) {
      assert.match(r.join(' '), / -m statistic --mode random --probability 0\.2500 -m time --datestop 2030-01-01T00:00:01 -m comment --comment gameday-x-f1 -j DROP$/);
    }
  });

  test('packet loss of 100% without a port is one unconditional rule per direction', () => {
    const rules = lossRules({ kind: 'docker-packet-loss', target: 't', percent: 100 }, 'tag', 0);
    assert.deepEqual(rules.map((r) => r.join(' ')), ['INPUT -m time --datestop 1970-01-01T00:00:00 -m comment --comment tag -j DROP', 'OUTPUT -m time --datestop 1970-01-01T00:00:00 -m comment --comment tag -j DROP']);
  });

  test('a self-limiting fault ends its duration plus half of it (10 s to 60 s) after inject', () => {
    const c = { id: 'abc', name: 'web' };
    const f = (ms?: number): PlannedFault => planned({ kind: 'docker-cpu-stress', target: 't' }, c, ms);
    assert.equal(selfLimitDeadline(NO_DEPS, f(4_000), 0), 14_000);
    assert.equal(selfLimitDeadline(NO_DEPS, f(60_000), 0), 90_000);
    assert.equal(selfLimitDeadline(NO_DEPS, f(600_000), 0), 660_000);
    assert.equal(selfLimitDeadline(NO_DEPS, f(undefined), 0), 660_000, 'a run recorded without durations: ten minutes');
  });

  test('the manual revert of a disconnect names the aliases resolve recorded', () => {
    const c = { id: 'abc', name: 'web-1', networks: { app: { aliases: ['web', 'api'] } } };
    assert.equal(manualRevert(planned({ kind: 'docker-disconnect', target: 't', network: 'app' }, c)), 'docker network connect --alias web --alias api app web-1');
    assert.equal(manualRevert(planned({ kind: 'docker-disconnect', target: 't', network: 'app' }, { id: 'abc', name: 'web-1' })), 'docker network connect app web-1');
  });

  test('the manual revert of a stress kills the process with its mark and tag', () => {
    assert.equal(manualRevert(planned({ kind: 'docker-memory-stress', target: 't', megabytes: 64 }, { id: 'abc', name: 'web' })), "pkill -KILL -f 'gameday-stress gameday-0000abcd-f1'");
  });

  test('the manual revert of a memory fill kills its process and removes its file through the container', () => {
    assert.equal(
      manualRevert(planned({ kind: 'docker-memory-fill', target: 't', megabytes: 64, path: '/scratch/' }, { id: 'abc', name: 'web' })),
      "pkill -KILL -f 'gameday-stress gameday-0000abcd-f1'; rm -f /proc/$(docker inspect -f '{{.State.Pid}}' web)/root/scratch/gameday-0000abcd-f1",
    );
    assert.match(manualRevert(planned({ kind: 'docker-memory-fill', target: 't', megabytes: 64 }, { id: 'abc', name: 'web' })), /root\/dev\/shm\/gameday-0000abcd-f1$/);
  });
});
