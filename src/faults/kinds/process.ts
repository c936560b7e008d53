/** The process fault kinds: host processes of the worker's (or agent's) machine. */
import { targetRefs } from '../refs';
import { faultKind } from './kind';
import { names } from './words';

export const PROCESS_KINDS = [
  /** SIGSTOP; revert SIGCONT. */
  faultKind('process-pause', () => ({}), {
    does: (_f, t) => `pause (SIGSTOP) ${names(t)}`,
    undo: (_f, p) => targetRefs(p.target).map((c) => `kill -CONT ${c.pid ?? '<pid>'}`).join('; '),
    check: (_f, p) => [targetRefs(p.target).map((c) => `ps -o stat= -p ${c.pid ?? '<pid>'}`).join('; '), 'no T in the state'],
  }),
  /** A signal (default SIGKILL); revert runs `restart` (a shell command) when no matching process runs. */
  faultKind('process-kill', (k) => ({ signal: k.signal.optional(), restart: k.name.optional() }), {
    does: (f, t) => `kill ${names(t)} with ${f.signal ?? 'SIGKILL'}`,
    undo: (f) => f.restart ?? 'restart the process by hand',
    commands: ['restart'],
  }),
] as const;
