// The Pulumi engine is real: the provisioned CLI, language host and dynamic provider launcher run the demo
// stack's TypeScript program from disk against a local file:// backend, and a change made behind Pulumi's
// back shows up in previewRefresh.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import { describe, expect, it } from "vitest";
import { copyProgram, localStack } from "../support/pulumi.ts";
import { tempDir } from "../support/tempdir.ts";
import { testToolchain } from "../support/toolchain.ts";

interface RefreshStep {
  op: string;
  name: string;
  changed: string[];
  old: Record<string, unknown> | undefined;
  new: Record<string, unknown> | undefined;
}

/** Per dynamic resource: what refresh would do to it, and which of its outputs differ. */
function refreshSteps(events: EngineEvent[]): RefreshStep[] {
  return events.flatMap((event) => {
    const metadata = event.resOutputsEvent?.metadata;
    if (!metadata || !metadata.type.startsWith("pulumi-nodejs:dynamic")) return [];
    const before = metadata.old?.outputs;
    const after = metadata.new?.outputs;
    const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})].filter((k) => k !== "__provider"));
    const changed = [...keys].filter((k) => JSON.stringify(before?.[k]) !== JSON.stringify(after?.[k])).sort();
    return [{ op: metadata.op, name: metadata.urn.split("::").pop()!, changed, old: before, new: after }];
  });
}

describe("pulumi (real CLI, local backend)", () => {
  it("deploys the demo stack and sees out-of-band edits and deletions in previewRefresh", async () => {
    const root = tempDir();
    const world = join(root, "world");
    copyProgram(root, ["stacks/demo-files"]);
    const { stack, command } = await localStack(join(root, "stacks", "demo-files"), "smoke", root);
    expect(command.version?.toString()).toBe(testToolchain().manifest.pulumi.version);
    await stack.setConfig("dir", { value: world });

    const up = await stack.up();
    expect(up.summary.result).toBe("succeeded");
    expect(readFileSync(join(world, "motd.txt"), "utf8")).toContain("watched by Driftwatch");
    expect(existsSync(join(world, "settings.ini"))).toBe(true);

    const inSync: EngineEvent[] = [];
    const clean = await stack.previewRefresh({ onEvent: (e) => inSync.push(e) });
    expect(refreshSteps(inSync).map((s) => s.op)).toEqual(["same", "same"]);
    expect(clean.changeSummary.update ?? 0).toBe(0);

    writeFileSync(join(world, "settings.ini"), "[service]\nreplicas = 5\n");
    rmSync(join(world, "motd.txt"));

    const events: EngineEvent[] = [];
    const drift = await stack.previewRefresh({ onEvent: (e) => events.push(e) });
    expect(drift.changeSummary).toMatchObject({ update: 1, delete: 1 });
    const steps = Object.fromEntries(refreshSteps(events).map((s) => [s.name, s]));
    expect(steps.settings).toMatchObject({ op: "update", changed: ["content"] });
    expect(steps.settings?.old?.content).toBe("[service]\nreplicas = 2\n");
    expect(steps.settings?.new?.content).toBe("[service]\nreplicas = 5\n");
    expect(steps.motd).toMatchObject({ op: "delete" });

    // A preview changes nothing: neither the world nor the recorded state.
    expect(readFileSync(join(world, "settings.ini"), "utf8")).toBe("[service]\nreplicas = 5\n");
    const state = await stack.exportStack();
    const settings = state.deployment.resources.find((r: { urn: string }) => r.urn.endsWith("::settings"));
    expect(settings.outputs.content).toBe("[service]\nreplicas = 2\n");
  });
});
