/** `--since`: a duration back from now (`30m`, `48h`, `2d`) or an ISO 8601 time. Pure: `now` is passed in. */
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function parseSince(value: string, now: number): Date {
  const text = value.trim();
  const duration = /^(\d+(?:\.\d+)?)([mhd])$/.exec(text);
  if (duration) {
    const amount = Number(duration[1]);
    const unit = duration[2] as keyof typeof UNIT_MS;
    return new Date(now - amount * UNIT_MS[unit]);
  }
  // An ISO time with a date and a time zone (Z or an offset): a bare date or local time would depend on the machine.
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/.test(text)) {
    const time = Date.parse(text);
    if (!Number.isNaN(time)) return new Date(time);
  }
  throw new RangeError('must be a duration back from now (30m, 48h, 2d) or an ISO time with its zone (2026-12-01T00:00:00Z)');
}
