import YAML from 'yaml';
import { InvalidExperimentError, type SpecProblem } from '../errors';
import { LIMITS } from './limits';

/**
 * A file's text as a plain document, held to the bounds no schema can check after the fact: its
 * size, its nesting depth, its YAML aliases, the length of every string and list. Each of these
 * is one problem (one line), found before the YAML composer or zod recurse into the document.
 */

const DEPTH_MESSAGE = `nested more than ${LIMITS.depth} levels deep (objects and lists within each other); at most ${LIMITS.depth}`;

/**
 * The line at which `[` and `{` nest deeper than LIMITS.depth, or undefined. The YAML lexer is
 * iterative and knows quoted strings and comments, so a bracket inside a string does not count;
 * the composer after it recurses, and a JSON file 1000 levels deep overflows its stack.
 */
function tooDeepFlowAt(text: string): number | undefined {
  let depth = 0;
  let line = 1;
  for (const token of new YAML.Lexer().lex(text)) {
    if (token === '[' || token === '{') {
      if (++depth > LIMITS.depth) return line;
    } else if (token === ']' || token === '}') depth--;
    else if (token === '\n') line++;
  }
  return undefined;
}

function pathText(path: (string | number)[]): string {
  return path.join('.');
}

/**
 * The bounds of a parsed document (from a file, or a spec sent inline): depth, the length of
 * every string and key, the number of entries of every list and object. Iterative, so that no
 * document can overflow the stack; a document too deep is one problem, whatever else it holds.
 */
export function documentProblems(doc: unknown, file: string): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const stack: [unknown, (string | number)[]][] = [[doc, []]];
  const longString = (n: number): string => `a string of ${n} characters; at most ${LIMITS.stringChars} (64 KB)`;
  while (stack.length > 0) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (value.length > LIMITS.stringChars) problems.push({ file, path: pathText(path), message: longString(value.length) });
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (path.length >= LIMITS.depth) return [{ file, path: '', message: `${DEPTH_MESSAGE} (under ${pathText(path.slice(0, 3))}…)` }];
    const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
    if (entries.length > LIMITS.anyListItems) {
      problems.push({ file, path: pathText(path), message: `${entries.length} entries; at most ${LIMITS.anyListItems}` });
      continue;
    }
    for (const [key, child] of entries) {
      if (typeof key === 'string' && key.length > LIMITS.stringChars) problems.push({ file, path: pathText(path), message: `a key of ${key.length} characters; at most ${LIMITS.stringChars} (64 KB)` });
      else stack.push([child, [...path, key]]);
    }
  }
  return problems.reverse();
}

const fail = (file: string, message: string): never => {
  throw new InvalidExperimentError([{ file, path: '', message }]);
};

/**
 * Parses YAML or JSON text (JSON is YAML) into a plain document held to the bounds above.
 * @throws InvalidExperimentError: a syntax error with its line, or one problem per bound broken.
 */
export function parseDocument(text: string, file: string): unknown {
  const bytes = Buffer.byteLength(text);
  if (bytes > LIMITS.fileBytes) fail(file, tooBig(bytes));
  const deepAt = tooDeepFlowAt(text);
  if (deepAt !== undefined) fail(file, `line ${deepAt}: ${DEPTH_MESSAGE}`);
  const lineCounter = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  // Block nesting (by indentation) is not bracketed: the composer's own recursion finds it.
  if (doc.errors.some((e) => /call stack/.test(e.message))) fail(file, DEPTH_MESSAGE);
  if (doc.errors.length > 0) {
    throw new InvalidExperimentError(doc.errors.map((e) => ({ file, path: '', message: `line ${lineCounter.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}` })));
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: LIMITS.yamlAliases });
  } catch (e) {
    if (e instanceof ReferenceError && /alias/i.test(e.message)) fail(file, `its YAML aliases expand to more than ${LIMITS.yamlAliases} nodes (a guard against alias bombs): write the values out`);
    if (e instanceof RangeError) fail(file, DEPTH_MESSAGE);
    throw e;
  }
  const problems = documentProblems(value, file);
  if (problems.length > 0) throw new InvalidExperimentError(problems);
  return value;
}

/** The problem of a file over LIMITS.fileBytes. */
export function tooBig(bytes: number): string {
  return `the file is ${(bytes / 1024 / 1024).toFixed(1)} MB; at most ${LIMITS.fileBytes / 1024 / 1024} MB`;
}
