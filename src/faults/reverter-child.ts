/**
 * The reverter process (see reverter.ts): due-time reverts with an event loop of their own, at a
 * higher priority than the worker's. It reverts through the same fault families as the worker's
 * revert activity, with its own Docker connection and the worker's environment.
 */
import os from 'node:os';
import { connectDocker } from './docker';
import { DueReverts } from './due-reverts';
import { revertFault } from './index';
import { toWire, type FromReverter, type ToReverter } from './reverter';

/** Raises this process's priority first, so that the threads started after inherit it. */
function raisePriority(): number | string {
  try {
    os.setPriority(-10);
    return os.getPriority();
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  }
}

const nice = raisePriority();
const deps = { docker: connectDocker() };
// Nothing to ask at the due time: the worker cancels a fault its run no longer holds beforehand.
const reverts = new DueReverts();
const send = (m: FromReverter): void => void process.send?.(m);

process.on('message', (m: ToReverter) => {
  if (m.type === 'arm') {
    reverts.arm({ key: m.key, dueAtMs: m.dueAtMs, stillInPlace: async () => true, revert: () => revertFault(deps, m.fault), onDone: (o) => send({ type: 'done', outcome: toWire(o) }) });
  } else if (m.type === 'cancel') {
    void reverts.disarm(m.key);
  } else {
    void reverts.disarm(m.key).then((o) => send({ type: 'disarmed', ask: m.ask, outcome: o && toWire(o) }));
  }
});
// The worker went away: faults still armed are its workflows' to revert.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', nice });
