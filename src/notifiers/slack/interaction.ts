// A Slack interaction payload (`block_actions`: someone pressed a button or chose an option in one of our
// messages), read into what the service acts on. Only what Driftwatch uses is read, and checked: the payload is
// signed by Slack, but what it echoes (a message's blocks) started as ours and is handed back, nothing more.
import { z } from "zod";
import type { Person } from "../../core/alerts.ts";

const slackId = z.string().regex(/^[A-Z0-9]{2,40}$/);

const actionSchema = z.looseObject({
  action_id: z.string().max(255),
  type: z.string().max(50),
  value: z.string().max(2000).optional(),
  selected_option: z.looseObject({ value: z.string().max(150) }).optional(),
});

const payloadSchema = z.looseObject({
  type: z.string().max(50),
  user: z.looseObject({ id: slackId, username: z.string().max(200).optional(), name: z.string().max(200).optional() }),
  channel: z.looseObject({ id: slackId }).optional(),
  container: z.looseObject({ channel_id: slackId.optional(), message_ts: z.string().max(40).optional(), thread_ts: z.string().max(40).optional() }).optional(),
  message: z
    .looseObject({ ts: z.string().max(40), thread_ts: z.string().max(40).optional(), text: z.string().max(40_000).optional(), blocks: z.array(z.unknown()).max(100).optional() })
    .optional(),
  actions: z.array(actionSchema).max(25).optional(),
});

/** One press on one of our messages. */
export interface SlackAction {
  actionId: string;
  /** The button's value, or the option chosen. */
  value: string;
  user: Person;
  /** Where the message is (channel id, ts), and its thread when it is a reply. */
  channel: string;
  messageTs: string;
  threadTs?: string;
  /** The message as Slack gave it back (to update it without its spent buttons). */
  message: { text: string; blocks: unknown[] };
}

export type InteractionRead = { ok: true; actions: SlackAction[] } | { ok: false; reason: string };

/** The presses in an interaction's form body (`payload=<JSON>`); another kind of interaction has none. */
export function readInteraction(form: string): InteractionRead {
  const raw = new URLSearchParams(form).get("payload");
  if (raw === null) return { ok: false, reason: "the body has no payload" };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, reason: "the payload is not JSON" };
  }
  const parsed = payloadSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `the payload is not a Slack interaction: ${parsed.error.issues[0]?.path.join(".") || "?"} ${parsed.error.issues[0]?.message ?? ""}`.trim() };
  const p = parsed.data;
  if (p.type !== "block_actions") return { ok: true, actions: [] };
  const channel = p.channel?.id ?? p.container?.channel_id;
  const messageTs = p.message?.ts ?? p.container?.message_ts;
  if (!channel || !messageTs) return { ok: false, reason: "the interaction names no channel or message" };
  const threadTs = p.message?.thread_ts ?? p.container?.thread_ts;
  const user: Person = { id: p.user.id, name: p.user.username ?? p.user.name ?? p.user.id };
  const actions = (p.actions ?? []).flatMap((a): SlackAction[] => {
    const value = a.selected_option?.value ?? a.value;
    if (value === undefined) return [];
    return [{
      actionId: a.action_id,
      value,
      user,
      channel,
      messageTs,
      ...(threadTs && threadTs !== messageTs ? { threadTs } : {}),
      message: { text: p.message?.text ?? "", blocks: p.message?.blocks ?? [] },
    }];
  });
  return { ok: true, actions };
}
