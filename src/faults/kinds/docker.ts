/** The docker fault kinds: a container's life, its network, its resources. */
import { z } from 'zod';
import { name } from '../../spec/common';
import { boundedInt, stopTimeout } from '../../spec/limits';
import { targetRefs } from '../refs';
import { faultKind } from './kind';
import { containers, eachRef } from './words';

const signal = z.string().regex(/^(SIG)?[A-Z0-9]+$/, { error: 'expected a signal name such as SIGKILL or SIGTERM' });

const running = { check: (_f: unknown, p: { target: Parameters<typeof eachRef>[0] }) => [eachRef(p.target, (c) => `docker inspect -f '{{.State.Running}}' ${c}`), 'prints true'] as [string, string] };

const stressed = {
  undo: (_f: unknown, p: { tag?: string; id: string }) => `pkill -KILL -f 'gameday-stress ${p.tag ?? p.id}'`,
  check: (_f: unknown, p: { tag?: string; id: string }) => [`pgrep -f 'gameday-stress ${p.tag ?? p.id}'`, 'prints nothing'] as [string, string],
};

export const DOCKER_KINDS = [
  faultKind('docker-pause', {}, {
    does: (_f, t) => `pause ${containers(t)}`,
    undo: (_f, p) => `docker unpause ${targetRefs(p.target).map((c) => c.name).join(' ')}`,
    check: (_f, p) => [eachRef(p.target, (c) => `docker inspect -f '{{.State.Paused}}' ${c}`), 'prints false'],
  }),
  faultKind('docker-stop', { timeout: stopTimeout.optional() }, {
    does: (_f, t) => `stop ${containers(t)}`,
    undo: (_f, p) => `docker start ${targetRefs(p.target).map((c) => c.name).join(' ')}`,
    ...running,
  }),
  faultKind('docker-kill', { signal: signal.optional() }, {
    does: (f, t) => `kill ${containers(t)} with ${f.signal ?? 'SIGKILL'}`,
    undo: (_f, p) => `docker start ${targetRefs(p.target).map((c) => c.name).join(' ')}`,
    ...running,
  }),
  faultKind('docker-restart', { timeout: stopTimeout.optional() }, {
    does: (_f, t) => `restart ${containers(t)}`,
    undo: (_f, p) => `docker start ${targetRefs(p.target).map((c) => c.name).join(' ')}`,
    ...running,
  }),
  /** Disconnects the container from a Docker network (a partition); revert connects it again. */
  faultKind('docker-disconnect', { network: name }, {
    does: (f, t) => `disconnect ${containers(t)} from network ${f.network}`,
    undo: (f, p) => targetRefs(p.target).map((c) => ['docker network connect', ...(c.networks?.[f.network]?.aliases ?? []).map((a) => `--alias ${a}`), f.network, c.name].join(' ')).join('; '),
    check: (f, p) => [eachRef(p.target, (c) => `docker inspect -f '{{json .NetworkSettings.Networks}}' ${c}`), `lists ${f.network}`],
  }),
  /** Drops a share of packets with iptables in the container's network namespace. */
  faultKind(
    'docker-packet-loss',
    {
      percent: z.number().gt(0, { error: 'must be more than 0' }).max(100, { error: 'must be at most 100' }),
      /** Only packets to or from this TCP port (default: all). */
      port: z.int().min(1).max(65535).optional(),
    },
    {
      does: (f, t) => `drop ${f.percent}% of packets${f.port ? ` on port ${f.port}` : ''} in ${containers(t)}`,
      undo: (_f, p) => eachRef(p.target, (c) => `nsenter -t $(docker inspect -f '{{.State.Pid}}' ${c}) -n sh -c "iptables-save | grep -v ${p.tag ?? p.id} | iptables-restore"`),
      check: (_f, p) => [eachRef(p.target, (c) => `nsenter -t $(docker inspect -f '{{.State.Pid}}' ${c}) -n iptables-save | grep -c ${p.tag ?? p.id}`), 'prints 0'],
    },
  ),
  faultKind('docker-cpu-stress', { workers: z.int().min(1).max(64).optional() }, {
    does: (f, t) => `load ${f.workers ?? 1} CPU${(f.workers ?? 1) === 1 ? '' : 's'} in ${containers(t)}`,
    ...stressed,
  }),
  /** Held by a host process in the container's cgroups; the bound is the machine, not the limit of a container. */
  faultKind('docker-memory-stress', { megabytes: boundedInt('megabytes', 1, 32_768, ' (32 GiB)') }, {
    does: (f, t) => `hold ${f.megabytes} MB of memory in ${containers(t)}`,
    ...stressed,
  }),
] as const;
