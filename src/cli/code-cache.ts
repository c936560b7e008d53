import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

/*
 * Node 20 has no compile cache of its own (module.enableCompileCache came with Node 22), and
 * v8-compile-cache keeps only what V8 compiles before a module runs, which is little: measured,
 * it saved nothing here. A cache made when the process exits holds every function that ran, so
 * the next start of the same command compiles almost nothing.
 */

/** What requireWithCodeCache loaded: the file's exports, and whether V8 took the cache. */
export interface CachedModule {
  exports: unknown;
  cacheAccepted: boolean;
}

/**
 * Runs the CommonJS file `file` as require() would and returns its exports, with the V8 code
 * cache kept at `cacheFile`: read when it is there and V8 accepts it (same V8, same flags, same
 * source); otherwise written when the process exits, unless it exits with code 1 (an error: a
 * command that failed early ran too little of its code to be worth caching). Any failure to read
 * or write the cache only costs the time it would have saved.
 */
export function requireWithCodeCache(file: string, cacheFile: string): CachedModule {
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
  const cacheAccepted = cachedData !== undefined && script.cachedDataRejected !== true;
  if (!cacheAccepted) process.once('exit', (code) => code !== 1 && writeCache(script, cacheFile));
  const mod = new Module(file);
  mod.filename = file;
  const moduleRequire = createRequire(file);
  // Listed with every other loaded module, as require() would have done.
  moduleRequire.cache[file] = mod;
  (script.runInThisContext() as (...args: unknown[]) => void).call(mod.exports, mod.exports, moduleRequire, mod, file, path.dirname(file));
  mod.loaded = true;
  return { exports: mod.exports, cacheAccepted };
}

function writeCache(script: vm.Script, cacheFile: string): void {
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, script.createCachedData());
    // Atomic, for two commands exiting at once.
    renameSync(tmp, cacheFile);
  } catch {
    // A read-only install: no cache, as without one.
  }
}

/** The cache file of `command` for the bundle `file`: beside it, by its size and time (a rebuilt bundle is a new file). */
export function codeCacheFile(file: string, command: string): string {
  const { size, mtimeMs } = statSync(file);
  return path.join(path.dirname(file), `${path.basename(file, '.js')}.${command}.${size}-${Math.round(mtimeMs)}.${process.version}.v8cache`);
}
