#!/usr/bin/env node
// Applies the results store's migrations (migrations/) to the PostgreSQL URL given, creating its
// database when missing: scripts/provision.sh's postgres piece runs it. Needs dist/ (npm run build).
const { migrateResultsStore } = require('../dist/src/store/migrate');

const url = process.argv[2];
if (!url) {
  console.error('usage: scripts/migrate-results-store.js postgres://user@host:port/database');
  process.exit(2);
}
migrateResultsStore(url).then(
  () => process.exit(0),
  (e) => {
    // The store's errors name the URL with its password masked.
    console.error(`[provision] ${e.message}`);
    process.exit(1);
  },
);
