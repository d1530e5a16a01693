// Pulumi's refusals of an `up` held to an update plan, as the engine reports them (messages as the 3.259 CLI wrote
// them): which resource and what kind of departure, never the property values Pulumi's text shows.
import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import { describe, expect, it } from "vitest";
import { isPlanRefusal, planRefusals } from "./events.ts";

const motd = "urn:pulumi:dev::demo-files::pulumi-nodejs:dynamic:Resource::motd";
const extra = "urn:pulumi:dev::demo-files::pulumi-nodejs:dynamic:Resource::extra";
const diagnostic = (message: string, urn?: string, severity: "error" | "debug" = "error"): EngineEvent =>
  ({ sequence: 0, timestamp: 0, diagnosticEvent: { ...(urn ? { urn } : {}), prefix: `${severity}: `, message, color: "never", severity } }) as EngineEvent;

describe("planRefusals", () => {
  it("names each refused resource and the kind of departure, without the values Pulumi's message shows", () => {
    const events = [
      diagnostic("Registering resource: t=pulumi-nodejs:dynamic:Resource, name=motd\n", undefined, "debug"),
      diagnostic(`resource ${motd} violates plan: properties changed: ~~content[{&{{Welcome.\n}}}!={&{{s3cret, on up\n}}}]\n`, motd),
      diagnostic("create is not allowed by the plan: no steps were expected for this resource\n", extra),
      diagnostic("update failed\n"),
    ];
    const refusals = planRefusals(events);
    expect(refusals).toEqual([`${motd}: it violates the plan: properties changed`, `${extra}: create is not allowed by the plan: no steps were expected for this resource`]);
    expect(refusals.join("\n")).not.toContain("s3cret");
  });

  it("finds none in an update that failed for another reason", () => {
    expect(planRefusals([diagnostic("Program failed with an unhandled exception\n"), diagnostic("update failed\n")])).toEqual([]);
    expect(isPlanRefusal("error: update failed")).toBe(false);
    expect(isPlanRefusal(`error: resource ${motd} violates plan: properties changed: ~~content[{a}!={b}]`)).toBe(true);
  });
});
