// The period of a report, as people write it: `--since 7d` (ending now) or `--from ISO --to ISO`.

/** A period length: a whole number and a unit (m, h, d, w), e.g. 30m, 12h, 7d, 4w. */
export function parseSince(text: string): number | undefined {
  const match = /^(\d{1,6})(m|h|d|w)$/.exec(text.trim());
  if (!match) return undefined;
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[match[2] as "m" | "h" | "d" | "w"];
  const ms = Number(match[1]) * unit;
  return ms > 0 ? ms : undefined;
}

export const SINCE_HINT = "a whole number and a unit (m, h, d or w), e.g. 12h, 7d, 4w";

/** An ISO 8601 time (a date alone means its midnight UTC). */
export function parseInstant(text: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())) return undefined;
  const date = new Date(text.trim());
  return Number.isNaN(date.getTime()) ? undefined : date;
}
