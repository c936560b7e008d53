/** The docker fault kinds: a container's life, its network, its resources. */
import { commandText, execWords } from '../../commands/command';
import type { PlannedFault } from '../../types';
import { tagOf, targetRefs } from '../refs';
import { faultKind } from './kind';
import { containers, eachRef } from './words';

function ids(p: PlannedFault): string {
  return targetRefs(p.target).map((c) => c.name).join(' ');
}

/** A stopped, killed or restarted container is undone by starting it again. */
const startAgain = {
  undo: (_f: unknown, p: PlannedFault) => `docker start ${ids(p)}`,
  check: (_f: unknown, p: PlannedFault): [string, string] => [eachRef(p.target, (c) => `docker inspect -f '{{.State.Running}}' ${c}`), 'prints true'],
};

/** A stress is a host process tagged with the fault's tag. */
const stressed = {
  undo: (_f: unknown, p: PlannedFault) => `pkill -KILL -f 'gameday-stress ${tagOf(p)}'`,
  check: (_f: unknown, p: PlannedFault): [string, string] => [`pgrep -f 'gameday-stress ${tagOf(p)}'`, 'prints nothing'],
};

export const DOCKER_KINDS = [
  faultKind('docker-pause', () => ({}), {
    does: (_f, t) => `pause ${containers(t)}`,
    undo: (_f, p) => `docker unpause ${ids(p)}`,
    check: (_f, p) => [eachRef(p.target, (c) => `docker inspect -f '{{.State.Paused}}' ${c}`), 'prints false'],
  }),
  faultKind('docker-stop', (k) => ({ timeout: k.stopTimeout.optional() }), {
    does: (_f, t) => `stop ${containers(t)}`,
    ...startAgain,
  }),
  faultKind('docker-kill', (k) => ({ signal: k.signal.optional() }), {
    does: (f, t) => `kill ${containers(t)} with ${f.signal ?? 'SIGKILL'}`,
    ...startAgain,
  }),
  faultKind('docker-restart', (k) => ({ timeout: k.stopTimeout.optional() }), {
    does: (_f, t) => `restart ${containers(t)}`,
    ...startAgain,
  }),
  /** Disconnects the container from a Docker network (a partition); revert connects it again. */
  faultKind('docker-disconnect', (k) => ({ network: k.name }), {
    does: (f, t) => `disconnect ${containers(t)} from network ${f.network}`,
    undo: (f, p) => targetRefs(p.target).map((c) => ['docker network connect', ...(c.networks?.[f.network]?.aliases ?? []).map((a) => `--alias ${a}`), f.network, c.name].join(' ')).join('; '),
    check: (f, p) => [eachRef(p.target, (c) => `docker inspect -f '{{json .NetworkSettings.Networks}}' ${c}`), `lists ${f.network}`],
  }),
  /** Drops a share of packets with iptables in the container's network namespace. */
  faultKind(
    'docker-packet-loss',
    (k) => ({
      percent: k.percent,
      /** Only packets to or from this TCP port (default: all). */
      port: k.z.int().min(1).max(65535).optional(),
    }),
    {
      does: (f, t) => `drop ${f.percent}% of packets${f.port ? ` on port ${f.port}` : ''} in ${containers(t)}`,
      undo: (_f, p) => eachRef(p.target, (c) => `nsenter -t $(docker inspect -f '{{.State.Pid}}' ${c}) -n sh -c "iptables-save | grep -v ${tagOf(p)} | iptables-restore"`),
      check: (_f, p) => [eachRef(p.target, (c) => `nsenter -t $(docker inspect -f '{{.State.Pid}}' ${c}) -n iptables-save | grep -c ${tagOf(p)}`), 'prints 0'],
    },
  ),
  faultKind('docker-cpu-stress', (k) => ({ workers: k.z.int().min(1).max(64).optional() }), {
    does: (f, t) => `load ${f.workers ?? 1} CPU${(f.workers ?? 1) === 1 ? '' : 's'} in ${containers(t)}`,
    ...stressed,
  }),
  /** Held by a host process in the container's cgroups; the bound is the machine, not the limit of a container. */
  faultKind('docker-memory-stress', (k) => ({ megabytes: k.boundedInt('megabytes', 1, 32_768, ' (32 GiB)') }), {
    does: (f, t) => `hold ${f.megabytes} MB of memory in ${containers(t)}`,
    ...stressed,
  }),
  /**
   * Runs `command` in each container (through the engine's exec, so the image needs what the
   * command names); revert runs `revert` there, and must be safe to run twice (a revert comes
   * again after a retry, or from the janitor). Both are killed at `timeout` (default 30s). The
   * fault ends by itself at its self-limit: a process on the worker's host runs `revert` then.
   */
  faultKind('docker-exec', (k) => ({ command: k.command, revert: k.command, timeout: k.commandTimeout.optional() }), {
    does: (f, t) => `run \`${commandText(f.command)}\` in ${containers(t)}`,
    undo: (f, p) => eachRef(p.target, (c) => `docker exec ${c} ${execWords(f.revert)}`),
    commands: ['command', 'revert'],
  }),
] as const;
