// The transport against the local Slack stand-in, with the real WebClient: what is retried, what is not, what
// a rate limit costs, and that the token never reaches the logs.
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { until } from "../../../test/support/processes.ts";
import { SlackServer } from "../../../test/support/slack-server.ts";
import { NotifierError } from "../errors.ts";
import { POST_METADATA_TYPE, SlackTransport, type SlackTransportOptions } from "./client.ts";

const TOKEN = "xoxb-test-token-0123456789";
const message = { text: "drift in net", blocks: [{ type: "section", text: { type: "mrkdwn", text: "*drift*" } }] };

let server: SlackServer;
let logs = "";
const logger = pino(
  { level: "trace" },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs += chunk.toString();
      done();
    },
  }),
);

function transport(overrides: Partial<SlackTransportOptions> = {}): SlackTransport {
  return new SlackTransport({ token: TOKEN, apiUrl: server.url, timeoutMs: 2000, retries: 2, maxRateLimitWaitMs: 5000, logger, ...overrides });
}

async function failure(promise: Promise<unknown>): Promise<NotifierError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(NotifierError);
  return error as NotifierError;
}

beforeAll(async () => {
  server = await SlackServer.start(TOKEN);
});
afterEach(() => {
  server.setMode(undefined);
  server.requests.length = 0;
});
afterAll(async () => {
  await server.close();
  expect(logs).not.toContain(TOKEN);
});

describe("SlackTransport", () => {
  it("posts, replies in the thread and updates the root in place", async () => {
    const slack = transport();
    const root = await slack.postMessage("#drift", message);
    expect(root.channel).toMatch(/^C/);
    await slack.postMessage(root.channel, { ...message, text: "reply" }, root.ts);
    await slack.update(root.channel, root.ts, { ...message, text: "still drifted" });
    const messages = server.messages("#drift");
    expect(messages.map((m) => [m.text, m.threadTs ?? null, m.edits])).toEqual([
      ["still drifted", null, 1],
      ["reply", root.ts, 0],
    ]);
    expect(server.requests.every((r) => r.token === TOKEN)).toBe(true);
  });

  it("waits out a rate limit (Retry-After) and tries again", async () => {
    server.failNext(1, { kind: "ratelimit", retryAfterSeconds: 1 });
    const started = Date.now();
    await transport().postMessage("#drift", message);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(server.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  it("leaves a rate limit longer than its budget for later, without waiting", async () => {
    server.failNext(1, { kind: "ratelimit", retryAfterSeconds: 120 });
    const started = Date.now();
    const error = await failure(transport({ maxRateLimitWaitMs: 60_000 }).postMessage("#drift", message));
    // Waiting would take the 60 s budget at least; not waiting takes milliseconds, even on a busy machine.
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(error).toMatchObject({ permanent: false, retryAfterSeconds: 120, code: "ratelimited" });
  });

  it("retries server errors with backoff, then gives up as transient", async () => {
    server.failNext(1, { kind: "status", status: 500 });
    await transport().postMessage("#drift", message);
    expect(server.requests.map((r) => r.status)).toEqual([500, 200]);

    server.requests.length = 0;
    server.setMode({ kind: "status", status: 503 });
    const error = await failure(transport({ retries: 2 }).postMessage("#drift", message));
    expect(error).toMatchObject({ permanent: false, code: "http_503" });
    expect(server.requests).toHaveLength(3);
  });

  it("treats a request that never answers as transient after the timeout and its retries", async () => {
    server.setMode({ kind: "hang" });
    const error = await failure(transport({ timeoutMs: 300, retries: 1 }).postMessage("#drift", message));
    expect(error).toMatchObject({ permanent: false, code: "request_error" });
    expect(server.requests).toHaveLength(2);
  });

  it("does not retry what retrying cannot fix, and says what to do", async () => {
    const badToken = await failure(transport({ token: "xoxb-wrong" }).postMessage("#drift", message));
    expect(badToken).toMatchObject({ permanent: true, code: "invalid_auth" });
    expect(badToken.message).toContain("check the token in alerts.slack.tokenEnv");
    server.missingChannels.add("nowhere");
    const noChannel = await failure(transport().postMessage("#nowhere", message));
    expect(noChannel).toMatchObject({ permanent: true, code: "channel_not_found" });
    expect(noChannel.message).toContain("invite the app");
    expect(server.requests).toHaveLength(2);
  });

  it("gives up at once on stop(), mid-request", async () => {
    server.setMode({ kind: "hang" });
    const slack = transport({ timeoutMs: 30_000, retries: 5 });
    const pending = slack.postMessage("#drift", message);
    await until(() => server.requests.length > 0, 30_000); // mid-request
    const started = Date.now();
    slack.stop();
    const error = await failure(pending);
    // Not giving up would take the 30 s request timeout, at least; giving up takes milliseconds.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(error.permanent).toBe(false);
  });
});

describe("SlackTransport, a keyed post", () => {
  const keyed = (channel: string) => server.messages(channel).filter((m) => m.metadata?.event_type === POST_METADATA_TYPE);

  it("carries its key as message metadata, and is found by it in the channel and in a thread", async () => {
    const slack = transport();
    const since = new Date();
    const root = await slack.postMessage("#keyed", message, undefined, "7@2026-11-28T00:00:00.000Z");
    const reply = await slack.postMessage(root.channel, message, root.ts, "8@2026-11-28T00:00:00.000Z");
    // A few more messages, so that the lookups page (the stand-in answers two messages a page).
    for (let i = 0; i < 4; i += 1) await slack.postMessage(root.channel, message, i % 2 ? root.ts : undefined);
    expect(keyed("#keyed").map((m) => m.metadata?.event_payload)).toEqual([{ key: "7@2026-11-28T00:00:00.000Z" }, { key: "8@2026-11-28T00:00:00.000Z" }]);
    expect(await slack.findPosted("#keyed", "7@2026-11-28T00:00:00.000Z", { since })).toEqual(root);
    expect(await slack.findPosted(root.channel, "8@2026-11-28T00:00:00.000Z", { since, threadTs: root.ts })).toEqual(reply);
    expect(await slack.findPosted("#keyed", "9@2026-11-28T00:00:00.000Z", { since })).toBeUndefined();
    // A channel the bot cannot see holds nothing of ours.
    expect(await transport().findPosted("#never-posted", "7@2026-11-28T00:00:00.000Z", { since })).toBeUndefined();
  });

  it("is not posted twice when Slack posted it but its answer was lost", async () => {
    // The post lands, then a 503 replaces the answer: the client looks, finds it, and stops there.
    server.failNext(1, { kind: "lost-answer", status: 503 });
    const posted = await transport().postMessage("#lost-503", message, undefined, "1@k");
    expect(keyed("#lost-503")).toHaveLength(1);
    expect(posted.ts).toBe(keyed("#lost-503")[0]!.ts);
    // The answer never comes: the request times out, and the look finds the message all the same.
    server.failNext(1, { kind: "lost-answer" });
    const timedOut = await transport({ timeoutMs: 500 }).postMessage("#lost-hang", message, undefined, "2@k");
    expect(keyed("#lost-hang").map((m) => m.ts)).toEqual([timedOut.ts]);
    expect(server.calls("chat.postMessage").length + server.requests.filter((r) => r.error === "answer lost").length).toBe(2);
  });

  it("is posted again when the failed request did not land", async () => {
    server.failNext(1, { kind: "status", status: 502 });
    await transport().postMessage("#not-landed", message, undefined, "3@k");
    expect(keyed("#not-landed")).toHaveLength(1);
    // Looked first (the bot's channels, paged: #not-landed is not among them yet), then posted again.
    const methods = server.requests.map((r) => r.method);
    expect(methods[0]).toBe("chat.postMessage");
    expect(methods.at(-1)).toBe("chat.postMessage");
    expect(new Set(methods.slice(1, -1))).toEqual(new Set(["conversations.list"]));
  });

  it("says which scopes a lookup needs when the app lacks them", async () => {
    server.failNext(1, { kind: "platform", error: "missing_scope" });
    const error = await failure(transport().findPosted("#keyed", "1@k", { since: new Date() }));
    expect(error).toMatchObject({ permanent: true, code: "missing_scope" });
    expect(error.message).toContain("channels:history");
  });
});

