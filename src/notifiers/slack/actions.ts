// The buttons Driftwatch puts on its Slack messages, named once for the messages that carry them (render.ts) and
// the service that takes their presses (src/service/slack-actions.ts). A button's value names the record it acts
// on (an episode id, an approval id); the record, never the message, says which stack that is.

export const ACTION = {
  approve: "driftwatch.approve",
  reject: "driftwatch.reject",
  recheck: "driftwatch.recheck",
  acknowledge: "driftwatch.acknowledge",
  snooze: "driftwatch.snooze",
  ignoreRule: "driftwatch.ignore_rule",
} as const;

export type ActionId = (typeof ACTION)[keyof typeof ACTION];

/** The `block_id` of every actions block Driftwatch adds: what is taken off a message once its buttons are spent. */
export const ACTIONS_BLOCK_PREFIX = "driftwatch-actions";

/** How long a snooze may last, by the value of its option. */
export const SNOOZE_OPTIONS = [
  { value: "1h", label: "1 hour", ms: 3_600_000 },
  { value: "1d", label: "1 day", ms: 86_400_000 },
  { value: "1w", label: "1 week", ms: 7 * 86_400_000 },
] as const;

/** A snooze option's value carries the episode too (a select has one value per option, not one per element). */
export function snoozeOptionValue(episodeId: number, option: (typeof SNOOZE_OPTIONS)[number]["value"]): string {
  return `${episodeId}:${option}`;
}

/** The episode id and the duration a snooze option's value names, or undefined when it is not one of ours. */
export function parseSnoozeOption(value: string): { episodeId: number; ms: number; label: string } | undefined {
  const match = /^(\d{1,15}):(\w+)$/.exec(value);
  const option = SNOOZE_OPTIONS.find((o) => o.value === match?.[2]);
  return match && option ? { episodeId: Number(match[1]), ms: option.ms, label: option.label } : undefined;
}

/** An episode id as a button carries it, or undefined. */
export function parseEpisodeId(value: string): number | undefined {
  return /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}

/** An approval id as a button carries it (12 hex digits, as requestApproval makes them), or undefined. */
export function parseApprovalId(value: string): string | undefined {
  return /^[0-9a-f]{12}$/.test(value) ? value : undefined;
}
