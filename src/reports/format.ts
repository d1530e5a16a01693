// Small formatting helpers every report format shares, so text, markdown, HTML and the plots say the same thing
// the same way: times in UTC to the minute, shares as percentages, stack names fit for a terminal.

/** "2026-03-01 14:05 UTC"; anything that is not a time is shown as it is. */
export function formatTime(iso: string): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  return `${new Date(t).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** "2026-03-01" for a period of days, "2026-03-01 14:05" when the whole period is shorter than two days. */
export function formatAxisTime(ms: number, spanMs: number): string {
  if (!Number.isFinite(ms)) return "";
  const iso = new Date(ms).toISOString();
  return spanMs >= 2 * 86_400_000 ? iso.slice(0, 10) : iso.slice(0, 16).replace("T", " ");
}

/** 0.75 → "75%", 2/3 → "66.7%": one decimal only where it says something. */
export function formatPercent(share: number): string {
  if (!Number.isFinite(share)) return "0%";
  const percent = Math.round(share * 1000) / 10;
  return `${percent}%`;
}

export { plural } from "../core/present.ts";

// Control characters (C0, DEL, C1) and the bidirectional overrides that can make a terminal or a page show
// something else than the text says ("Trojan Source"); names come from configuration and must not do either.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** One line of plain text: line breaks and tabs become spaces, other control characters U+FFFD. */
export function oneLine(text: string): string {
  return text.replace(/[\r\n\t]+/g, " ").replace(UNSAFE, "\uFFFD");
}

/** `text` cut to at most `max` characters (code points), the cut marked with an ellipsis. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join("")}…`;
}
