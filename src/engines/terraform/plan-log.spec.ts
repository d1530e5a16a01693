import { describe, expect, it } from "vitest";
import { planChangesNothing } from "./plan-log.ts";

const line = (message: Record<string, unknown>) => JSON.stringify({ "@level": "info", "@module": "tofu.ui", ...message });
const version = line({ type: "version", tofu: "1.12.6", ui: "1.2" });
const refresh = [
  line({ type: "refresh_start", hook: { resource: { addr: "local_file.a" } } }),
  line({ type: "refresh_complete", hook: { resource: { addr: "local_file.a" } } }),
];
const summary = (changes: Record<string, unknown>) => line({ type: "change_summary", changes: { add: 0, change: 0, import: 0, remove: 0, forget: 0, operation: "plan", ...changes } });
const outputs = line({ type: "outputs", outputs: { a: { sensitive: false, action: "noop" } } });
const log = (...lines: string[]) => `${lines.join("\n")}\n`;

describe("planChangesNothing", () => {
  it("is true for the log of a plan in sync (as OpenTofu 1.12 writes it)", () => {
    expect(planChangesNothing(log(version, ...refresh, summary({}), outputs))).toBe(true);
    // warnings change nothing
    expect(planChangesNothing(log(version, line({ type: "diagnostic", "@level": "warn", diagnostic: { severity: "warning", summary: "deprecated" } }), summary({})))).toBe(true);
  });

  it("is false when anything drifted or is planned", () => {
    const drift = line({ type: "resource_drift", change: { resource: { addr: "local_file.a" }, action: "delete" } });
    const planned = line({ type: "planned_change", change: { resource: { addr: "local_file.a" }, action: "create" } });
    const moved = line({ type: "planned_change", change: { resource: { addr: "local_file.b" }, previous_resource: { addr: "local_file.a" }, action: "move" } });
    expect(planChangesNothing(log(version, ...refresh, drift, planned, summary({ add: 1 })))).toBe(false);
    // drift that the plan would not undo (an ignored attribute) is still drift
    expect(planChangesNothing(log(version, ...refresh, drift, summary({})))).toBe(false);
    // a move or an import changes nothing in the world but is pending
    expect(planChangesNothing(log(version, moved, summary({})))).toBe(false);
    expect(planChangesNothing(log(version, summary({ import: 1 })))).toBe(false);
    expect(planChangesNothing(log(version, summary({ forget: 1 })))).toBe(false);
  });

  it("is false for a log it cannot vouch for", () => {
    expect(planChangesNothing("")).toBe(false);
    expect(planChangesNothing(log(version, ...refresh))).toBe(false); // no summary: not a finished plan
    expect(planChangesNothing(log(version, summary({}), summary({})))).toBe(false);
    expect(planChangesNothing(log(version, summary({ operation: "apply" })))).toBe(false);
    expect(planChangesNothing(log(version, summary({ forget: undefined })))).toBe(false); // a counter missing
    expect(planChangesNothing(log(version, line({ type: "something_new" }), summary({})))).toBe(false);
    expect(planChangesNothing(`${version}\n{"type": "change_sum`)).toBe(false);
  });
});
