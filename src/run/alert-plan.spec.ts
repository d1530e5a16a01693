import { describe, expect, it } from "vitest";
import { terraformStackConfig } from "../../test/support/stack-config.ts";
import type { StackConfig } from "../config/types.ts";
import type { ResourceChange, StackResult } from "../core/types.ts";
import type { EpisodeRecord, FailureAlertState } from "../store/api.ts";
import type { StackAlertEvent } from "../core/alerts.ts";
import { planAlerts, type AlertPlanInput } from "./alert-plan.ts";

const stack: StackConfig = terraformStackConfig("net", { repo: "https://user:hunter2@github.com/acme/infra.git", ref: "main", path: "net" }, { timeoutSeconds: 60 });

const drift = (address: string, actual = "y"): ResourceChange => ({
  kind: "drift",
  address,
  type: "local_file",
  action: "update",
  properties: [{ path: "content", desired: "x", actual }],
});
const pending: ResourceChange = { kind: "pending", address: "local_file.new", type: "local_file", action: "create", properties: [] };

let clock = Date.parse("2026-11-23T10:00:00Z");
function result(changes: ResourceChange[], error?: StackResult["error"]): StackResult {
  clock += 15 * 60_000;
  const at = new Date(clock).toISOString();
  return {
    runId: `run-${clock}`,
    stack: "net",
    engine: "terraform",
    verdict: error ? "error" : changes.length ? "drifted" : "in-sync",
    commit: "0123456789abcdef0123456789abcdef01234567",
    changes,
    ...(error ? { error } : {}),
    startedAt: at,
    finishedAt: at,
    durationMs: 1000,
  };
}

/** Applies plans like the store would, so a sequence of runs can be followed. */
function follow(runs: StackResult[], config: StackConfig = stack, repeatMs = 3_600_000) {
  let open: EpisodeRecord | undefined;
  let failure: FailureAlertState | undefined;
  let nextId = 1;
  return runs.map((r) => {
    const input: AlertPlanInput = { stack: config, result: r, open, failure, failureRepeatMs: repeatMs };
    const plan = planAlerts(input);
    if (plan?.failure) failure = plan.failure;
    const change = plan?.episode;
    if (change?.op === "open") open = { ...change.episode, id: nextId++ };
    else if (change?.op === "update") open = change.episode;
    else if (change?.op === "close") open = undefined;
    return plan?.events ?? [];
  });
}

describe("planAlerts", () => {
  it("holds back a snoozed episode's updates until the snooze ends, and lets a changed drift through, ending the snooze", () => {
    const first = result([drift("a")]);
    const opened = planAlerts({ stack, result: first, open: undefined, failure: undefined, failureRepeatMs: 0 })!;
    const by = { id: "UALICE1", name: "alice" };
    const open: EpisodeRecord = {
      ...(opened.episode!.episode as Omit<EpisodeRecord, "id">),
      id: 7,
      acknowledged: { by, at: first.finishedAt },
      snooze: { by, at: first.finishedAt, until: new Date(clock + 20 * 60_000).toISOString() },
    };
    const plan = (r: StackResult, episode: EpisodeRecord) => planAlerts({ stack, result: r, open: episode, failure: undefined, failureRepeatMs: 0 })!;

    // Within the snooze, the same drift: recorded as seen, nothing posted, the marks left to the store.
    const held = plan(result([drift("a")]), open);
    expect(held.events).toEqual([]);
    expect(held.episode).toMatchObject({ op: "update", episode: { seenCount: 2 } });
    expect(held.episode).not.toHaveProperty("endSnooze");

    // After the snooze: the root is updated again, and says who is on it (the snooze is not shown any more).
    const after = plan(result([drift("a")]), { ...open, seenCount: 2 });
    expect(after.events).toMatchObject([{ type: "episode-unchanged", episode: { seenCount: 3, acknowledged: { by } } }]);
    expect((after.events[0] as Extract<StackAlertEvent, { type: "episode-unchanged" }>).episode.snooze).toBeUndefined();

    // Within the snooze, a changed drift: posted, and the snooze ends.
    const snoozed = { ...open, snooze: { by, at: first.finishedAt, until: new Date(clock + 60 * 60_000).toISOString() } };
    const changed = plan(result([drift("a", "z")]), snoozed);
    expect(changed.episode).toMatchObject({ op: "update", endSnooze: true });
    expect(changed.episode!.episode).not.toHaveProperty("snooze");
    expect(changed.events).toMatchObject([{ type: "episode-changed", modified: [{ address: "a" }], episode: { acknowledged: { by } } }]);
    expect((changed.events[0] as Extract<StackAlertEvent, { type: "episode-changed" }>).episode.snooze).toBeUndefined();

    // Within the snooze, back in sync: resolved, as always.
    expect(plan(result([]), snoozed).events).toMatchObject([{ type: "episode-resolved" }]);
  });

  it("flags flapping resources in the episode and its events, keeping each resource's latest count", () => {
    const flap = (address: string, times: number) => ({ address, type: "local_file", times, since: "2026-11-23T08:00:00.000Z", paths: ["content"] });
    const [opened, unchanged, resolved] = follow([
      { ...result([drift("a"), drift("b")]), flapping: [flap("a", 3)] },
      { ...result([drift("a"), drift("b")]), flapping: [flap("a", 4), flap("b", 3)] },
      result([]),
    ]);
    expect(opened![0]).toMatchObject({ type: "episode-opened", flapping: [flap("a", 3)] });
    expect(unchanged![0]).toMatchObject({ type: "episode-unchanged", flapping: [flap("a", 4), flap("b", 3)] });
    expect(resolved![0]).toMatchObject({ type: "episode-resolved", flapping: [flap("a", 4), flap("b", 3)] });
    expect(follow([result([drift("a")])])[0]![0]).not.toHaveProperty("flapping");
  });

  it("opens once, stays quiet while unchanged, replies when it changes, resolves with a duration", () => {
    const [opened, unchanged, changed, resolved, quiet] = follow([
      result([drift("a")]),
      result([drift("a")]),
      result([drift("a", "z"), drift("b")]),
      result([]),
      result([]),
    ]);
    expect(opened).toEqual([expect.objectContaining({ type: "episode-opened", episode: expect.objectContaining({ seenCount: 1 }) })]);
    expect((opened![0] as StackAlertEvent).subject).toMatchObject({ stack: "net", verdict: "drifted", repo: "https://***@github.com/acme/infra.git", path: "net" });
    expect(unchanged).toEqual([expect.objectContaining({ type: "episode-unchanged", episode: expect.objectContaining({ seenCount: 2 }) })]);
    expect(changed).toEqual([
      expect.objectContaining({
        type: "episode-changed",
        added: [{ kind: "drift", address: "b", type: "local_file", action: "update" }],
        removed: [],
        modified: [{ kind: "drift", address: "a", type: "local_file", action: "update" }],
      }),
    ]);
    expect(resolved).toEqual([
      expect.objectContaining({ type: "episode-resolved", episode: expect.objectContaining({ seenCount: 3, durationMs: 45 * 60_000 }), changes: [drift("a", "z"), drift("b")] }),
    ]);
    expect(quiet).toEqual([]);
  });

  it("ignores pending changes unless the stack asks for them", () => {
    expect(follow([result([pending])])).toEqual([[]]);
    const [events] = follow([result([pending])], { ...stack, alerts: { pending: true, mute: false } });
    expect(events).toEqual([expect.objectContaining({ type: "episode-opened", subject: expect.objectContaining({ verdict: "pending" }) })]);
  });

  it("says nothing for a muted stack", () => {
    expect(follow([result([drift("a")])], { ...stack, alerts: { pending: false, mute: true } })).toEqual([[]]);
  });

  it("keeps an open episode through failed runs and rate-limits failure alerts per kind", () => {
    const boom = { kind: "TimeoutError", message: "too slow" };
    const events = follow(
      [result([drift("a")]), result([], boom), result([], boom), result([], { kind: "ProgramError", message: "broken" }), result([drift("a")])],
      stack,
      3_600_000,
    );
    expect(events.map((e) => e.map((x) => x.type))).toEqual([["episode-opened"], ["run-failed"], [], ["run-failed"], ["episode-unchanged"]]);
    expect(events[3]![0]).toMatchObject({ type: "run-failed", error: { kind: "ProgramError" }, suppressed: 1 });
  });

  it("alerts a failure again once the repeat interval has passed", () => {
    const boom = { kind: "TimeoutError", message: "too slow" };
    const events = follow([result([], boom), result([], boom), result([], boom)], stack, 20 * 60_000);
    expect(events.map((e) => e.map((x) => x.type))).toEqual([["run-failed"], [], ["run-failed"]]);
  });
});
