// Episodes and the outbox on a real SQLite file: transitions are atomic, the outbox keeps its order, threads and
// delivery problems are remembered across opening the store again.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test/support/tempdir.ts";
import type { ResourceChange } from "../../core/types.ts";
import type { AlertEvent } from "../../notifiers/api.ts";
import type { AlertTransition, EpisodeRecord } from "../api.ts";
import { openSqliteStore } from "./index.ts";

const change: ResourceChange = { kind: "drift", address: "local_file.a", type: "local_file", action: "delete", properties: [] };
const subject = { stack: "net", engine: "terraform", runId: "r1", verdict: "drifted" as const, repo: "/r", path: ".", checkedAt: "2026-11-23T10:00:00.000Z" };
const opened: AlertEvent = { type: "episode-opened", subject, episode: { id: 0, openedAt: subject.checkedAt, seenCount: 1, lastSeenAt: subject.checkedAt }, changes: [change] };

function openTransition(): AlertTransition {
  const episode = { stack: "net", openedAt: subject.checkedAt, openedRunId: "r1", lastRunId: "r1", lastSeenAt: subject.checkedAt, seenCount: 1, fingerprint: "fp1", changes: [change] };
  return { stack: "net", episode: { op: "open", episode }, events: [opened], notifiers: ["log", "slack"] };
}

describe("sqlite alert store", () => {
  it("keeps the flapping resources an episode flagged", () => {
    const store = openSqliteStore(join(tempDir(), "db.sqlite"));
    store.applyAlertTransition(openTransition());
    const open = store.openEpisode("net")!;
    expect(open.flapping).toBeUndefined();
    const flapping = [{ address: "local_file.a", type: "local_file", times: 3, since: subject.checkedAt, paths: ["content"] }];
    store.applyAlertTransition({ stack: "net", episode: { op: "update", episode: { ...open, seenCount: 2, flapping } }, events: [], notifiers: [] });
    expect(store.openEpisode("net")).toMatchObject({ seenCount: 2, flapping });
    store.close();
  });

  it("opens an episode with its outbox entries at once, fills in the episode id, and keeps the thread once delivered", () => {
    const file = join(tempDir(), "db.sqlite");
    const store = openSqliteStore(file);
    const [event] = store.applyAlertTransition(openTransition());
    const episode = store.openEpisode("net")!;
    expect(episode).toMatchObject({ stack: "net", seenCount: 1, fingerprint: "fp1", changes: [change] });
    expect(event).toMatchObject({ episode: { id: episode.id } });
    const [slack] = store.pendingAlerts("slack");
    expect(slack).toMatchObject({ notifier: "slack", episodeId: episode.id, attempts: 0, event: { type: "episode-opened", episode: { id: episode.id } } });
    expect(store.pendingAlerts("log")).toHaveLength(1);

    store.markAlertAttempt(slack!.id, "HTTP 503");
    expect(store.pendingAlerts("slack")[0]).toMatchObject({ attempts: 1, lastError: "HTTP 503" });
    store.markAlertDelivered(slack!.id, { thread: { channel: "CDRIFT", ts: "1.2" } });
    store.close();

    const again = openSqliteStore(file);
    expect(again.pendingAlerts("slack")).toEqual([]);
    expect(again.openEpisode("net")!.slackThread).toEqual({ channel: "CDRIFT", ts: "1.2" });
    again.close();
  });

  it("writes nothing of a transition that cannot be applied", () => {
    const store = openSqliteStore(join(tempDir(), "db.sqlite"));
    store.applyAlertTransition(openTransition());
    const open = store.openEpisode("net")!;
    store.applyAlertTransition({ stack: "net", episode: { op: "close", episode: { ...open, closedAt: "2026-11-23T11:00:00.000Z" } }, events: [], notifiers: [] });
    const stale: EpisodeRecord = { ...open, seenCount: 2 };
    expect(() =>
      store.applyAlertTransition({ stack: "net", episode: { op: "update", episode: stale }, events: [{ ...opened, type: "episode-unchanged" }], notifiers: ["slack"] }),
    ).toThrow(/is not open/);
    expect(store.pendingAlerts("slack")).toHaveLength(1); // only the opening's
    expect(store.openEpisode("net")).toBeUndefined();
    expect(store.getEpisode(open.id)).toMatchObject({ closedAt: "2026-11-23T11:00:00.000Z" });
    store.close();
  });

  it("allows one open episode per stack", () => {
    const store = openSqliteStore(join(tempDir(), "db.sqlite"));
    store.applyAlertTransition(openTransition());
    expect(() => store.applyAlertTransition(openTransition())).toThrow();
    expect(store.pendingAlerts("slack")).toHaveLength(1);
    store.close();
  });

  it("keeps the outbox in order, takes failed entries out, and notes the problem on the run", () => {
    const store = openSqliteStore(join(tempDir(), "db.sqlite"));
    store.recordRun({ runId: "r1", stack: "net", engine: "terraform", verdict: "drifted", changes: [change], startedAt: subject.checkedAt, finishedAt: subject.checkedAt, durationMs: 1 });
    store.applyAlertTransition(openTransition());
    const failed: AlertEvent = { type: "run-failed", subject, error: { kind: "TimeoutError", message: "slow" }, suppressed: 0 };
    store.applyAlertTransition({ stack: "net", failure: { stack: "net", lastAlertAt: subject.checkedAt, lastKind: "TimeoutError", suppressed: 0 }, events: [failed], notifiers: ["slack"] });
    expect(store.pendingAlerts("slack").map((e) => e.event.type)).toEqual(["episode-opened", "run-failed"]);
    expect(store.failureAlertState("net")).toEqual({ stack: "net", lastAlertAt: subject.checkedAt, lastKind: "TimeoutError", suppressed: 0 });
    const first = store.pendingAlerts("slack")[0]!;
    store.markAlertFailed(first.id, "channel_not_found");
    store.noteRunAlertError("r1", "slack: channel_not_found");
    expect(store.pendingAlerts("slack").map((e) => e.event.type)).toEqual(["run-failed"]);
    expect(store.listRuns()[0]!.alertError).toBe("slack: channel_not_found");
    store.close();
  });
});
