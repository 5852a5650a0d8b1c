/**
 * The raw object version a file's outputs were made from: what the source action and the completion event
 * name. The same value the outputs' provenance records (the ETag here always without quotes).
 */
export type { ProvenanceSource as SourceVersion } from '../common/provenance.ts';
