// Episodes and the outbox on both databases: transitions are atomic, the outbox keeps its order, threads and
// delivery problems are remembered across opening the store again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeBackends } from "../../../test/support/store-backends.ts";
import type { ResourceChange } from "../../core/types.ts";
import type { AlertEvent } from "../../core/alerts.ts";
import type { AlertTransition, EpisodeRecord } from "../api.ts";

const backends = storeBackends();
beforeAll(() => backends.start());
afterAll(() => backends.stop());

const change: ResourceChange = { kind: "drift", address: "local_file.a", type: "local_file", action: "delete", properties: [] };
const subject = { stack: "net", engine: "terraform", runId: "r1", verdict: "drifted" as const, repo: "/r", path: ".", checkedAt: "2026-11-23T10:00:00.000Z" };
const opened: AlertEvent = { type: "episode-opened", subject, episode: { id: 0, openedAt: subject.checkedAt, seenCount: 1, lastSeenAt: subject.checkedAt }, changes: [change] };

function openTransition(): AlertTransition {
  const episode = { stack: "net", openedAt: subject.checkedAt, openedRunId: "r1", lastRunId: "r1", lastSeenAt: subject.checkedAt, seenCount: 1, fingerprint: "fp1", changes: [change] };
  return { stack: "net", episode: { op: "open", episode }, events: [opened], notifiers: ["log", "slack"] };
}

describe.each(backends.list)("the alert store on $name", (backend) => {
  it("keeps the first acknowledgement and the latest snooze of an open episode; a run's update keeps both, a changed drift ends the snooze", async () => {
    const store = await (await backend.fresh()).open();
    await store.applyAlertTransition(openTransition());
    const open = (await store.openEpisode("net"))!;
    const alice = { by: { id: "UALICE1", name: "alice" }, at: "2026-11-23T10:05:00.000Z" };
    const bob = { by: { id: "UBOB001", name: "bob" }, at: "2026-11-23T10:06:00.000Z" };
    expect(await store.acknowledgeEpisode(open.id, alice)).toMatchObject({ episode: { id: open.id, acknowledged: alice } });
    const second = await store.acknowledgeEpisode(open.id, bob);
    expect(second?.already).toEqual(alice);
    expect(second?.episode.acknowledged).toEqual(alice);

    const snooze = { ...bob, until: "2026-11-23T11:06:00.000Z" };
    expect(await store.snoozeEpisode(open.id, snooze)).toMatchObject({ snooze, acknowledged: alice });
    const longer = { ...alice, until: "2026-11-24T10:05:00.000Z" };
    expect((await store.snoozeEpisode(open.id, longer))?.snooze).toEqual(longer);
    expect(await store.openEpisodeSummaries()).toMatchObject([{ stack: "net", acknowledged: alice, snooze: longer }]);

    // A run read the episode before the marks were set: its update must not write them away.
    await store.applyAlertTransition({ stack: "net", episode: { op: "update", episode: { ...open, seenCount: 2 } }, events: [], notifiers: [] });
    expect(await store.openEpisode("net")).toMatchObject({ seenCount: 2, acknowledged: alice, snooze: longer });
    await store.applyAlertTransition({ stack: "net", episode: { op: "update", episode: { ...open, seenCount: 3, fingerprint: "fp2" }, endSnooze: true }, events: [], notifiers: [] });
    const changed = (await store.openEpisode("net"))!;
    expect(changed).toMatchObject({ seenCount: 3, acknowledged: alice });
    expect(changed.snooze).toBeUndefined();

    await store.applyAlertTransition({ stack: "net", episode: { op: "close", episode: { ...changed, closedAt: "2026-11-23T12:00:00.000Z" } }, events: [], notifiers: [] });
    expect(await store.acknowledgeEpisode(open.id, bob)).toBeUndefined();
    expect(await store.snoozeEpisode(open.id, snooze)).toBeUndefined();
    expect(await store.acknowledgeEpisode(999_999, bob)).toBeUndefined();
    await store.close();
  });

  it("takes a signed request once, across connections, until its time is up", async () => {
    const db = await backend.fresh();
    const one = await db.open();
    const two = await db.open();
    expect(await one.claimRequest("slack:v0=abc", 60_000)).toBe(true);
    expect(await two.claimRequest("slack:v0=abc", 60_000)).toBe(false);
    expect(await one.claimRequest("slack:v0=abc", 60_000)).toBe(false);
    expect(await two.claimRequest("slack:v0=def", 60_000)).toBe(true);
    // A key whose time is up is forgotten (a lifetime of 0 ends at once).
    expect(await one.claimRequest("slack:v0=short", 0)).toBe(true);
    expect(await two.claimRequest("slack:v0=short", 60_000)).toBe(true);
    await one.close();
    await two.close();
  });

  it("keeps the flapping resources an episode flagged", async () => {
    const store = await (await backend.fresh()).open();
    await store.applyAlertTransition(openTransition());
    const open = (await store.openEpisode("net"))!;
    expect(open.flapping).toBeUndefined();
    const flapping = [{ address: "local_file.a", type: "local_file", times: 3, since: subject.checkedAt, paths: ["content"] }];
    await store.applyAlertTransition({ stack: "net", episode: { op: "update", episode: { ...open, seenCount: 2, flapping } }, events: [], notifiers: [] });
    expect(await store.openEpisode("net")).toMatchObject({ seenCount: 2, flapping });
    await store.close();
  });

  it("opens an episode with its outbox entries at once, fills in the episode id, and keeps the thread once delivered", async () => {
    const db = await backend.fresh();
    const store = await db.open();
    const [event] = await store.applyAlertTransition(openTransition());
    const episode = (await store.openEpisode("net"))!;
    expect(episode).toMatchObject({ stack: "net", seenCount: 1, fingerprint: "fp1", changes: [change] });
    expect(event).toMatchObject({ episode: { id: episode.id } });
    const [slack] = await store.pendingAlerts("slack");
    expect(slack).toMatchObject({ notifier: "slack", episodeId: episode.id, attempts: 0, event: { type: "episode-opened", episode: { id: episode.id } } });
    expect(await store.pendingAlerts("log")).toHaveLength(1);

    await store.markAlertAttempt(slack!.id, "HTTP 503");
    expect((await store.pendingAlerts("slack"))[0]).toMatchObject({ attempts: 1, lastError: "HTTP 503" });
    await store.markAlertDelivered(slack!.id, { thread: { channel: "CDRIFT", ts: "1.2" } });
    await store.close();

    const again = await db.open();
    expect(await again.pendingAlerts("slack")).toEqual([]);
    expect((await again.openEpisode("net"))!.slackThread).toEqual({ channel: "CDRIFT", ts: "1.2" });
    await again.close();
  });

  it("writes nothing of a transition that cannot be applied", async () => {
    const store = await (await backend.fresh()).open();
    await store.applyAlertTransition(openTransition());
    const open = (await store.openEpisode("net"))!;
    await store.applyAlertTransition({ stack: "net", episode: { op: "close", episode: { ...open, closedAt: "2026-11-23T11:00:00.000Z" } }, events: [], notifiers: [] });
    const stale: EpisodeRecord = { ...open, seenCount: 2 };
    await expect(
      store.applyAlertTransition({ stack: "net", episode: { op: "update", episode: stale }, events: [{ ...opened, type: "episode-unchanged" }], notifiers: ["slack"] }),
    ).rejects.toThrow(/is not open/);
    expect(await store.pendingAlerts("slack")).toHaveLength(1); // only the opening's
    expect(await store.openEpisode("net")).toBeUndefined();
    expect(await store.getEpisode(open.id)).toMatchObject({ closedAt: "2026-11-23T11:00:00.000Z" });
    await store.close();
  });

  it("allows one open episode per stack", async () => {
    const store = await (await backend.fresh()).open();
    await store.applyAlertTransition(openTransition());
    await expect(store.applyAlertTransition(openTransition())).rejects.toThrow();
    expect(await store.pendingAlerts("slack")).toHaveLength(1);
    await store.close();
  });

  it("keeps the outbox in order, takes failed entries out, and notes the problem on the run", async () => {
    const store = await (await backend.fresh()).open();
    await store.recordRun({ runId: "r1", stack: "net", engine: "terraform", verdict: "drifted", changes: [change], startedAt: subject.checkedAt, finishedAt: subject.checkedAt, durationMs: 1 });
    await store.applyAlertTransition(openTransition());
    const failed: AlertEvent = { type: "run-failed", subject, error: { kind: "TimeoutError", message: "slow" }, suppressed: 0 };
    await store.applyAlertTransition({ stack: "net", failure: { stack: "net", lastAlertAt: subject.checkedAt, lastKind: "TimeoutError", suppressed: 0 }, events: [failed], notifiers: ["slack"] });
    expect((await store.pendingAlerts("slack")).map((e) => e.event.type)).toEqual(["episode-opened", "run-failed"]);
    expect(await store.failureAlertState("net")).toEqual({ stack: "net", lastAlertAt: subject.checkedAt, lastKind: "TimeoutError", suppressed: 0 });
    const first = (await store.pendingAlerts("slack"))[0]!;
    await store.markAlertFailed(first.id, "channel_not_found");
    await store.noteRunAlertError("r1", "slack: channel_not_found");
    expect((await store.pendingAlerts("slack")).map((e) => e.event.type)).toEqual(["run-failed"]);
    expect((await store.listRuns())[0]!.alertError).toBe("slack: channel_not_found");
    await store.close();
  });

  it("keeps what an attempt posted, and when it started posting, for the next process", async () => {
    const db = await backend.fresh();
    const store = await db.open();
    await store.applyAlertTransition(openTransition());
    const [entry] = await store.pendingAlerts("slack");
    expect(entry!.postStartedAt).toBeUndefined();
    await store.markAlertPosting(entry!.id);
    const started = (await store.pendingAlerts("slack"))[0]!.postStartedAt!;
    expect(Date.parse(started)).not.toBeNaN();
    // A later attempt keeps the earliest start: the window where the first post may be.
    await store.markAlertPosting(entry!.id);
    await store.recordAlertPost(entry!.id, { channel: "CDRIFT", ts: "1700000001.000100" });
    await store.close();

    const again = await db.open();
    expect((await again.pendingAlerts("slack"))[0]).toMatchObject({ id: entry!.id, postStartedAt: started, posted: { channel: "CDRIFT", ts: "1700000001.000100" } });
    await again.close();
  });
});
