import { Command } from 'commander';
import { runCli } from './entry';
import { addRunCommand } from './run-command';

/**
 * `gameday run` alone: the entry of dist/bundle/run.js (scripts/bundle-cli.js), which bin/gameday.js
 * starts for `run`. It parses and runs the command as the full CLI does (the same definition,
 * run-command.ts) with a fraction of the code to load: the bundle of every command is 2.5 MB.
 */
export async function main(argv = process.argv): Promise<void> {
  const cleanup: (() => Promise<unknown>)[] = [];
  await runCli(
    () => {
      const program = new Command('gameday').description('Chaos-engineering game days as durable Temporal workflows').showHelpAfterError();
      addRunCommand(program, cleanup);
      return program;
    },
    argv,
    cleanup,
  );
  // Printed and closed (runCli's cleanup): exit now, rather than once node has drained what is
  // left (an aborted query's socket, a timer), as soon as stdout and stderr have taken every line.
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit();
}

/** Resolves once everything written to `stream` so far is written (a pipe may hold it back). */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}
