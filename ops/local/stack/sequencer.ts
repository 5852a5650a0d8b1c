// S3 sequencers are hex strings that order the events of one key; compared at equal length,
// a later event has the greater value. Milliseconds in the high bits keep them increasing
// across restarts of the local stack, the counter within one millisecond.
const COUNTER_BITS = 16n;
const SEQUENCER_HEX_DIGITS = 18;

export function createSequencer(now: () => number = Date.now): () => string {
  let last = 0n;
  return () => {
    const fromClock = BigInt(now()) << COUNTER_BITS;
    last = fromClock > last ? fromClock : last + 1n;
    return last.toString(16).toUpperCase().padStart(SEQUENCER_HEX_DIGITS, '0');
  };
}
