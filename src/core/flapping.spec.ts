// Flapping: counted as drift onsets of one resource within the window, judged on recorded runs; the suggested
// ignore rule is configuration Driftwatch itself accepts.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ignoreRulesSchema } from "../config/schema.ts";
import { flappingResources, ignoreRulesYaml, suggestedIgnoreRules } from "./flapping.ts";
import type { ResourceChange, RunDrift } from "./types.ts";

const HOUR = 3_600_000;
const at = (hours: number) => new Date(Date.UTC(2026, 10, 23, 0) + hours * HOUR).toISOString();
const run = (hours: number, ...addresses: string[]): RunDrift => ({ runId: `run-${hours}`, startedAt: at(hours), addresses });
/** The run being judged, with its drifted resources in full. */
const now = (hours: number, ...addresses: string[]) => ({
  startedAt: at(hours),
  drift: addresses.map((address): ResourceChange => ({ kind: "drift", address, type: "aws_instance", action: "update", properties: [{ path: `tags.${address}`, desired: "a", actual: "b" }] })),
});
const policy = { threshold: 3, windowMs: 24 * HOUR };

describe("flapping detection", () => {
  it("counts the times a resource started drifting again, not the runs that saw it drifting", () => {
    // web: drifted, fixed, drifted, fixed, drifting now: three onsets. db: drifting all along: one.
    const history = [run(1, "web", "db"), run(2, "db"), run(3, "web", "db"), run(4, "web", "db"), run(5, "db")];
    expect(flappingResources(history, now(6, "web", "db"), policy)).toEqual([
      { address: "web", type: "aws_instance", times: 3, since: at(1), paths: ["tags.web"] },
    ]);
    expect(flappingResources(history, now(6, "web", "db"), { ...policy, threshold: 4 })).toEqual([]);
    expect(flappingResources(history, now(6, "web", "db"), { ...policy, threshold: 0 })).toEqual([]);
  });

  it("counts only onsets inside the window; a drift going on when the window starts is not one", () => {
    const history = [run(0, "web"), run(2, "web"), run(3), run(20, "web"), run(21)];
    // The window of 24 h before hour 26 starts at hour 2. Web was already drifting at hour 0 (the run before the
    // window), so hour 2 is no onset: hours 20 and 26 are.
    expect(flappingResources(history, now(26, "web"), { ...policy, threshold: 2 })).toMatchObject([{ address: "web", times: 2, since: at(2) }]);
    expect(flappingResources(history, now(26, "web"), { ...policy, threshold: 3 })).toEqual([]);
    // Without the run before the window, hour 2 would have counted.
    expect(flappingResources(history.slice(1), now(26, "web"), { ...policy, threshold: 3 })).toMatchObject([{ address: "web", times: 3 }]);
    // Onsets older than the window never count, whatever the history holds.
    expect(flappingResources([run(-10, "web"), run(-9), run(-8, "web"), run(-7), ...history], now(26, "web"), { ...policy, threshold: 3 })).toEqual([]);
  });

  it("flags only what drifts in the current run", () => {
    const history = [run(1, "web"), run(2), run(3, "web"), run(4)];
    expect(flappingResources(history, now(5, "db"), { ...policy, threshold: 2 })).toEqual([]);
  });

  it("suggests one ignore rule per type with the properties seen drifting, as valid configuration", () => {
    const rules = suggestedIgnoreRules([
      { address: "web", type: "aws_instance", times: 3, since: at(1), paths: ["tags.LastScanned", 'tags["k8s.io/x"]'] },
      { address: "api", type: "aws_instance", times: 4, since: at(1), paths: ["instance_type"] },
      { address: "gone", type: "aws_s3_bucket", times: 3, since: at(1), paths: [] },
    ]);
    expect(rules).toEqual([{ type: "aws_instance", paths: ["instance_type", "tags.LastScanned", 'tags["k8s.io/x"]'] }]);
    const yaml = ignoreRulesYaml(rules);
    expect(yaml).toBe('ignore:\n  - { type: "aws_instance", paths: ["instance_type", "tags.LastScanned", "tags[\\"k8s.io/x\\"]"] }');
    expect(ignoreRulesSchema.parse((parse(yaml) as { ignore: unknown }).ignore)).toEqual(rules);
  });
});
