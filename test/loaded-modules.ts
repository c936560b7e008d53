/**
 * Preloaded with `node --require` by the CLI tests: when the process exits, writes the files of
 * every module it loaded to the file named by GAMEDAY_LOADED_MODULES_FILE (JSON, LoadedModules),
 * so that a test can tell what a command loaded.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

/** What a process loaded, as absolute paths. */
export interface LoadedModules {
  /** The files in require.cache (which the compiled `import()` fills too). */
  required: string[];
  /**
   * For a command run from the bundle (dist/bundle/cli.js): the source files of the bundle's
   * modules that ran, which each record on the list this preload creates (scripts/bundle-cli.js).
   */
  bundled: string[];
  /** Node's built-in modules the process loaded (child_process, http...), node's own start's included. */
  builtins: string[];
}

const ROOT = path.resolve(__dirname, '..', '..');
const out = process.env.GAMEDAY_LOADED_MODULES_FILE;
if (out) {
  const fromBundle: string[] = [];
  (globalThis as { __gamedayBundleModules?: string[] }).__gamedayBundleModules = fromBundle;
  process.on('exit', () => {
    const builtins = (process as unknown as { moduleLoadList: string[] }).moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length));
    const loaded: LoadedModules = { required: Object.keys(require.cache), bundled: fromBundle.map((f) => path.join(ROOT, f)), builtins };
    writeFileSync(out, JSON.stringify(loaded));
  });
}
