// The thin layer over the official client: post and update messages, classify every failure as permanent or
// transient (NotifierError), wait out rate limits within a budget, and give up on everything at once on stop().
// Retries of 5xx, timeouts and network errors (exponential backoff) are the client's own (retryConfig).
import { ErrorCode, LogLevel, WebClient, type Logger as SlackLogger } from "@slack/web-api";
import type { FetchFunction } from "@slack/web-api";
import type { Logger } from "pino";
import { CREDENTIAL_ERROR_CODES, NotifierError } from "../errors.ts";
import type { SlackThread } from "../../core/alerts.ts";
import type { SlackSettings } from "../../config/types.ts";

export interface SlackTransportOptions {
  token: string;
  /** Web API base URL; default https://slack.com/api/. */
  apiUrl?: string;
  timeoutMs: number;
  /** Retries of 5xx, timeouts and network errors, with exponential backoff. */
  retries: number;
  /** How long one call may wait out rate limits (Retry-After) before giving up for now. */
  maxRateLimitWaitMs: number;
  logger: Logger;
}

export interface SlackMessageBody {
  text: string;
  blocks: unknown[];
}

/** Where a message posted with a key is looked for. */
export interface FindPostedOptions {
  /** Only messages posted since (minus a margin for the difference between our clock and Slack's). */
  since: Date;
  /** Among the replies of this thread; otherwise among the channel's messages. */
  threadTs?: string;
}

/** The message metadata type every keyed post carries (its payload: `{ key }`). */
export const POST_METADATA_TYPE = "driftwatch_alert";
/** Slack's clock and ours may disagree: a lookup starts this much before the post started. */
const CLOCK_MARGIN_MS = 10 * 60_000;
/** How many pages of 200 messages a lookup reads at most. */
const MAX_LOOKUP_PAGES = 25;
/** Errors after which Slack may have processed the request: a keyed post looks before it is sent again. */
const AMBIGUOUS_CODES: ReadonlySet<string> = new Set(["request_error", "http_500", "http_502", "http_503", "http_504"]);
const CHANNEL_ID = /^[CGD][A-Z0-9]{6,}$/;

/** Errors retrying cannot fix, beyond bad credentials: the channel, the message or the payload is the problem. */
const PERMANENT_ERROR_CODES: ReadonlySet<string> = new Set([
  ...CREDENTIAL_ERROR_CODES,
  "channel_not_found",
  "not_in_channel",
  "is_archived",
  "restricted_action",
  "restricted_action_read_only_channel",
  "restricted_action_thread_only_channel",
  "restricted_action_non_threadable_channel",
  "invalid_blocks",
  "invalid_blocks_format",
  "msg_too_long",
  "no_text",
  "too_many_attachments",
  "message_not_found",
  "thread_not_found",
  "cant_update_message",
  "edit_window_closed",
  "invalid_arguments",
  "invalid_arg_name",
  "invalid_auth",
  "team_access_not_granted",
]);

const HINTS: Record<string, string> = {
  invalid_auth: "the bot token is not valid: check the token in alerts.slack.tokenEnv",
  not_authed: "no bot token was sent: check alerts.slack.tokenEnv",
  token_revoked: "the bot token was revoked: reinstall the Slack app and update the token",
  token_expired: "the bot token expired: refresh it",
  account_inactive: "the bot's account is inactive: reinstall the Slack app",
  missing_scope: "the Slack app lacks a scope: give it chat:write (and chat:write.public to post in channels it was not invited to)",
  missing_read_scope:
    "the Slack app cannot read the channel to check whether an interrupted delivery already posted: give it channels:read, channels:history (and groups:read, groups:history for private channels)",
  channel_not_found: "the channel does not exist or the app cannot see it: check the channel, or invite the app to it",
  not_in_channel: "the app is not in the channel: invite it (/invite @app) or give it chat:write.public",
  is_archived: "the channel is archived: unarchive it or choose another channel",
  invalid_blocks: "Slack rejected the message layout (a Driftwatch bug: please report it)",
  no_such_subteam: "a user group in approvers does not exist in this workspace: check its id",
  missing_usergroups_scope: "the Slack app cannot read user groups, so a group in approvers cannot be checked: give it usergroups:read",
};

/** pino behind the client's logger interface; everything at debug (the outcome is logged by the delivery). */
function clientLogger(logger: Logger): SlackLogger {
  const log = (...msg: unknown[]) => logger.debug(msg.map((m) => (typeof m === "string" ? m : JSON.stringify(m))).join(" "));
  return { debug: log, info: log, warn: log, error: log, setLevel: () => {}, getLevel: () => LogLevel.DEBUG, setName: () => {} };
}

function codeOf(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error ? String((error as { code: unknown }).code) : undefined;
}

interface FoundMessage {
  ts?: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
}

export class SlackTransport {
  readonly #client: WebClient;
  /** The same client without its own retries: a keyed post is retried here, after looking whether it landed. */
  readonly #once: WebClient;
  readonly #stop = new AbortController();
  readonly #maxRateLimitWaitMs: number;
  readonly #retries: number;
  readonly #logger: Logger;
  /** Channel names as the bot sees them (name → id), read when a lookup first needs one. */
  #channelIds: Map<string, string> | undefined;

  /** A transport as `alerts.slack` configures it. */
  static fromSettings(settings: SlackSettings, logger: Logger): SlackTransport {
    return new SlackTransport({
      token: settings.token,
      ...(settings.apiUrl ? { apiUrl: settings.apiUrl } : {}),
      timeoutMs: settings.timeoutMs,
      retries: settings.retries,
      maxRateLimitWaitMs: settings.maxRateLimitWaitMs,
      logger,
    });
  }

  constructor(options: SlackTransportOptions) {
    const stop = this.#stop.signal;
    // Every request can be abandoned at once: at the end of a run, whatever is in flight stays in the outbox.
    const abortableFetch: FetchFunction = (url, init) =>
      fetch(url, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, stop]) : stop } as RequestInit) as ReturnType<FetchFunction>;
    // The client hands retryConfig to p-retry, whose onFailedAttempt (not in the `retry` types) ends retrying on stop.
    const retryConfig = {
      retries: options.retries,
      factor: 2,
      minTimeout: 500,
      maxTimeout: 5000,
      randomize: true,
      onFailedAttempt: () => {
        if (stop.aborted) throw new Error("stopped");
      },
    };
    const clientOptions = {
      ...(options.apiUrl ? { slackApiUrl: options.apiUrl.endsWith("/") ? options.apiUrl : `${options.apiUrl}/` } : {}),
      timeout: options.timeoutMs,
      rejectRateLimitedCalls: true,
      fetch: abortableFetch,
      logger: clientLogger(options.logger),
      logLevel: LogLevel.DEBUG,
    };
    this.#client = new WebClient(options.token, { ...clientOptions, retryConfig });
    this.#once = new WebClient(options.token, { ...clientOptions, retryConfig: { ...retryConfig, retries: 0 } });
    this.#maxRateLimitWaitMs = options.maxRateLimitWaitMs;
    this.#retries = options.retries;
    this.#logger = options.logger;
  }

  /**
   * Posts a message. With a `key`, the message carries it as metadata, and a failure after which Slack may have
   * posted it (a timeout, a 5xx) is retried only once a look at the channel found no message with that key.
   */
  async postMessage(channel: string, message: SlackMessageBody, threadTs?: string, key?: string): Promise<SlackThread> {
    if (key === undefined) return this.#post(this.#client, channel, message, threadTs);
    const started = new Date();
    for (let attempt = 0; ; attempt += 1) {
      if (attempt > 0) {
        const found = await this.findPosted(channel, key, { since: started, ...(threadTs ? { threadTs } : {}) });
        if (found) return found;
      }
      try {
        return await this.#post(this.#once, channel, message, threadTs, key);
      } catch (error) {
        const ambiguous = error instanceof NotifierError && error.code !== undefined && AMBIGUOUS_CODES.has(error.code);
        if (!ambiguous || attempt >= this.#retries || this.#stop.signal.aborted) throw error;
        await this.#sleep(Math.min(5000, 500 * 2 ** attempt));
      }
    }
  }

  /**
   * The message posted with `key` (see postMessage), if there is one: an attempt that died between its post and
   * recording it leaves one behind. Reads the channel's history (or the thread's replies) since `since`.
   */
  async findPosted(channel: string, key: string, options: FindPostedOptions): Promise<SlackThread | undefined> {
    const channelId = options.threadTs ? channel : await this.#channelIdOf(channel);
    if (channelId === undefined) return undefined; // not a channel the bot can see: nothing of ours is in it
    const oldest = ((options.since.getTime() - CLOCK_MARGIN_MS) / 1000).toFixed(6);
    let cursor: string | undefined;
    for (let page = 0; page < MAX_LOOKUP_PAGES; page += 1) {
      const paging = { channel: channelId, oldest, include_all_metadata: true, limit: 200, ...(cursor ? { cursor } : {}) };
      const result = options.threadTs
        ? await this.#call("conversations.replies", () => this.#client.conversations.replies({ ...paging, ts: options.threadTs! }))
        : await this.#call("conversations.history", () => this.#client.conversations.history(paging));
      const messages = (result.messages ?? []) as FoundMessage[];
      const match = messages.find((m) => m.metadata?.event_type === POST_METADATA_TYPE && m.metadata.event_payload?.key === key);
      if (match?.ts) return { channel: channelId, ts: match.ts };
      cursor = result.response_metadata?.next_cursor || undefined;
      if (!cursor) return undefined;
    }
    this.#logger.warn({ channel: channelId, pages: MAX_LOOKUP_PAGES }, "stopped looking for an interrupted delivery's message after many pages");
    return undefined;
  }

  async update(channel: string, ts: string, message: SlackMessageBody): Promise<void> {
    await this.#call("chat.update", () => this.#client.chat.update({ channel, ts, text: message.text, blocks: message.blocks as never }));
  }

  /** A message only `user` sees, in the channel (and thread) where they pressed a button. */
  async postEphemeral(channel: string, user: string, message: SlackMessageBody, threadTs?: string): Promise<void> {
    await this.#call("chat.postEphemeral", () =>
      this.#client.chat.postEphemeral({ channel, user, text: message.text, ...(message.blocks.length > 0 ? { blocks: message.blocks as never } : {}), ...(threadTs ? { thread_ts: threadTs } : {}) }),
    );
  }

  /** The user ids of a user group's members (scope usergroups:read). */
  async userGroupMembers(group: string): Promise<string[]> {
    const result = await this.#call("usergroups.users.list", () => this.#client.usergroups.users.list({ usergroup: group }));
    return result.users ?? [];
  }

  async #post(client: WebClient, channel: string, message: SlackMessageBody, threadTs: string | undefined, key?: string): Promise<SlackThread> {
    const result = await this.#call("chat.postMessage", () =>
      client.chat.postMessage({
        channel,
        text: message.text,
        blocks: message.blocks as never,
        ...(threadTs ? { thread_ts: threadTs } : {}),
        ...(key === undefined ? {} : { metadata: { event_type: POST_METADATA_TYPE, event_payload: { key } } }),
        unfurl_links: false,
      }),
    );
    if (!result.channel || !result.ts) throw new NotifierError("slack", "chat.postMessage answered without channel or ts", { permanent: false });
    return { channel: result.channel, ts: result.ts };
  }

  /** A channel's id: ids as they are, names ("#drift", "drift") through the channels the bot can see. */
  async #channelIdOf(channel: string): Promise<string | undefined> {
    if (CHANNEL_ID.test(channel)) return channel;
    const name = channel.replace(/^#/, "");
    if (!this.#channelIds?.has(name)) {
      const ids = new Map<string, string>();
      let cursor: string | undefined;
      do {
        const result = await this.#call("conversations.list", () =>
          this.#client.conversations.list({ types: "public_channel,private_channel", exclude_archived: true, limit: 1000, ...(cursor ? { cursor } : {}) }),
        );
        for (const c of result.channels ?? []) if (c.id && c.name) ids.set(c.name, c.id);
        cursor = result.response_metadata?.next_cursor || undefined;
      } while (cursor);
      this.#channelIds = ids;
    }
    return this.#channelIds.get(name);
  }

  /** Abandons every request in flight and every wait; later calls fail at once. */
  stop(): void {
    this.#stop.abort();
  }

  async #call<T>(method: string, request: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.#maxRateLimitWaitMs;
    for (;;) {
      if (this.#stop.signal.aborted) throw new NotifierError("slack", `${method}: stopped`, { permanent: false });
      try {
        return await request();
      } catch (error) {
        const classified = this.#classify(method, error);
        const wait = (classified.retryAfterSeconds ?? 0) * 1000;
        if (classified.retryAfterSeconds === undefined || Date.now() + wait > deadline) throw classified;
        await this.#sleep(wait);
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#stop.signal.addEventListener("abort", done, { once: true });
    });
  }

  #classify(method: string, error: unknown): NotifierError {
    const code = codeOf(error);
    if (code === ErrorCode.RateLimitedError) {
      const retryAfter = (error as { retryAfter: number }).retryAfter;
      return new NotifierError("slack", `${method}: rate limited by Slack (retry after ${retryAfter}s)`, { permanent: false, code: "ratelimited", retryAfterSeconds: retryAfter, cause: error });
    }
    if (code === ErrorCode.PlatformError) {
      const slackCode = String((error as { data?: { error?: unknown } }).data?.error ?? "unknown_error");
      const permanent = PERMANENT_ERROR_CODES.has(slackCode);
      const hintKey = slackCode !== "missing_scope" ? slackCode : method.startsWith("conversations.") ? "missing_read_scope" : method.startsWith("usergroups.") ? "missing_usergroups_scope" : slackCode;
      const hint = HINTS[hintKey] ? `: ${HINTS[hintKey]}` : "";
      return new NotifierError("slack", `${method} failed with ${slackCode}${hint}`, { permanent, code: slackCode, cause: error });
    }
    if (code === ErrorCode.HTTPError) {
      const status = (error as { statusCode: number }).statusCode;
      return new NotifierError("slack", `${method}: Slack answered HTTP ${status}`, { permanent: false, code: `http_${status}`, cause: error });
    }
    const reason = this.#stop.signal.aborted ? "stopped" : error instanceof Error ? error.message : String(error);
    return new NotifierError("slack", `${method}: request failed (${reason})`, { permanent: false, code: "request_error", cause: error });
  }
}
