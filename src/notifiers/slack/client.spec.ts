// The transport against the local Slack stand-in, with the real WebClient: what is retried, what is not, what
// a rate limit costs, and that the token never reaches the logs.
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { until } from "../../../test/support/processes.ts";
import { SlackServer } from "../../../test/support/slack-server.ts";
import { NotifierError } from "../errors.ts";
import { SlackTransport, type SlackTransportOptions } from "./client.ts";

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
