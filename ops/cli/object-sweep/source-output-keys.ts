/** Where the worker writes a raw key's outputs: PROCESSED_PREFIX / REJECTED_PREFIX + the source's output prefix + the raw key. Pure. */
import { outputKeys, type OutputKeys, type OutputLocation } from '../../../worker/output/output-keys.ts';

/** The output prefix of a listed key's source; undefined when the worker does not take the key. */
export type OutputPrefixOf = (key: string) => string | undefined;

/** Without SOURCES every key is its own bucket's, with no output prefix. */
export const NO_OUTPUT_PREFIX: OutputPrefixOf = () => '';

/** The outputs of `key`; throws as the worker refuses it (an output key that would collide or be too long). */
export function sourceOutputKeys(location: OutputLocation, outputPrefix: string, key: string): OutputKeys {
  return outputKeys(location, key, outputPrefix);
}
