#!/usr/bin/env node
// The compiled CLI: `npm ci` builds dist/ (the prepare script), as does `npm run build`.
let cli;
try {
  cli = require('../dist/src/cli/main');
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes('dist/src/cli/main')) {
    console.error('gameday: not built yet: run `npm run build` in the project folder first');
    process.exit(1);
  }
  throw e;
}
cli.main();
