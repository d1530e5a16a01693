// Durations as people read them, the same in every report format, the dashboard and Slack: 45s, 12m, 2h 15m,
// 3d 4h. Two units at most, truncated rather than rounded, so "1d 23h" never turns into a misleading "2d".

/** 45s, 12m, 2h 15m, 3d 4h; negative or non-finite input reads as 0s. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "0s";
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return `${Math.floor(ms / 1000)}s`;
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days > 0) return hours > 0 ? `${days}d ${hours}h` : `${days}d`;
  if (hours > 0) return mins > 0 ? `${hours}h ${mins}m` : `${hours}h`;
  return `${mins}m`;
}
