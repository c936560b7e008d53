/**
 * A command as an experiment file writes it, and its words: pure code (the fault kinds' words,
 * which the workflow plans with, use it).
 */

/** A string run with `sh -c`, or a list of words run as they are. */
export type Command = string | readonly string[];

/** The words a command runs as: a string through `sh -c`, a list as it is. */
export function argvOf(command: Command): string[] {
  return typeof command === 'string' ? ['sh', '-c', command] : [...command];
}

/** A word quoted for a POSIX shell when it needs it. */
function shellWord(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** A command as a person would type it: the string itself, or the words quoted where needed. */
export function commandText(command: Command): string {
  return typeof command === 'string' ? command : command.map(shellWord).join(' ');
}

/** The words after `docker exec <container>` that run the command: `sh -c '…'` for a string. */
export function execWords(command: Command): string {
  return argvOf(command).map(shellWord).join(' ');
}
