import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { FailureType, GamedayError } from '../errors';
import { commandFieldsOf } from '../faults/kinds';
import { kindOf, parseDocument } from '../spec/loader';
import { commandText, type Command } from './command';

/**
 * Who may make a worker run a command: the command probe, the docker-exec fault (its command and
 * its revert) and process-kill's `restart`. A command runs only when a file of the worker's
 * catalog (GAMEDAY_EXPERIMENTS_DIR) holds it, unless the worker allows inline commands
 * (GAMEDAY_ALLOW_INLINE_COMMANDS=true): an input typed into the Web UI, a `--input` JSON or a
 * file outside the catalog cannot otherwise run a command on a host. The worker checks it
 * (planning a run; injecting; the janitor's reverts), never only the CLI.
 */

/** One command an experiment carries, and the field it is in: `method.0.fault.revert`. */
export interface CommandUse {
  field: string;
  command: Command;
}

/** What a worker allows. */
export interface CommandPolicy {
  /** GAMEDAY_ALLOW_INLINE_COMMANDS=true: any command runs, wherever it came from. */
  allowInline: boolean;
  /** The catalog whose files' commands run; none when absent (an agent without one). */
  catalogDir?: string;
}

/** The environment variable that allows inline commands. */
export const ALLOW_INLINE_COMMANDS = 'GAMEDAY_ALLOW_INLINE_COMMANDS';

/** A command no file of the catalog holds, refused: names the file (or input) and the field. */
export class CommandNotAllowed extends GamedayError {
  constructor(
    readonly file: string,
    readonly field: string,
    message: string,
  ) {
    super(FailureType.CommandNotAllowed, message);
  }
}

type Loose = Record<string, unknown> | undefined;

const isCommand = (v: unknown): v is Command => typeof v === 'string' || (Array.isArray(v) && v.every((w) => typeof w === 'string'));

/** The commands of one fault (parsed or as written), its fields under `at`. */
export function commandsOfFault(fault: unknown, at = 'fault'): CommandUse[] {
  const f = fault as Loose;
  if (typeof f?.kind !== 'string') return [];
  return commandFieldsOf(f.kind).flatMap((field) => (isCommand(f[field]) ? [{ field: `${at}.${field}`, command: f[field] }] : []));
}

function probeCommand(check: unknown, at: string): CommandUse[] {
  const probe = (check as Loose)?.probe as Loose;
  return probe?.kind === 'command' && isCommand(probe.command) ? [{ field: `${at}.probe.command`, command: probe.command }] : [];
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Every command an experiment carries (parsed, or a document as written), with its field. */
export function commandsOfExperiment(spec: unknown): CommandUse[] {
  const e = spec as Loose;
  return [
    ...list(e?.method).flatMap((step, i) => commandsOfFault((step as Loose)?.fault, `method.${i}.fault`)),
    ...list(e?.steadyState).flatMap((c, i) => probeCommand(c, `steadyState.${i}`)),
    ...list((e?.observe as Loose)?.probes).flatMap((c, i) => probeCommand(c, `observe.probes.${i}`)),
    ...list(e?.guardrails).flatMap((c, i) => probeCommand(c, `guardrails.${i}`)),
  ];
}

/** Every command a scenario's inline stages carry, their fields under `stages.N.spec`. */
export function commandsOfScenario(spec: unknown): CommandUse[] {
  return list((spec as Loose)?.stages).flatMap((s, i) => commandsOfExperiment((s as Loose)?.spec).map((u) => ({ ...u, field: `stages.${i}.spec.${u.field}` })));
}

/** A command as the catalog and a spec are compared: the same words (a string without its outer spaces). */
function keyOf(command: Command): string {
  return JSON.stringify(typeof command === 'string' ? command.trim() : command);
}

const EXTENSIONS = ['.yaml', '.yml', '.json'];

/**
 * The commands the catalog's files hold (experiments, and the inline stages of scenarios), read
 * now: a file edited or removed since counts as it is. A file that does not parse adds none.
 */
export async function catalogCommands(dir: string): Promise<Set<string>> {
  const found = new Set<string>();
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    if (!EXTENSIONS.includes(path.extname(f))) continue;
    const file = path.join(dir, f);
    let doc: unknown;
    try {
      doc = parseDocument(await readFile(file, 'utf8'), file);
    } catch {
      continue;
    }
    const uses = kindOf(doc) === 'scenario' ? commandsOfScenario(doc) : commandsOfExperiment(doc);
    for (const u of uses) found.add(keyOf(u.command));
  }
  return found;
}

/**
 * Refuses the commands no file of the catalog holds, unless the policy allows inline ones.
 * @throws CommandNotAllowed naming `file` and the field of each command refused (one a line).
 */
export async function checkCommands(uses: CommandUse[], file: string, policy: CommandPolicy): Promise<void> {
  if (uses.length === 0 || policy.allowInline) return;
  const catalog = policy.catalogDir ? await catalogCommands(policy.catalogDir) : new Set<string>();
  const refused = uses.filter((u) => !catalog.has(keyOf(u.command)));
  if (refused.length === 0) return;
  const where = policy.catalogDir ? `the catalog (${policy.catalogDir})` : 'a catalog (this host has none)';
  const lines = refused.map((u) => `${file}: ${u.field}: the command \`${commandText(u.command)}\` is in no experiment file of ${where}`);
  throw new CommandNotAllowed(
    file,
    refused[0].field,
    `${lines.join('\n')}\nA command runs only from a file in the catalog: an input given inline (the Web UI, --input, a file elsewhere) runs none unless the worker sets ${ALLOW_INLINE_COMMANDS}=true`,
  );
}

