import { FailureType, GamedayError } from '../errors';
import type { FaultFamily } from './family';
import { findProcesses, optedIn, PROCESS_OPT_IN, processRef } from './host-processes';
import { killProcesses, pauseProcesses, restartProcesses, resumeProcesses } from './process-signals';

/**
 * Faults on host processes of the worker's machine (process-signals.ts): pause with SIGSTOP
 * (revert SIGCONT; a watchdog resumes them should every worker die), kill with a signal (revert
 * runs the fault's `restart` command when nothing matches the pattern any more).
 */
export const processFaults: FaultFamily<'process'> = {
  async resolve(_deps, name, spec, policy) {
    const found = await findProcesses(spec.pattern);
    if (found.length === 0) throw new GamedayError(FailureType.TargetNotFound, `target '${name}': no process on the worker's host matches /${spec.pattern}/`);
    if (!policy.allowlist.includes(spec.pattern)) {
      for (const p of found) {
        if (!(await optedIn(p.pid))) {
          throw new GamedayError(
            FailureType.TargetNotAllowed,
            `target '${name}': process ${p.pid} (${p.cmdline.slice(0, 60)}) has not opted in to experiments: start it with ${PROCESS_OPT_IN} in its environment, or add the pattern '${spec.pattern}' to GAMEDAY_ALLOWED_TARGETS on the worker`,
          );
        }
      }
    }
    return { selector: `processes matching /${spec.pattern}/`, refs: found.map(processRef) };
  },
  faults: {
    'process-pause': { inject: pauseProcesses, revert: (_deps, planned) => resumeProcesses(planned) },
    'process-kill': { inject: (_deps, planned) => killProcesses(planned), revert: (_deps, planned) => restartProcesses(planned) },
  },
};
