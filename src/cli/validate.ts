import { InvalidExperimentError, formatProblem } from '../errors';
import { loadSpecFile } from '../spec/loader';

/**
 * Validates experiment and scenario files. Returns one line per problem (`file: field.path: problem`);
 * empty when every file is valid.
 */
export async function validateFiles(files: string[]): Promise<string[]> {
  const lines: string[] = [];
  for (const file of files) {
    try {
      await loadSpecFile(file);
    } catch (e) {
      if (!(e instanceof InvalidExperimentError)) throw e;
      lines.push(...e.problems.map(formatProblem));
    }
  }
  return lines;
}
