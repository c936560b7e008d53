/**
 * The results store: the contract (types.ts), its PostgreSQL implementation and its migrations.
 */
export type { ResultsStore, RunKey, RunReader, SamplePhase, StoredEvent, StoredSample } from './types';
export { openResultsStore, RESULTS_APPLICATION_NAME, type ResultsStoreOptions } from './postgres';
export { migrateResultsStore, MIGRATIONS_DIR, MIGRATIONS_TABLE } from './migrate';
export { ResultsStoreError, ResultsStoreUnreachable } from './errors';
export { maskUrl } from './url';
