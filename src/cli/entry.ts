import type { Command } from 'commander';
import { InvalidExperimentError, formatProblem } from '../errors';
import { maskPasswords } from '../mask';

/**
 * Runs a CLI program (the full one, main.ts, or `run` alone, run-main.ts): known failures print
 * their message alone, without a stack trace; what the command opened is closed at the end.
 */
export async function runCli(build: () => Command, argv: string[], cleanup: (() => Promise<unknown>)[]): Promise<void> {
  try {
    await build().parseAsync(argv);
  } catch (e) {
    if (e instanceof InvalidExperimentError) e.problems.map(formatProblem).forEach((p) => process.stderr.write(p + '\n'));
    else process.stderr.write(`gameday: ${maskPasswords((e as Error).message)}\n`);
    process.exitCode = 1;
  } finally {
    await Promise.all(cleanup.map((close) => close().catch(() => undefined)));
  }
}
