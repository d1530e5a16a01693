// The thin layer over the official client: post and update messages, classify every failure as permanent or
// transient (NotifierError), wait out rate limits within a budget, and give up on everything at once on stop().
// Retries of 5xx, timeouts and network errors (exponential backoff) are the client's own (retryConfig).
import { ErrorCode, LogLevel, WebClient, type Logger as SlackLogger } from "@slack/web-api";
import type { FetchFunction } from "@slack/web-api";
import type { Logger } from "pino";
import { CREDENTIAL_ERROR_CODES, NotifierError } from "../errors.ts";
import type { SlackThread } from "../api.ts";

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
  channel_not_found: "the channel does not exist or the app cannot see it: check the channel, or invite the app to it",
  not_in_channel: "the app is not in the channel: invite it (/invite @app) or give it chat:write.public",
  is_archived: "the channel is archived: unarchive it or choose another channel",
  invalid_blocks: "Slack rejected the message layout (a Driftwatch bug: please report it)",
};

/** pino behind the client's logger interface; everything at debug (the outcome is logged by the delivery). */
function clientLogger(logger: Logger): SlackLogger {
  const log = (...msg: unknown[]) => logger.debug(msg.map((m) => (typeof m === "string" ? m : JSON.stringify(m))).join(" "));
  return { debug: log, info: log, warn: log, error: log, setLevel: () => {}, getLevel: () => LogLevel.DEBUG, setName: () => {} };
}

function codeOf(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error ? String((error as { code: unknown }).code) : undefined;
}

export class SlackTransport {
  readonly #client: WebClient;
  readonly #stop = new AbortController();
  readonly #maxRateLimitWaitMs: number;

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
    this.#client = new WebClient(options.token, {
      ...(options.apiUrl ? { slackApiUrl: options.apiUrl.endsWith("/") ? options.apiUrl : `${options.apiUrl}/` } : {}),
      timeout: options.timeoutMs,
      rejectRateLimitedCalls: true,
      retryConfig,
      fetch: abortableFetch,
      logger: clientLogger(options.logger),
      logLevel: LogLevel.DEBUG,
    });
    this.#maxRateLimitWaitMs = options.maxRateLimitWaitMs;
  }

  async postMessage(channel: string, message: SlackMessageBody, threadTs?: string): Promise<SlackThread> {
    const result = await this.#call("chat.postMessage", () =>
      this.#client.chat.postMessage({ channel, text: message.text, blocks: message.blocks as never, ...(threadTs ? { thread_ts: threadTs } : {}), unfurl_links: false }),
    );
    if (!result.channel || !result.ts) throw new NotifierError("slack", "chat.postMessage answered without channel or ts", { permanent: false });
    return { channel: result.channel, ts: result.ts };
  }

  async update(channel: string, ts: string, message: SlackMessageBody): Promise<void> {
    await this.#call("chat.update", () => this.#client.chat.update({ channel, ts, text: message.text, blocks: message.blocks as never }));
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
      const hint = HINTS[slackCode] ? `: ${HINTS[slackCode]}` : "";
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
