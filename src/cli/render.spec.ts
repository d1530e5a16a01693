// What `check` prints under its table for a flapping resource: the count, and the ignore rule to paste.
import { describe, expect, it } from "vitest";
import { renderResults } from "./render.ts";

describe("renderResults", () => {
  it("names flapping resources and the ignore rule that would end the churn", () => {
    const out = renderResults([
      {
        runId: "r1",
        stack: "web",
        engine: "pulumi",
        verdict: "drifted",
        changes: [{ kind: "drift", address: "urn:pulumi:dev::demo::pulumi-nodejs:dynamic:Resource::motd", type: "pulumi-nodejs:dynamic:Resource", action: "update", properties: [{ path: "content", desired: "a", actual: "b" }] }],
        flapping: [{ address: "urn:pulumi:dev::demo::pulumi-nodejs:dynamic:Resource::motd", type: "pulumi-nodejs:dynamic:Resource", times: 3, since: "2026-11-23T10:02:11.482Z", paths: ["content"] }],
        startedAt: "2026-11-23T11:00:00.000Z",
        finishedAt: "2026-11-23T11:00:03.000Z",
        durationMs: 3000,
      },
    ]);
    expect(out).toContain(
      [
        "web: flapping: pulumi-nodejs:dynamic:Resource::motd started drifting 3 times since 2026-11-23T10:02:11.482Z",
        "web: if something besides Git owns it, an ignore rule in the stack's config ends the churn:",
        "    ignore:",
        '      - { type: "pulumi-nodejs:dynamic:Resource", paths: ["content"] }',
      ].join("\n"),
    );
  });

  it("names who changed a drifted field, and prints the engine's notes", () => {
    const out = renderResults([
      {
        runId: "r3",
        stack: "web",
        engine: "kubernetes",
        verdict: "drifted",
        changes: [{ kind: "drift", address: "ConfigMap/web/settings", type: "ConfigMap", action: "update", properties: [{ path: "data.greeting", desired: "hello", actual: "hi", changedBy: { manager: "kubectl-edit", operation: "Update", time: "2026-11-27T14:02:11Z" } }] }],
        notes: ["no apply by Driftwatch is recorded for stack web yet"],
        startedAt: "2026-11-23T11:00:00.000Z",
        finishedAt: "2026-11-23T11:00:03.000Z",
        durationMs: 3000,
      },
    ]);
    expect(out).toContain('      data.greeting: "hello" -> "hi"   (changed by kubectl-edit (Update, 2026-11-27T14:02:11Z))');
    expect(out).toContain("web: note: no apply by Driftwatch is recorded for stack web yet");
  });

  it("lists the resources the engine could not check for drift", () => {
    const out = renderResults([
      { runId: "r2", stack: "web", engine: "cloudformation", verdict: "in-sync", changes: [], unchecked: [{ address: "Hook", type: "Custom::Hook" }], startedAt: "2026-11-23T11:00:00.000Z", finishedAt: "2026-11-23T11:00:03.000Z", durationMs: 3000 },
    ]);
    expect(out).toContain("web: not checked for drift (the engine cannot): Hook (Custom::Hook)");
  });
});
