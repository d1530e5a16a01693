// A local stand-in for the Slack Web API, for tests: the real @slack/web-api client talks to it through its
// `slackApiUrl` option. It implements the methods Driftwatch uses (chat.postMessage, chat.update,
// chat.postEphemeral, auth.test, conversations.list/history/replies with message metadata, usergroups.users.list),
// keeps the messages per channel, records every request, enforces the Block Kit limits Slack enforces, and fails on
// demand (429 with Retry-After, 5xx, a request that never answers, a platform error like invalid_auth, or a post
// that lands but whose answer is lost).
// It also plays Slack's side of interactivity: press() sends the service a signed `block_actions` payload for a
// button or select that really is on a posted message (and replay() sends those bytes again), and the server takes
// the service's posts to the payload's response_url (/actions/...) the way hooks.slack.com does.
import { createHash, createHmac, randomBytes, randomInt } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type FailureMode =
  | { kind: "ratelimit"; retryAfterSeconds: number }
  | { kind: "status"; status: number }
  | { kind: "hang" }
  | { kind: "platform"; error: string }
  /** The request is carried out (a post lands), then its answer is lost: never sent, or replaced by this status. */
  | { kind: "lost-answer"; status?: number };

export interface RecordedRequest {
  /** The Web API method, or "response_url" for a post to an interaction's response_url (which carries no token). */
  method: string;
  /** The parameters as the client sent them; `blocks` parsed from JSON. */
  body: Record<string, unknown>;
  token: string | undefined;
  at: number;
  /** What the server answered: an HTTP status, and Slack's error code for ok:false answers. */
  status: number;
  error?: string;
}

export interface StoredMessage {
  ts: string;
  threadTs?: string;
  text: string;
  blocks: unknown[];
  edits: number;
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
}

/** An ephemeral message: shown to one person in a channel, and kept out of the channel's history. */
export interface StoredEphemeral {
  /** The channel's id (as posts to "#drift" and "CDRIFT00" both land in "CDRIFT00"). */
  channel: string;
  user: string;
  text: string;
  blocks: unknown[];
  threadTs?: string;
}

/** A post the service made to an interaction's response_url. */
export interface StoredResponse {
  /** The URL's path, e.g. "/actions/TTEST/1234567890/9f86d0…". */
  path: string;
  /** As posted (JSON): text, blocks, response_type, replace_original, delete_original, thread_ts. */
  body: Record<string, unknown>;
}

export interface PressOptions {
  /** The service's interactivity URL, e.g. new URL("/api/slack/interactions", serviceUrl).toString(). */
  url: string;
  /** The signing secret the service verifies with. */
  signingSecret: string;
  /** The channel's name or id, as messages() accepts. */
  channel: string;
  /** The message the button is on. */
  ts: string;
  /** The element's action_id. */
  actionId: string;
  user: { id: string; name: string };
  /** For a static_select element: the value of the option chosen. */
  option?: string;
  /** Seconds since the epoch to sign with (default now): tests send stale ones. */
  timestamp?: number;
  /** Replaces the computed X-Slack-Signature (a bad signature). */
  signature?: string;
}

export interface InteractionDelivery {
  status: number;
  /** The answer's body as text. */
  body: string;
  /** Exactly what was sent, so a test can send it again (a replay). */
  request: { url: string; headers: Record<string, string>; body: string };
}

interface Block {
  type?: string;
  block_id?: string;
  text?: { type?: string; text?: string };
  fields?: { text?: string }[];
  elements?: unknown[];
  accessory?: unknown;
}

interface SelectOption {
  value?: string;
}

/** An interactive element (a button, a select) as it sits in an actions block or a section's accessory. */
interface Element {
  type?: string;
  action_id?: string;
  text?: unknown;
  value?: string;
  placeholder?: unknown;
  options?: SelectOption[];
  option_groups?: { options?: SelectOption[] }[];
}

/** The Block Kit limits Slack rejects a message for (`invalid_blocks`), or undefined when it is acceptable. */
export function blockProblem(blocks: unknown[]): string | undefined {
  if (blocks.length > 50) return `${blocks.length} blocks (max 50)`;
  for (const [i, raw] of blocks.entries()) {
    const block = raw as Block;
    const text = block.text?.text ?? "";
    if (block.type === "header" && text.length > 150) return `block ${i}: header text ${text.length} chars (max 150)`;
    if ((block.type === "section" || block.type === "markdown") && text.length > 3000) return `block ${i}: text ${text.length} chars (max 3000)`;
    if (block.type === "section" && block.fields) {
      if (block.fields.length > 10) return `block ${i}: ${block.fields.length} fields (max 10)`;
      if (block.fields.some((f) => (f.text ?? "").length > 2000)) return `block ${i}: a field over 2000 chars`;
    }
    if (block.type === "context" && (block.elements?.length ?? 0) > 10) return `block ${i}: ${block.elements?.length} context elements (max 10)`;
    if (block.type === "actions" && (block.elements?.length ?? 0) > 25) return `block ${i}: ${block.elements?.length} actions elements (max 25)`;
    for (const element of interactiveElements(block)) {
      if ((element.action_id ?? "").length > 255) return `block ${i}: an action_id over 255 chars`;
      if (element.type === "button" && (element.value ?? "").length > 2000) return `block ${i}: a button value over 2000 chars`;
    }
  }
  return undefined;
}

/** The elements a person can press in a block: an actions block's elements, a section's accessory. */
function interactiveElements(block: Block): Element[] {
  if (block.type === "actions") return (block.elements ?? []) as Element[];
  if (block.type === "section" && block.accessory) return [block.accessory as Element];
  return [];
}

export class SlackServer {
  readonly requests: RecordedRequest[] = [];
  /** Channel names the workspace does not have (answered with channel_not_found). */
  readonly missingChannels = new Set<string>();
  /** chat.postEphemeral's messages, in posting order. */
  readonly ephemerals: StoredEphemeral[] = [];
  /** User group id → its members' ids, for usergroups.users.list; the test fills it. */
  readonly userGroups = new Map<string, string[]>();
  /** The posts to response_urls (press() hands one out with every payload), in arrival order. */
  readonly responses: StoredResponse[] = [];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #channels = new Map<string, StoredMessage[]>();
  readonly #failures: FailureMode[] = [];
  #mode: FailureMode | undefined;
  #clock = Math.floor(Date.now() / 1000);
  #url = "";
  /** Called when a request arrives, before it is answered (a test's hook: "a post is in flight now"). */
  onRequest: ((request: RecordedRequest) => void) | undefined;

  /** The bot token the server accepts. */
  readonly token: string;

  private constructor(token: string) {
    this.token = token;
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.on("connection", (socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
  }

  /** Starts a server on a free loopback port that accepts `token`. */
  static async start(token = "xoxb-test-token"): Promise<SlackServer> {
    const server = new SlackServer(token);
    await new Promise<void>((resolve) => server.#server.listen(0, "127.0.0.1", resolve));
    server.#url = `http://127.0.0.1:${(server.#server.address() as AddressInfo).port}/api/`;
    return server;
  }

  /** The base URL for the client's `slackApiUrl`. */
  get url(): string {
    return this.#url;
  }

  /** The next `count` requests fail this way (before any persistent mode). */
  failNext(count: number, mode: FailureMode): void {
    for (let i = 0; i < count; i += 1) this.#failures.push(mode);
  }

  /** Every request fails this way until set back to undefined. */
  setMode(mode: FailureMode | undefined): void {
    this.#mode = mode;
  }

  /** A channel's messages (by name as posted to, or by id), roots and replies, in posting order. */
  messages(channel: string): StoredMessage[] {
    return this.#channels.get(this.#channelId(channel)) ?? [];
  }

  /** Requests of one method that succeeded. */
  calls(method: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.status === 200 && r.error === undefined);
  }

  /**
   * Presses a button (or chooses a static_select's option) on a posted message, as a person in Slack would: sends
   * the service the signed `block_actions` payload Slack sends. Throws when the message or the element is not
   * there, so a test can only press what really is on the message.
   */
  async press(options: PressOptions): Promise<InteractionDelivery> {
    const message = this.messages(options.channel).find((m) => m.ts === options.ts);
    if (!message) throw new Error(`press: there is no message ${options.ts} in ${options.channel}`);
    const blocks = withBlockIds(message);
    const action = pressedAction(blocks, options);
    const channelId = this.#channelId(options.channel);
    const channelName = this.#channelName(options.channel);
    const thread = message.threadTs ? { thread_ts: message.threadTs } : {};
    const payload = {
      type: "block_actions",
      user: { id: options.user.id, username: options.user.name, name: options.user.name, team_id: "TTEST" },
      api_app_id: "ATEST",
      token: "legacy-verification-token",
      trigger_id: `${randomInt(1e10, 1e11)}.${randomInt(1e8, 1e9)}.${randomBytes(16).toString("hex")}`,
      team: { id: "TTEST", domain: "test" },
      container: { type: "message", message_ts: message.ts, channel_id: channelId, is_ephemeral: false, ...thread },
      channel: { id: channelId, ...(channelName ? { name: channelName } : {}) },
      message: { type: "message", ts: message.ts, text: message.text, blocks, ...thread, user: "UDRIFTWATCH", bot_id: "BDRIFTWATCH" },
      response_url: `${new URL(this.#url).origin}/actions/TTEST/${randomInt(1e10, 1e11)}/${randomBytes(12).toString("hex")}`,
      actions: [action],
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
    const signature = options.signature ?? `v0=${createHmac("sha256", options.signingSecret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
    const request = {
      url: options.url,
      headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature },
      body,
    };
    return { ...(await this.replay(request)), request };
  }

  /** Sends a delivery's exact bytes and headers again, as an attacker who captured them would. */
  async replay(request: InteractionDelivery["request"]): Promise<{ status: number; body: string }> {
    const response = await fetch(request.url, { method: "POST", headers: request.headers, body: request.body });
    return { status: response.status, body: await response.text() };
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** "#drift", "drift" and its id "CDRIFT" are the same channel; ids are kept as they are. */
  #channelId(channel: string): string {
    if (/^[CGD][A-Z0-9]{6,}$/.test(channel)) return channel;
    return `C${channel.replace(/^#/, "").toUpperCase().replace(/[^A-Z0-9]/g, "")}`.padEnd(9, "0");
  }

  /** A channel's name without '#': as given, or the name posted to for an id; undefined when never seen. */
  #channelName(channel: string): string | undefined {
    const id = this.#channelId(channel);
    if (id !== channel) return channel.replace(/^#/, "");
    return [...this.#names].find(([, known]) => known === id)?.[0];
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if ((req.url ?? "").startsWith("/actions/")) return this.#respond(req, res);
    const method = (req.url ?? "").replace(/^\/api\//, "").split("?")[0] ?? "";
    const body = await readBody(req);
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? (typeof body.token === "string" ? body.token : undefined);
    const record: RecordedRequest = { method, body, token, at: Date.now(), status: 200 };
    this.requests.push(record);
    this.onRequest?.(record);

    const failure = this.#failures.shift() ?? this.#mode;
    if (failure?.kind === "hang") return; // never answered; close() destroys the socket
    if (failure?.kind === "lost-answer") {
      const done = this.#answer(method, body, token);
      record.error = done.ok === false ? String(done.error) : "answer lost";
      if (failure.status !== undefined) {
        record.status = failure.status;
        res.writeHead(failure.status, { "content-type": "text/plain" }).end("upstream trouble");
      }
      return;
    }
    if (failure?.kind === "ratelimit") {
      record.status = 429;
      res.writeHead(429, { "retry-after": String(failure.retryAfterSeconds), "content-type": "application/json" }).end(JSON.stringify({ ok: false, error: "ratelimited" }));
      return;
    }
    if (failure?.kind === "status") {
      record.status = failure.status;
      res.writeHead(failure.status, { "content-type": "text/plain" }).end("upstream trouble");
      return;
    }
    const answer = failure?.kind === "platform" ? { ok: false, error: failure.error } : this.#answer(method, body, token);
    if (answer.ok === false) record.error = String(answer.error);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
  }

  #answer(method: string, body: Record<string, unknown>, token: string | undefined): Record<string, unknown> {
    if (token !== this.token) return { ok: false, error: token ? "invalid_auth" : "not_authed" };
    if (method === "auth.test") return { ok: true, user_id: "UDRIFTWATCH", team_id: "TTEST" };
    if (method === "conversations.list") return this.#list(body);
    if (method === "conversations.history" || method === "conversations.replies") return this.#read(method, body);
    if (method === "usergroups.users.list") return this.#groupMembers(body);
    if (method !== "chat.postMessage" && method !== "chat.update" && method !== "chat.postEphemeral") return { ok: false, error: "unknown_method" };

    const channelName = typeof body.channel === "string" ? body.channel : "";
    if (!channelName || this.missingChannels.has(channelName) || this.missingChannels.has(channelName.replace(/^#/, ""))) {
      return { ok: false, error: "channel_not_found" };
    }
    const user = typeof body.user === "string" ? body.user : "";
    if (method === "chat.postEphemeral" && !user) return { ok: false, error: "user_not_in_channel" };
    const text = typeof body.text === "string" ? body.text : "";
    const blocks = Array.isArray(body.blocks) ? body.blocks : [];
    if (!text && blocks.length === 0) return { ok: false, error: "no_text" };
    if (text.length > 40_000) return { ok: false, error: "msg_too_long" };
    const problem = blockProblem(blocks);
    if (problem) return { ok: false, error: "invalid_blocks", errors: [problem] };

    const channel = this.#channelId(channelName);
    const threadTs = typeof body.thread_ts === "string" ? body.thread_ts : undefined;
    if (method === "chat.postEphemeral") {
      // Not among the channel's messages: an ephemeral message is in no history.
      this.#clock += 1;
      this.ephemerals.push({ channel, user, text, blocks, ...(threadTs ? { threadTs } : {}) });
      return { ok: true, message_ts: `${this.#clock}.000100` };
    }
    const messages = this.#channels.get(channel) ?? [];
    this.#channels.set(channel, messages);
    if (method === "chat.update") {
      const target = messages.find((m) => m.ts === body.ts);
      if (channel !== channelName) return { ok: false, error: "channel_not_found" }; // chat.update wants the id
      if (!target) return { ok: false, error: "message_not_found" };
      Object.assign(target, { text, blocks, edits: target.edits + 1 });
      return { ok: true, channel, ts: target.ts, text };
    }
    if (threadTs && !messages.some((m) => m.ts === threadTs)) return { ok: false, error: "thread_not_found" };
    this.#clock += 1;
    const ts = `${this.#clock}.000100`;
    const metadata = body.metadata as StoredMessage["metadata"] | undefined;
    this.#names.set(channelName.replace(/^#/, ""), channel);
    messages.push({ ts, ...(threadTs ? { threadTs } : {}), text, blocks, edits: 0, ...(metadata ? { metadata } : {}) });
    return { ok: true, channel, ts, message: { text, ts, ...(threadTs ? { thread_ts: threadTs } : {}) } };
  }

  /** usergroups.users.list: the members of a group the test put in `userGroups`. */
  #groupMembers(body: Record<string, unknown>): Record<string, unknown> {
    const users = this.userGroups.get(typeof body.usergroup === "string" ? body.usergroup : "");
    return users ? { ok: true, users: [...users] } : { ok: false, error: "no_such_subteam" };
  }

  /** A post to a response_url: taken and answered "ok" as hooks.slack.com does; no token, no failure modes. */
  async #respond(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "").split("?")[0] ?? "";
    const body = await readBody(req);
    const record: RecordedRequest = { method: "response_url", body, token: undefined, at: Date.now(), status: 200 };
    this.requests.push(record);
    this.onRequest?.(record);
    this.responses.push({ path, body });
    res.writeHead(200, { "content-type": "text/plain" }).end("ok");
  }

  /** Channel names (without '#') the bot has posted to, with their ids: what conversations.list shows. */
  readonly #names = new Map<string, string>();

  /** conversations.list: one channel per page of `limit`, so that the client's paging is exercised. */
  #list(body: Record<string, unknown>): Record<string, unknown> {
    const all = [...this.#names].map(([name, id]) => ({ id, name, is_channel: true }));
    const start = Number(body.cursor ?? 0);
    const limit = Math.min(Number(body.limit ?? 100), 2);
    const next = start + limit < all.length ? String(start + limit) : "";
    return { ok: true, channels: all.slice(start, start + limit), response_metadata: { next_cursor: next } };
  }

  /**
   * conversations.history (the channel's roots, newest first) and conversations.replies (a thread, parent first),
   * from `oldest` on, two messages a page; metadata only with include_all_metadata, as Slack does.
   */
  #read(method: string, body: Record<string, unknown>): Record<string, unknown> {
    const channel = typeof body.channel === "string" ? body.channel : "";
    if (!/^[CGD][A-Z0-9]{6,}$/.test(channel) || !this.#channels.has(channel)) return { ok: false, error: "channel_not_found" };
    const oldest = Number(body.oldest ?? 0);
    const withMetadata = body.include_all_metadata === true || body.include_all_metadata === "true";
    const all = this.#channels.get(channel)!;
    let selected: StoredMessage[];
    if (method === "conversations.replies") {
      const parent = all.find((m) => m.ts === body.ts);
      if (!parent) return { ok: false, error: "thread_not_found" };
      selected = [parent, ...all.filter((m) => m.threadTs === parent.ts && Number(m.ts) >= oldest)];
    } else {
      selected = all.filter((m) => !m.threadTs && Number(m.ts) >= oldest).reverse();
    }
    const start = Number(body.cursor ?? 0);
    const limit = Math.min(Number(body.limit ?? 100), 2);
    const next = start + limit < selected.length ? String(start + limit) : "";
    const page = selected.slice(start, start + limit).map((m) => ({
      type: "message",
      ts: m.ts,
      text: m.text,
      ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
      ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}),
    }));
    return { ok: true, messages: page, has_more: next !== "", response_metadata: { next_cursor: next } };
  }
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString("utf8");
  const type = req.headers["content-type"] ?? "";
  const params: Record<string, unknown> = type.includes("application/json")
    ? (JSON.parse(raw || "{}") as Record<string, unknown>)
    : Object.fromEntries(new URLSearchParams(raw));
  if (typeof params.blocks === "string") params.blocks = JSON.parse(params.blocks) as unknown;
  if (typeof params.metadata === "string") params.metadata = JSON.parse(params.metadata) as unknown;
  return params;
}

/**
 * A message's blocks as Slack hands them back: every block has a block_id, the one it was posted with or one Slack
 * made up. Made up from the message and the block's place, so that every press on the message shows the same one.
 */
function withBlockIds(message: StoredMessage): Block[] {
  return message.blocks.map((raw, i) => {
    const block = raw as Block;
    const made = createHash("sha256").update(`${message.ts}:${i}`).digest("base64url").slice(0, 5);
    return { ...block, block_id: block.block_id ?? made };
  });
}

/** The `actions` entry of a block_actions payload for the element pressed; throws when the message has no such element. */
function pressedAction(blocks: Block[], options: PressOptions): Record<string, unknown> {
  const actionTs = (Date.now() / 1000).toFixed(6);
  for (const block of blocks) {
    if (block.type !== "actions") continue;
    const element = interactiveElements(block).find((e) => e.action_id === options.actionId);
    if (!element) continue;
    const pressed = { type: element.type, action_id: options.actionId, block_id: block.block_id };
    if (element.type === "button") {
      if (options.option !== undefined) throw new Error(`press: ${options.actionId} is a button, it has no option ${options.option}`);
      return { ...pressed, text: element.text, ...(element.value !== undefined ? { value: element.value } : {}), action_ts: actionTs };
    }
    if (element.type === "static_select") {
      const all = [...(element.options ?? []), ...(element.option_groups ?? []).flatMap((g) => g.options ?? [])];
      if (options.option === undefined) throw new Error(`press: ${options.actionId} is a static_select; say which option`);
      const chosen = all.find((o) => o.value === options.option);
      if (!chosen) throw new Error(`press: ${options.actionId} has no option ${options.option} (it has ${all.map((o) => o.value).join(", ")})`);
      return { ...pressed, selected_option: chosen, ...(element.placeholder !== undefined ? { placeholder: element.placeholder } : {}), action_ts: actionTs };
    }
    throw new Error(`press: ${options.actionId} is a ${String(element.type)}; press() knows buttons and static_selects`);
  }
  throw new Error(`press: no actions block of message ${options.ts} has an element with action_id ${options.actionId}`);
}
