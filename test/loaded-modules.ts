/**
 * Preloaded with `node --require` by the CLI tests: when the process exits, writes the files of
 * every module it loaded (require.cache, which the compiled `import()` fills too) to the file
 * named by GAMEDAY_LOADED_MODULES_FILE, so that a test can tell what a command loaded.
 */
import { writeFileSync } from 'node:fs';

const out = process.env.GAMEDAY_LOADED_MODULES_FILE;
if (out) process.on('exit', () => writeFileSync(out, JSON.stringify(Object.keys(require.cache))));
