// The outbox delivered to the local Slack stand-in by the real notifier, on both databases, with a process "dying"
// at each step between a post landing and its entry being marked delivered: whoever delivers next posts nothing
// twice, and the thread's root still comes before its replies.
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { storeBackends } from "../../test/support/store-backends.ts";
import { SlackServer } from "../../test/support/slack-server.ts";
import type { ResourceChange } from "../core/types.ts";
import type { AlertStore, AlertTransition, Store } from "../store/api.ts";
import type { Notifier } from "./api.ts";
import type { AlertEvent } from "../core/alerts.ts";
import { createDelivery } from "./delivery.ts";
import { createSlackNotifier } from "./slack/index.ts";
import { POST_METADATA_TYPE } from "./slack/client.ts";

const TOKEN = "xoxb-delivery-spec-4d2e";
const logger = pino({ level: "silent" });
const backends = storeBackends();
let server: SlackServer;

beforeAll(async () => {
  await backends.start();
  server = await SlackServer.start(TOKEN);
});
afterEach(() => {
  server.setMode(undefined);
});
afterAll(async () => {
  await server?.close();
  await backends.stop();
});

const change: ResourceChange = { kind: "drift", address: "local_file.a", type: "local_file", action: "delete", properties: [] };
let channels = 0;

/** A notifier as a fresh process has it: its own client, nothing in memory. */
function slackNotifier(channel: string): Notifier {
  const settings = { token: TOKEN, channel, apiUrl: server.url, timeoutMs: 1000, retries: 0, maxRateLimitWaitMs: 1000 };
  return createSlackNotifier({ settings: settings as never, alerts: {}, stacks: [], logger });
}

/** An episode opened and then resolved: a root, then a reply in its thread. */
async function openAndResolve(store: Store): Promise<void> {
  const at = new Date().toISOString();
  const subject = { stack: "net", engine: "terraform", runId: "r1", verdict: "drifted" as const, repo: "/r", path: ".", checkedAt: at };
  const info = { id: 0, openedAt: at, seenCount: 1, lastSeenAt: at };
  const opened: AlertEvent = { type: "episode-opened", subject, episode: info, changes: [change] };
  const episode = { stack: "net", openedAt: at, openedRunId: "r1", lastRunId: "r1", lastSeenAt: at, seenCount: 1, fingerprint: "fp", changes: [change] };
  const open: AlertTransition = { stack: "net", episode: { op: "open", episode }, events: [opened], notifiers: ["slack"] };
  await store.applyAlertTransition(open);
  const record = (await store.openEpisode("net"))!;
  const resolved: AlertEvent = { type: "episode-resolved", subject: { ...subject, runId: "r2", verdict: "in-sync" }, episode: { ...info, id: record.id, closedAt: at }, changes: [change] };
  await store.applyAlertTransition({ stack: "net", episode: { op: "close", episode: { ...record, closedAt: at } }, events: [resolved], notifiers: ["slack"] });
}

/** The store as a process has it that dies (throws, and never writes again) at the first call of `step`. */
function dyingAt(store: Store, step: keyof AlertStore): Store {
  let dead = false;
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (property === step) dead = true;
        if (dead) return Promise.reject(new Error(`the process died at ${String(step)}`));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

async function deliverAll(store: Store, channel: string): Promise<Record<string, number>> {
  return createDelivery({ store, notifiers: [slackNotifier(channel)], logger }).settle(30_000);
}

describe.each(backends.list)("delivering the outbox on $name", (backend) => {
  const run = async (scenario: (store: Store, channel: string) => Promise<void>) => {
    const channel = `#delivery-${(channels += 1)}`;
    const store = await (await backend.fresh()).open();
    try {
      await openAndResolve(store);
      await scenario(store, channel);
      // Whatever happened before, the next process delivers the rest: each message once, the root first.
      expect(await deliverAll(store, channel)).toEqual({ slack: 0 });
      const messages = server.messages(channel);
      expect(messages.map((m) => [m.metadata?.event_type, m.threadTs === undefined ? "root" : "reply"])).toEqual([
        [POST_METADATA_TYPE, "root"],
        [POST_METADATA_TYPE, "reply"],
      ]);
      expect(messages[1]!.threadTs).toBe(messages[0]!.ts);
      expect((await store.getEpisode(1))?.slackThread).toEqual({ channel: expect.stringMatching(/^C/), ts: messages[0]!.ts });
    } finally {
      await store.close();
    }
  };

  it("posts each alert once when nothing goes wrong", () => run(async () => {}));

  it("does not post again what a process posted and died before recording", () =>
    run(async (store, channel) => {
      await expect(deliverAll(dyingAt(store, "recordAlertPost"), channel)).rejects.toThrow(/died/);
      expect(server.messages(channel)).toHaveLength(1); // the root landed; nobody knows its ts
    }));

  it("does not post again what a process recorded and died before marking delivered", () =>
    run(async (store, channel) => {
      await expect(deliverAll(dyingAt(store, "markAlertDelivered"), channel)).rejects.toThrow(/died/);
      const [entry] = await store.pendingAlerts("slack");
      expect(entry).toMatchObject({ posted: { ts: server.messages(channel)[0]!.ts } });
    }));

  it("does not post again what landed while its answer was lost, in the root's thread either", () =>
    run(async (store, channel) => {
      server.setMode({ kind: "lost-answer", status: 504 });
      expect(await deliverAll(store, channel)).toEqual({ slack: 2 }); // the root landed; the outage holds the rest
      server.setMode(undefined);
      // The root is found and recorded; the reply lands, and its answer never comes.
      let armed = false;
      server.onRequest = (request) => {
        if (armed || request.method !== "chat.postMessage" || !request.body.thread_ts) return;
        armed = true;
        server.failNext(1, { kind: "lost-answer" });
      };
      try {
        expect(await deliverAll(store, channel)).toEqual({ slack: 1 });
      } finally {
        server.onRequest = undefined;
      }
      expect(server.messages(channel)).toHaveLength(2);
    }));
});
