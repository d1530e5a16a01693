// Slack's interactivity request URL through fastify (no port), on a real SQLite store: only a request signed with
// the app's signing secret, within five minutes of now either way, and never seen before is carried out; anything
// else is refused with 401 and reaches no action. Without a signing secret the endpoint is off.
import { createHmac } from "node:crypto";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { DriftwatchConfig } from "../config/types.ts";
import type { SlackAction } from "../notifiers/slack/interaction.ts";
import type { Store } from "../store/api.ts";
import { openSqliteStore } from "../store/sqlite/index.ts";
import { nowhereStacksConfig } from "../../test/support/nowhere-stacks.ts";
import { tempDir } from "../../test/support/tempdir.ts";
import { buildServer } from "./app.ts";
import { createMetrics } from "./metrics.ts";

const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
let store: Store | undefined;
afterEach(() => store?.close());

async function setup(signingSecret: string | null = SECRET) {
  const dir = tempDir();
  const config: DriftwatchConfig = nowhereStacksConfig(dir);
  config.alerts.slack = {
    token: "xoxb-unused",
    tokenEnv: "SLACK_BOT_TOKEN",
    channel: "#drift",
    timeoutMs: 1000,
    retries: 0,
    maxRateLimitWaitMs: 0,
    signingSecretEnv: "SLACK_SIGNING_SECRET",
    ...(signingSecret ? { signingSecret } : {}),
  };
  store = await openSqliteStore(join(dir, "driftwatch.db"));
  const pressed: SlackAction[] = [];
  const server = buildServer({
    config,
    store,
    metrics: createMetrics({ stacks: config.stacks, store, logger: pino({ level: "silent" }) }),
    scheduler: { running: true, phases: () => ({}), trigger: () => "queued" },
    onPush: async () => [],
    approve: async () => {
      throw new Error("not in these tests");
    },
    slackActions: { handle: async (action) => void pressed.push(action) },
    logger: pino({ level: "silent" }),
  });
  return { server, pressed };
}

const payload = {
  type: "block_actions",
  user: { id: "UALICE1", username: "alice", name: "alice", team_id: "TTEST" },
  channel: { id: "CDRIFT000", name: "drift" },
  container: { type: "message", message_ts: "1795428000.000100", channel_id: "CDRIFT000" },
  message: { type: "message", ts: "1795428000.000100", text: "Drift in app", blocks: [{ type: "divider" }] },
  actions: [{ type: "button", action_id: "driftwatch.recheck", block_id: "driftwatch-actions-episode", value: "7", action_ts: "1795428001.1" }],
};

function signed(body: string, options: { timestamp?: number; secret?: string } = {}) {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const signature = `v0=${createHmac("sha256", options.secret ?? SECRET).update(`v0:${timestamp}:${body}`).digest("hex")}`;
  return { "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": timestamp, "x-slack-signature": signature };
}

const form = (p: unknown) => new URLSearchParams({ payload: JSON.stringify(p) }).toString();

describe("POST /api/slack/interactions", () => {
  it("carries out a press Slack signed, once: the same bytes again are a replay", async () => {
    const { server, pressed } = await setup();
    const body = form(payload);
    const headers = signed(body);
    const first = await server.inject({ method: "POST", url: "/api/slack/interactions", headers, payload: body });
    expect(first.statusCode).toBe(200);
    expect(first.body).toBe("");
    expect(pressed).toEqual([
      {
        actionId: "driftwatch.recheck",
        value: "7",
        user: { id: "UALICE1", name: "alice" },
        channel: "CDRIFT000",
        messageTs: "1795428000.000100",
        message: { text: "Drift in app", blocks: [{ type: "divider" }] },
      },
    ]);
    const replay = await server.inject({ method: "POST", url: "/api/slack/interactions", headers, payload: body });
    expect(replay.statusCode).toBe(401);
    expect(replay.json()).toEqual({ error: "this request was taken already (a replay)" });
    expect(pressed).toHaveLength(1);
  });

  it("refuses what Slack did not sign, or signed more than five minutes away from now, and carries out none of it", async () => {
    const { server, pressed } = await setup();
    const body = form(payload);
    const now = Math.floor(Date.now() / 1000);
    const refused = [
      signed(body, { secret: "another-apps-secret" }),
      signed(body, { timestamp: now - 301 }),
      signed(body, { timestamp: now + 301 }),
      { ...signed(body), "x-slack-signature": "v1=abc" },
      { ...signed(body), "x-slack-request-timestamp": "soon" },
      { "content-type": "application/x-www-form-urlencoded" },
    ];
    const answers = [];
    for (const headers of refused) answers.push(await server.inject({ method: "POST", url: "/api/slack/interactions", headers, payload: body }));
    expect(answers.map((a) => [a.statusCode, a.json<{ error: string }>().error])).toEqual([
      [401, "the signature does not match"],
      [401, "the request's timestamp is more than five minutes off (a replay, or a wrong clock)"],
      [401, "the request's timestamp is more than five minutes off (a replay, or a wrong clock)"],
      [401, "the signature does not match"],
      [401, "X-Slack-Request-Timestamp is not a time"],
      [401, "the request is not signed (no X-Slack-Signature or X-Slack-Request-Timestamp)"],
    ]);
    // A body changed after signing does not match either.
    const tampered = await server.inject({ method: "POST", url: "/api/slack/interactions", headers: signed(body), payload: form({ ...payload, user: { id: "UMALLORY", name: "mallory" } }) });
    expect(tampered.statusCode).toBe(401);
    // Within the five minutes, either way, is fine.
    const early = await server.inject({ method: "POST", url: "/api/slack/interactions", headers: signed(body, { timestamp: now + 240 }), payload: body });
    expect(early.statusCode).toBe(200);
    expect(pressed).toHaveLength(1);
  });

  it("answers other interactions with nothing to do, and a signed body that is not one with 400", async () => {
    const { server, pressed } = await setup();
    const shortcut = form({ type: "shortcut", user: { id: "UALICE1" } });
    expect((await server.inject({ method: "POST", url: "/api/slack/interactions", headers: signed(shortcut), payload: shortcut })).statusCode).toBe(200);
    const junk = "payload=%7Bnot-json";
    const bad = await server.inject({ method: "POST", url: "/api/slack/interactions", headers: signed(junk), payload: junk });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: "the payload is not JSON" });
    expect(pressed).toEqual([]);
  });

  it("is off without a signing secret", async () => {
    const { server, pressed } = await setup(null);
    const body = form(payload);
    const answer = await server.inject({ method: "POST", url: "/api/slack/interactions", headers: signed(body), payload: body });
    expect(answer.statusCode).toBe(403);
    expect(answer.json()).toEqual({ error: "Slack interactivity is off: set SLACK_SIGNING_SECRET to the Slack app's signing secret to enable it" });
    expect(pressed).toEqual([]);
  });
});
