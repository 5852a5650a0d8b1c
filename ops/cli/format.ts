/** Pure text helpers for human output. */

const DURATION_UNITS = [
  ['d', 86_400],
  ['h', 3_600],
  ['min', 60],
  ['s', 1],
] as const;

/** 42 → "42 s", 185 → "3 min 5 s", 7_300 → "2 h 1 min", 180_000 → "2 d 2 h". */
export function formatDuration(totalSeconds: number): string {
  let rest = Math.max(0, Math.round(totalSeconds));
  const amounts = DURATION_UNITS.map(([unit, size]) => {
    const amount = Math.floor(rest / size);
    rest -= amount * size;
    return { unit, amount };
  });
  const first = amounts.findIndex(({ amount }) => amount > 0);
  if (first === -1) return '0 s';
  // Two units are precise enough for an age or an estimate.
  return amounts
    .slice(first, first + 2)
    .filter(({ amount }) => amount > 0)
    .map(({ unit, amount }) => `${amount} ${unit}`)
    .join(' ');
}

/** 512 → "512 B", 1536 → "1.5 KiB", 5_242_880 → "5.0 MiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** An SQS epoch-milliseconds attribute as ISO 8601, or undefined when absent or not a number. */
export function isoFromEpochMs(value: string | undefined): string | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return new Date(Number(value)).toISOString();
}

/** "1 message", "3 messages". */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** Aligned "label  value" lines. */
export function labelled(rows: ReadonlyArray<readonly [string, string]>, indent = ''): string[] {
  const width = Math.max(0, ...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${indent}${label.padEnd(width)}  ${value}`);
}

/** "4 messages (3 visible, 1 in flight)", "5 messages (3 visible, 1 in flight, 1 delayed)", "no messages". */
export function messageCountText(counts: { readonly messages: number; readonly visible: number; readonly inFlight: number; readonly delayed: number }): string {
  if (counts.messages === 0) return 'no messages';
  const delayed = counts.delayed > 0 ? `, ${counts.delayed} delayed` : '';
  return `${plural(counts.messages, 'message')} (${counts.visible} visible, ${counts.inFlight} in flight${delayed})`;
}
