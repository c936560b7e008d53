/**
 * The `gameday` CLI run as a user runs it, in a process of its own. Light (Node built-ins only),
 * so that unit tests of the CLI's start load nothing else; test/helpers.ts re-exports it.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { LoadedModules } from './loaded-modules';

/** The project's folder (this file is compiled to dist/test/). */
export const ROOT = path.resolve(__dirname, '..', '..');

/** What `gameday <args>` printed, and its exit code. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node <script> <args>` in the project's folder; never rejects. */
export function runNode(script: string, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) =>
    execFile(process.execPath, [script, ...args], { env: { ...process.env, ...env }, cwd: ROOT }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

/** Runs the `gameday` CLI as a user does (bin/gameday.js); never rejects. */
export function gameday(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runNode(path.join(ROOT, 'bin', 'gameday.js'), args, env);
}

/** Runs the installed command, bin/gameday (the launcher npm links as `gameday`), as a shell does; never rejects. */
export function gamedayCommand(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) =>
    execFile(path.join(ROOT, 'bin', 'gameday'), args, { env: { ...process.env, ...env }, cwd: ROOT }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

/**
 * Runs the CLI as `gameday` does, and lists every module the process loaded (test/loaded-modules.ts),
 * as absolute paths: `loaded` all of them, `required` those loaded with require() (not from the bundle);
 * `builtins` the Node built-ins it loaded.
 */
export async function gamedayLoading(args: string[], env: Record<string, string> = {}): Promise<{ run: CliRun; loaded: string[]; required: string[]; builtins: string[] }> {
  const list = path.join(await mkdtemp(path.join(os.tmpdir(), 'gameday-modules-')), 'loaded.json');
  const hook = path.join(__dirname, 'loaded-modules.js');
  const run = await gameday(args, { ...env, NODE_OPTIONS: `--require ${hook}`, GAMEDAY_LOADED_MODULES_FILE: list });
  const { required, bundled, builtins } = JSON.parse(await readFile(list, 'utf8')) as LoadedModules;
  return { run, loaded: [...required, ...bundled], required, builtins };
}
