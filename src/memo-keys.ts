/*
 * The memo keys of Gameday's runs, without the SDK: `gameday run` writes TRIGGER_MEMO before it
 * has loaded any of @temporalio/* (search-attributes.ts re-exports both).
 */

/** The memo key under which an experiment keeps its fault records current (the janitor reads it). */
export const FAULTS_MEMO = 'gamedayFaults';

/** The memo key saying who started a run (`cli`; a scenario passes its own on to its stages). */
export const TRIGGER_MEMO = 'gamedayTrigger';
