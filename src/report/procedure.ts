/**
 * The report's rollback procedure: what was injected and how each fault is undone and checked by
 * hand, newest first as the rollback itself goes, derived from the fault's family.
 */
import { manualRevert, targetRefs } from '../faults/describe';
import { maskPasswords } from '../mask';
import type { PlannedFault } from '../types';

/** One fault to undo by hand, should everything else fail. */
export interface ProcedureStep {
  id: string;
  description: string;
  /** What the run recorded: reverted at …, or NOT REVERTED. */
  state: string;
  /** The command that undoes it (passwords in URLs masked). */
  revert: string;
  /** A command that shows it is undone, and what it shows then; absent when nothing can tell. */
  check?: { command: string; shows: string };
}


/** The steps, newest fault first; empty when nothing was injected. */
export function rollbackProcedure(faults: PlannedFault[]): ProcedureStep[] {
  return [...faults].reverse().map((f) => {
    const check = checkCommand(f);
    return {
      id: f.id,
      description: f.description,
      state: f.revertedAt ? `reverted at ${f.revertedAt}` : f.status === 'inject-failed' ? `inject failed${f.error ? ` (${f.error})` : ''}; no revert recorded` : 'NOT REVERTED',
      revert: maskPasswords(manualRevert(f)),
      ...(check ? { check: { command: maskPasswords(check[0]), shows: check[1] } } : {}),
    };
  });
}

function checkCommand(f: PlannedFault): [string, string] | undefined {
  const refs = targetRefs(f.target);
  const each = (cmd: (name: string) => string) => refs.map((c) => cmd(c.name)).join('; ');
  const tag = f.tag ?? f.id;
  const spec = f.target.spec;
  switch (f.fault.kind) {
    case 'docker-pause':
      return [each((c) => `docker inspect -f '{{.State.Paused}}' ${c}`), 'prints false'];
    case 'docker-stop':
    case 'docker-kill':
    case 'docker-restart':
      return [each((c) => `docker inspect -f '{{.State.Running}}' ${c}`), 'prints true'];
    case 'docker-disconnect':
      return [each((c) => `docker inspect -f '{{json .NetworkSettings.Networks}}' ${c}`), `lists ${f.fault.network}`];
    case 'docker-packet-loss':
      return [each((c) => `nsenter -t $(docker inspect -f '{{.State.Pid}}' ${c}) -n iptables-save | grep -c ${tag}`), 'prints 0'];
    case 'docker-cpu-stress':
    case 'docker-memory-stress':
      return [`pgrep -f 'gameday-stress ${tag}'`, 'prints nothing'];
    case 'postgres-exhaust-connections':
    case 'postgres-lock-table':
      return [`psql '${spec?.kind === 'postgres' ? spec.connectionString : '<connection string>'}' -tc "SELECT count(*) FROM pg_stat_activity WHERE application_name = '${tag}'"`, 'prints 0'];
    case 'toxiproxy-latency':
    case 'toxiproxy-timeout':
    case 'toxiproxy-reset':
    case 'toxiproxy-bandwidth':
      return spec?.kind === 'toxiproxy' ? [`curl ${spec.api}/proxies/${spec.proxy}/toxics`, `does not list ${tag}`] : undefined;
    case 'process-pause':
      return [refs.map((c) => `ps -o stat= -p ${c.pid ?? '<pid>'}`).join('; '), 'no T in the state'];
    case 'postgres-terminate-backends':
    case 'process-kill':
    case 'http-error':
    case 'http-delay':
      return undefined;
  }
}
