/**
 * The faults of an experiment file, by kind. Each kind is defined once, with its words for the
 * reports, in src/faults/kinds/ (one file per family); this is where the spec takes them from.
 */
export { faultSchema, targetKindOf, type FaultKindName } from '../faults/kinds';
