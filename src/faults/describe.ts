/**
 * What a fault does, in words, and how to undo it by hand. Pure code: the experiment workflow
 * imports it for the status query, the reports and the search attributes.
 */
import { maskPasswords } from '../mask';
import type { FaultSpec } from '../spec/schema';
import type { PlannedFault, ResolvedTarget, TargetRef } from '../types';

/** What a target resolved to, whether recorded as `refs` or, before, as `containers`. */
export function targetRefs(target: Pick<ResolvedTarget, 'refs' | 'containers'>): TargetRef[] {
  return target.refs ?? target.containers ?? [];
}

function names(target: ResolvedTarget): string {
  return targetRefs(target).map((c) => c.name).join(', ');
}

function containers(target: ResolvedTarget): string {
  return `${targetRefs(target).length === 1 ? 'container' : 'containers'} ${names(target)}`;
}

function share(percent: number | undefined): string {
  return percent === undefined || percent === 100 ? '' : ` (${percent}% of connections)`;
}

function flow(direction: 'downstream' | 'upstream' | undefined): string {
  return direction === 'upstream' ? 'upstream' : 'downstream';
}

/** One line for people: "pause container demo-nats"; any password in it masked. */
export function describeFault(fault: FaultSpec, target: ResolvedTarget): string {
  const host = target.spec?.host;
  return maskPasswords(faultInWords(fault, target)) + (host ? ` on host ${host}` : '');
}

function faultInWords(fault: FaultSpec, target: ResolvedTarget): string {
  switch (fault.kind) {
    case 'docker-pause':
      return `pause ${containers(target)}`;
    case 'docker-stop':
      return `stop ${containers(target)}`;
    case 'docker-kill':
      return `kill ${containers(target)} with ${fault.signal ?? 'SIGKILL'}`;
    case 'docker-restart':
      return `restart ${containers(target)}`;
    case 'docker-disconnect':
      return `disconnect ${containers(target)} from network ${fault.network}`;
    case 'docker-packet-loss':
      return `drop ${fault.percent}% of packets${fault.port ? ` on port ${fault.port}` : ''} in ${containers(target)}`;
    case 'docker-cpu-stress':
      return `load ${fault.workers ?? 1} CPU${(fault.workers ?? 1) === 1 ? '' : 's'} in ${containers(target)}`;
    case 'docker-memory-stress':
      return `hold ${fault.megabytes} MB of memory in ${containers(target)}`;
    case 'postgres-terminate-backends': {
      const filters = [fault.database && `database ${fault.database}`, fault.user && `user ${fault.user}`, fault.applicationName && `application ${fault.applicationName}`].filter(Boolean);
      return `terminate the backends${filters.length ? ` of ${filters.join(', ')}` : ''} on ${names(target)}`;
    }
    case 'postgres-exhaust-connections':
      return `hold ${fault.connections ?? 'every free'} connection${fault.connections === 1 ? '' : 's'} to ${names(target)}`;
    case 'postgres-lock-table':
      return `lock table ${fault.table} (${fault.mode ?? 'ACCESS EXCLUSIVE'}) on ${names(target)}`;
    case 'toxiproxy-latency':
      return `add ${fault.latency}${fault.jitter ? ` ± ${fault.jitter}` : ''} latency ${flow(fault.direction)} on ${names(target)}${share(fault.percent)}`;
    case 'toxiproxy-timeout':
      return `stop data ${flow(fault.direction)} on ${names(target)}, closing after ${fault.timeout}${share(fault.percent)}`;
    case 'toxiproxy-reset':
      return `reset connections on ${names(target)}${fault.timeout ? ` after ${fault.timeout}` : ''}${share(fault.percent)}`;
    case 'toxiproxy-bandwidth':
      return `limit ${flow(fault.direction)} bandwidth on ${names(target)} to ${fault.kbPerSecond} KB/s${share(fault.percent)}`;
    case 'process-pause':
      return `pause (SIGSTOP) ${names(target)}`;
    case 'process-kill':
      return `kill ${names(target)} with ${fault.signal ?? 'SIGKILL'}`;
    case 'http-error':
      return `answer ${fault.percent === undefined ? 'every' : `${fault.percent}% of`} request${fault.percent === undefined ? '' : 's'} to ${names(target)} with ${fault.status}`;
    case 'http-delay':
      return `delay ${fault.percent === undefined ? 'every' : `${fault.percent}% of`} request${fault.percent === undefined ? '' : 's'} to ${names(target)} by ${fault.delay}`;
  }
}

/** The commands that undo a fault by hand, should everything else fail (for the report); passwords masked. */
export function manualRevert(f: PlannedFault): string {
  const host = f.target.spec?.host;
  return (host ? `on host ${host}: ` : '') + maskPasswords(manualRevertCommand(f));
}

function manualRevertCommand(f: PlannedFault): string {
  const ids = targetRefs(f.target).map((c) => c.name).join(' ');
  const spec = f.target.spec;
  const tag = f.tag ?? f.id;
  switch (f.fault.kind) {
    case 'docker-pause':
      return `docker unpause ${ids}`;
    case 'docker-stop':
    case 'docker-kill':
    case 'docker-restart':
      return `docker start ${ids}`;
    case 'docker-disconnect': {
      const network = f.fault.network;
      return targetRefs(f.target).map((c) => ['docker network connect', ...(c.networks?.[network]?.aliases ?? []).map((a) => `--alias ${a}`), network, c.name].join(' ')).join('; ');
    }
    case 'docker-packet-loss':
      return targetRefs(f.target).map((c) => `nsenter -t $(docker inspect -f '{{.State.Pid}}' ${c.name}) -n sh -c "iptables-save | grep -v ${tag} | iptables-restore"`).join('; ');
    case 'docker-cpu-stress':
    case 'docker-memory-stress':
      return `pkill -KILL -f 'gameday-stress ${tag}'`;
    case 'postgres-terminate-backends':
      return 'nothing to undo: terminated backends do not come back; the application reconnects';
    case 'postgres-exhaust-connections':
    case 'postgres-lock-table':
      return `psql '${spec?.kind === 'postgres' ? spec.connectionString : '<connection string>'}' -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '${tag}'"`;
    case 'toxiproxy-latency':
    case 'toxiproxy-timeout':
    case 'toxiproxy-reset':
    case 'toxiproxy-bandwidth':
      return spec?.kind === 'toxiproxy' ? `curl -X DELETE ${spec.api}/proxies/${spec.proxy}/toxics/${tag}` : `delete toxic ${tag}`;
    case 'process-pause':
      return targetRefs(f.target).map((c) => `kill -CONT ${c.pid ?? '<pid>'}`).join('; ');
    case 'process-kill':
      return f.fault.restart ?? 'restart the process by hand';
    case 'http-error':
    case 'http-delay':
      return spec?.kind === 'http' ? `curl -X DELETE ${spec.url.replace(/\/$/, '')}${spec.faultPath ?? '/fault'}` : 'clear the fault endpoint';
  }
}

/**
 * The tag a fault's leftovers carry: `gameday-<8 hex of the workflow id>-<fault id>`, short enough
 * for a PostgreSQL application_name (63 bytes). FNV-1a, pure, so that the workflow computes it.
 */
export function faultTag(workflowId: string, faultId: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < workflowId.length; i++) {
    h ^= workflowId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `gameday-${h.toString(16).padStart(8, '0')}-${faultId}`;
}

/**
 * A fault as the experiment workflow plans it, before its inject is scheduled: described, tagged
 * (from the workflow id) and with its duration, status `planned`. Pure: the workflow calls it, and
 * so do tests and the bench that drive a fault family directly.
 */
export function planFault(workflowId: string, id: string, step: number, fault: FaultSpec, target: ResolvedTarget, durationMs: number): PlannedFault {
  return { id, step, fault, target, status: 'planned', description: describeFault(fault, target), tag: faultTag(workflowId, id), durationMs };
}
