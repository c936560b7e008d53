/**
 * One line for people about a fault: "pause container demo-nats". Pure code: the experiment
 * workflow imports it for the status query, the reports and the search attributes.
 */
import type { FaultSpec } from '../spec/schema';
import type { ResolvedTarget } from '../types';

export function describeFault(fault: FaultSpec, target: ResolvedTarget): string {
  const names = target.containers.map((c) => c.name).join(', ');
  const what = `${target.containers.length === 1 ? 'container' : 'containers'} ${names}`;
  switch (fault.kind) {
    case 'docker-pause':
      return `pause ${what}`;
    case 'docker-stop':
      return `stop ${what}`;
    case 'docker-kill':
      return `kill ${what} with ${fault.signal ?? 'SIGKILL'}`;
    case 'docker-restart':
      return `restart ${what}`;
  }
}
