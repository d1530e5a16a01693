// The guard rails of automatic remediation, evaluated on the remediation *plan* (what converging would actually
// do), never on the drift that prompted it: a drift of one tag can still plan a replacement. Every guard is
// evaluated and reported, passed or not, so the audit log shows the whole decision.
import type { IgnoreRule, RemediationPolicy, Weekday } from "../config/types.ts";
import { ignoredProperties } from "./ignore.ts";
import type { ResourceChange } from "../core/types.ts";

export type GuardName = "trigger" | "source" | "ignore" | "deletes" | "replaces" | "protect" | "maxChanges" | "window" | "freeze" | "signature";

export interface GuardResult {
  guard: GuardName;
  passed: boolean;
  /** Why it passed or failed, in words a reviewer understands. */
  reason: string;
}

/** What the guards look at besides the plan. */
export interface GuardFacts {
  now: Date;
  /** What the check found: remediation only answers the kinds of divergence the policy's `on` names. */
  found: { drift: boolean; pending: boolean };
  /** The commit's signature, when the policy requires one. */
  signature?: { verified: boolean; detail: string };
  /** Set when the check could not fetch the remote and judged an earlier fetch's commit. */
  staleSource?: string;
  /** The stack's ignore rules: a plan that would revert an ignored property is refused. */
  ignore?: readonly IgnoreRule[];
}

const WEEKDAYS: readonly Weekday[] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/** The local calendar date (YYYY-MM-DD), weekday and minutes since midnight of `at` in `timeZone`. */
export function localTime(at: Date, timeZone: string): { date: string; weekday: Weekday; minutes: number } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", { timeZone, year: "numeric", month: "2-digit", day: "2-digit", weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  const weekday = String(parts.weekday).slice(0, 3).toLowerCase() as Weekday;
  return { date: `${parts.year}-${parts.month}-${parts.day}`, weekday, minutes: Number(parts.hour) * 60 + Number(parts.minute) };
}

/** "09:30" → 570. */
export function minutesOf(clock: string): number {
  const [h, m] = clock.split(":").map(Number);
  return h! * 60 + m!;
}

function previousDay(day: Weekday): Weekday {
  return WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7]!;
}

/** Whether `at` falls in the window; a window whose `to` is before its `from` runs past midnight into the next day. */
export function inWindow(window: RemediationPolicy["windows"][number], at: Date): boolean {
  const { weekday, minutes } = localTime(at, window.tz);
  const from = minutesOf(window.from);
  const to = minutesOf(window.to);
  if (from < to) return window.days.includes(weekday) && minutes >= from && minutes < to;
  return (window.days.includes(weekday) && minutes >= from) || (window.days.includes(previousDay(weekday)) && minutes < to);
}

function describeWindow(w: RemediationPolicy["windows"][number]): string {
  return `${w.days.join(",")} ${w.from}-${w.to} ${w.tz}`;
}

function names(changes: readonly ResourceChange[]): string {
  const shown = changes.slice(0, 5).map((c) => c.address);
  return shown.join(", ") + (changes.length > shown.length ? ` and ${changes.length - shown.length} more` : "");
}

function guard(name: GuardName, passed: boolean, reason: string): GuardResult {
  return { guard: name, passed, reason };
}

/** Every guard of `policy` on `plan` (the changes converging would make). Remediation may go ahead only if all pass. */
export function evaluateGuards(policy: RemediationPolicy, plan: readonly ResourceChange[], facts: GuardFacts): GuardResult[] {
  const results: GuardResult[] = [];

  const wanted = policy.on === "both" ? ["drift", "pending"] : [policy.on];
  const answered = wanted.filter((kind) => facts.found[kind as "drift" | "pending"]);
  results.push(
    answered.length > 0
      ? guard("trigger", true, `the check found ${answered.join(" and ")}, which the policy remediates (on: ${policy.on})`)
      : guard("trigger", false, `the policy remediates ${wanted.join(" and ")} only (on: ${policy.on}), and the check found none`),
  );

  results.push(
    facts.staleSource === undefined
      ? guard("source", true, "the commit is the remote's current one")
      : guard("source", false, `the remote could not be fetched, so the commit may be out of date; remediating from it could undo newer commits (${facts.staleSource})`),
  );

  // Creating a resource (again) reverts nothing; updating or replacing one puts its ignored properties back.
  const reverting = plan
    .filter((c) => c.action === "update" || c.action === "replace")
    .flatMap((c) => ignoredProperties(facts.ignore ?? [], c).map((path) => `${path} of ${c.address}`));
  results.push(
    reverting.length === 0
      ? guard("ignore", true, (facts.ignore ?? []).length === 0 ? "no ignore rules" : "the plan touches no ignored property")
      : guard("ignore", false, `the plan would revert ignored ${reverting.slice(0, 5).join(", ")}${reverting.length > 5 ? ` and ${reverting.length - 5} more` : ""}`),
  );

  const deletes = plan.filter((c) => c.action === "delete");
  results.push(
    deletes.length === 0 || policy.allow.deletes
      ? guard("deletes", true, deletes.length === 0 ? "the plan deletes nothing" : `the plan deletes ${names(deletes)}; allowed (allow.deletes)`)
      : guard("deletes", false, `the plan would delete ${names(deletes)}; deletes are not allowed (allow.deletes: false)`),
  );

  const replaces = plan.filter((c) => c.action === "replace");
  results.push(
    replaces.length === 0 || policy.allow.replaces
      ? guard("replaces", true, replaces.length === 0 ? "the plan replaces nothing" : `the plan replaces ${names(replaces)}; allowed (allow.replaces)`)
      : guard("replaces", false, `the plan would replace ${names(replaces)}; replacements are not allowed (allow.replaces: false)`),
  );

  const protectedChanges = plan.filter((c) => policy.protect.includes(c.type));
  results.push(
    protectedChanges.length === 0
      ? guard("protect", true, policy.protect.length === 0 ? "no protected types" : "the plan touches no protected type")
      : guard("protect", false, `the plan would touch protected ${[...new Set(protectedChanges.map((c) => c.type))].join(", ")}: ${names(protectedChanges)}`),
  );

  results.push(
    plan.length <= policy.maxChanges
      ? guard("maxChanges", true, `the plan touches ${plan.length} of at most ${policy.maxChanges} resources`)
      : guard("maxChanges", false, `the plan would touch ${plan.length} resources; at most ${policy.maxChanges} may be changed automatically (maxChanges)`),
  );

  if (policy.windows.length === 0) results.push(guard("window", true, "no remediation windows: any time"));
  else {
    const open = policy.windows.find((w) => inWindow(w, facts.now));
    results.push(
      open
        ? guard("window", true, `inside the window ${describeWindow(open)}`)
        : guard("window", false, `outside every remediation window (${policy.windows.map(describeWindow).join("; ")}) at ${facts.now.toISOString()}`),
    );
  }

  const frozen = policy.freeze.find((f) => {
    const today = localTime(facts.now, f.tz).date;
    return today >= f.from && today <= f.to;
  });
  results.push(
    frozen
      ? guard("freeze", false, `inside the change freeze ${frozen.from} to ${frozen.to} (${frozen.tz})`)
      : guard("freeze", true, policy.freeze.length === 0 ? "no change freezes" : "outside every change freeze"),
  );

  if (policy.requireSignedCommit) {
    const signature = facts.signature ?? { verified: false, detail: "the signature was not checked" };
    results.push(guard("signature", signature.verified, signature.detail));
  } else {
    results.push(guard("signature", true, "signed commits are not required"));
  }
  return results;
}

/** The failed guards' reasons, joined; empty when every guard passed. */
export function refusals(results: readonly GuardResult[]): string[] {
  return results.filter((r) => !r.passed).map((r) => r.reason);
}
