// The guard rails on a remediation plan: each guard's verdict and reason, windows across time zones and midnight,
// freezes by local date.
import { describe, expect, it } from "vitest";
import { DEFAULT_REMEDIATION } from "../config/remediation.ts";
import type { RemediationPolicy } from "../config/types.ts";
import type { ResourceChange } from "../core/types.ts";
import { evaluateGuards, inWindow, localTime, refusals } from "./guards.ts";

const change = (address: string, action: ResourceChange["action"], type = "local_file"): ResourceChange => ({ kind: "pending", address, type, action, properties: [] });
const policy = (overrides: Partial<RemediationPolicy> = {}): RemediationPolicy => ({ ...DEFAULT_REMEDIATION, mode: "auto", ...overrides });
const drift = { drift: true, pending: false };
const monday10utc = new Date("2026-11-23T10:00:00Z"); // a Monday

const verdicts = (results: ReturnType<typeof evaluateGuards>) => Object.fromEntries(results.map((r) => [r.guard, r.passed]));

describe("evaluateGuards", () => {
  it("passes a small update-only plan under the defaults, and says why for every guard", () => {
    const results = evaluateGuards(policy(), [change("local_file.a", "update")], { now: monday10utc, found: drift });
    expect(verdicts(results)).toEqual({ trigger: true, source: true, ignore: true, deletes: true, replaces: true, protect: true, maxChanges: true, window: true, freeze: true, signature: true });
    expect(results.every((r) => r.reason.length > 0)).toBe(true);
  });

  it("refuses deletes and replaces unless allowed, naming the resources", () => {
    const plan = [change("local_file.a", "delete"), change("local_file.b", "replace")];
    const refused = refusals(evaluateGuards(policy(), plan, { now: monday10utc, found: drift }));
    expect(refused).toEqual([
      "the plan would delete local_file.a; deletes are not allowed (allow.deletes: false)",
      "the plan would replace local_file.b; replacements are not allowed (allow.replaces: false)",
    ]);
    expect(refusals(evaluateGuards(policy({ allow: { deletes: true, replaces: true } }), plan, { now: monday10utc, found: drift }))).toEqual([]);
  });

  it("refuses protected types and plans larger than maxChanges", () => {
    const plan = [change("aws_db_instance.main", "update", "aws_db_instance"), change("local_file.a", "update")];
    const results = evaluateGuards(policy({ protect: ["aws_db_instance"], maxChanges: 1 }), plan, { now: monday10utc, found: drift });
    expect(verdicts(results)).toMatchObject({ protect: false, maxChanges: false });
    expect(refusals(results)).toEqual([
      "the plan would touch protected aws_db_instance: aws_db_instance.main",
      "the plan would touch 2 resources; at most 1 may be changed automatically (maxChanges)",
    ]);
  });

  it("remediates only the kind of divergence the policy names", () => {
    const plan = [change("local_file.a", "create")];
    expect(verdicts(evaluateGuards(policy({ on: "pending" }), plan, { now: monday10utc, found: drift })).trigger).toBe(false);
    expect(verdicts(evaluateGuards(policy({ on: "both" }), plan, { now: monday10utc, found: drift })).trigger).toBe(true);
    expect(verdicts(evaluateGuards(policy({ on: "drift" }), plan, { now: monday10utc, found: { drift: false, pending: true } })).trigger).toBe(false);
  });

  it("refuses outside every window and inside a freeze, in the policy's time zones", () => {
    const windows = [{ days: ["mon" as const], from: "09:00", to: "17:00", tz: "Europe/Berlin" }];
    expect(verdicts(evaluateGuards(policy({ windows }), [], { now: monday10utc, found: drift })).window).toBe(true); // 11:00 in Berlin
    expect(verdicts(evaluateGuards(policy({ windows }), [], { now: new Date("2026-11-23T16:30:00Z"), found: drift })).window).toBe(false); // 17:30
    const freeze = [{ from: "2026-11-24", to: "2026-11-30", tz: "Pacific/Auckland" }];
    // 2026-11-23T12:00Z is already the 24th in Auckland.
    expect(verdicts(evaluateGuards(policy({ freeze }), [], { now: new Date("2026-11-23T12:00:00Z"), found: drift })).freeze).toBe(false);
    expect(verdicts(evaluateGuards(policy({ freeze }), [], { now: new Date("2026-11-23T10:00:00Z"), found: drift })).freeze).toBe(true);
  });

  it("refuses to remediate from a commit the check could only read from an earlier fetch", () => {
    const results = evaluateGuards(policy(), [change("local_file.a", "update")], { now: monday10utc, found: drift, staleSource: "cannot reach origin" });
    expect(refusals(results)).toEqual(["the remote could not be fetched, so the commit may be out of date; remediating from it could undo newer commits (cannot reach origin)"]);
  });

  it("refuses a plan that would revert an ignored property", () => {
    const update: ResourceChange = { ...change("aws_instance.web", "update", "aws_instance"), properties: [{ path: "tags.LastScanned", desired: "a", actual: "b" }] };
    const ignore = [{ type: "aws_instance", paths: ["tags.LastScanned"] }];
    expect(refusals(evaluateGuards(policy(), [update], { now: monday10utc, found: drift, ignore }))).toEqual(["the plan would revert ignored tags.LastScanned of aws_instance.web"]);
    expect(refusals(evaluateGuards(policy(), [update], { now: monday10utc, found: drift, ignore: [{ type: "aws_s3_bucket", paths: ["**"] }] }))).toEqual([]);
    // Creating a deleted resource again puts back nothing anyone changed.
    const create: ResourceChange = { ...update, action: "create" };
    expect(refusals(evaluateGuards(policy(), [create], { now: monday10utc, found: drift, ignore }))).toEqual([]);
  });

  it("requires a verified signature when the policy says so", () => {
    const signed = policy({ requireSignedCommit: { before: "remediate" }, trustedKeys: "/keys" });
    expect(refusals(evaluateGuards(signed, [], { now: monday10utc, found: drift, signature: { verified: false, detail: "commit abc is not signed" } }))).toEqual([
      "commit abc is not signed",
    ]);
    expect(refusals(evaluateGuards(signed, [], { now: monday10utc, found: drift }))).toEqual(["the signature was not checked"]);
    expect(refusals(evaluateGuards(signed, [], { now: monday10utc, found: drift, signature: { verified: true, detail: "ok" } }))).toEqual([]);
  });
});

describe("windows", () => {
  it("runs a window whose end is before its start past midnight, counting from its opening day", () => {
    const night = { days: ["fri" as const], from: "22:00", to: "06:00", tz: "UTC" };
    expect(inWindow(night, new Date("2026-11-27T23:00:00Z"))).toBe(true); // Friday 23:00
    expect(inWindow(night, new Date("2026-11-28T05:59:00Z"))).toBe(true); // Saturday 05:59
    expect(inWindow(night, new Date("2026-11-28T06:00:00Z"))).toBe(false);
    expect(inWindow(night, new Date("2026-11-28T23:00:00Z"))).toBe(false); // Saturday night: not a Friday
  });

  it("reads local dates and weekdays in any time zone", () => {
    expect(localTime(new Date("2026-11-23T23:30:00Z"), "Asia/Tokyo")).toEqual({ date: "2026-11-24", weekday: "tue", minutes: 8 * 60 + 30 });
  });
});
