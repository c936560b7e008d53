import { InvalidExperimentError, formatProblem } from '../errors';
import { loadExperimentFile } from '../spec/loader';

/**
 * Validates experiment files. Returns one line per problem (`file: field.path: problem`);
 * empty when every file is valid.
 */
export async function validateFiles(files: string[]): Promise<string[]> {
  const lines: string[] = [];
  for (const file of files) {
    try {
      await loadExperimentFile(file);
    } catch (e) {
      if (!(e instanceof InvalidExperimentError)) throw e;
      lines.push(...e.problems.map(formatProblem));
    }
  }
  return lines;
}
