import path from 'node:path';
import { FailureType, GamedayError, InvalidExperimentError, formatProblem } from '../errors';
import { loadFreezeWindows } from '../spec/freeze-windows';
import { secretWarnings } from '../secrets';
import { loadSpecFile } from '../spec/loader';

/** A freeze-window file is known by its name: freeze-windows.yaml (or .yml, .json). */
export function isFreezeFile(file: string): boolean {
  return /^freeze-windows\.(ya?ml|json)$/.test(path.basename(file));
}

/**
 * Validates experiment and scenario files, and freeze-window files (by their name). Returns one line per problem (`file: field.path: problem`);
 * empty when every file is valid. Warnings (secrets: see secretWarnings) go to `warn` and fail nothing.
 */
export async function validateFiles(files: string[], warn: (line: string) => void = () => undefined, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const lines: string[] = [];
  for (const file of files) {
    try {
      if (isFreezeFile(file)) await loadFreezeWindows(file, true);
      else secretWarnings((await loadSpecFile(file)).spec, env).forEach((w) => warn(`${file}: ${w.path}: warning: ${w.message}`));
    } catch (e) {
      if (e instanceof InvalidExperimentError) lines.push(...e.problems.map(formatProblem));
      else if (e instanceof GamedayError && e.type === FailureType.InvalidFreezeWindows) lines.push(...e.message.split('\n'));
      else throw e;
    }
  }
  return lines;
}
