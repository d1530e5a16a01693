// The repository's own Pulumi.yaml (Driftwatch deploying itself on one host) deploys a config Driftwatch accepts.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.ts";
import { SERVICE_ENV, SERVICE_NODE_FLAGS } from "../../src/service/runtime.ts";
import { copyProgram, localStack } from "../support/pulumi.ts";
import { tempDir } from "../support/tempdir.ts";

describe("the repository's Pulumi project", () => {
  it("deploys Driftwatch's own service config and systemd unit, and the config loads", async () => {
    const root = tempDir();
    copyProgram(root, ["Pulumi.yaml", "deploy", "stacks/demo-files"]);
    const { stack } = await localStack(root, "deploy", root);
    const installDir = join(root, "install");
    await stack.setConfig("installDir", { value: installDir });
    await stack.setConfig("schedule", { value: "*/5 * * * *" });

    const preview = await stack.preview();
    expect(preview.changeSummary).toEqual({ create: 4 }); // the stack, the config, the unit, the data-dir marker

    const up = await stack.up();
    const config = loadConfig(up.outputs["configFile"]!.value as string);
    expect(config.dataDir).toBe(up.outputs["dataDir"]!.value);
    expect(config.stacks).toEqual([]);
    const unit = readFileSync(up.outputs["systemdUnit"]!.value as string, "utf8");
    // The service runs as `npm start` runs it, with the settings the memory benchmark measures.
    const main = join(installDir, "src", "cli", "main.ts");
    expect(unit).toContain(`ExecStart=/usr/bin/node ${SERVICE_NODE_FLAGS.join(" ")} ${main} serve --config ${join(installDir, "driftwatch.yaml")}\n`);
    for (const [name, value] of Object.entries(SERVICE_ENV)) expect(unit).toContain(`Environment=${name}=${value}\n`);
    // A dedicated unprivileged user, sandboxed: only the data directory is writable, no home, a private /tmp.
    for (const line of ["User=driftwatch", "NoNewPrivileges=true", "ProtectSystem=strict", "ProtectHome=true", "PrivateTmp=true", "UMask=0077", "CapabilityBoundingSet=", "RestrictNamespaces=user pid net", "ProtectProc=invisible"]) {
      expect(unit).toContain(`${line}\n`);
    }
    expect(unit).toContain(`ReadWritePaths=${up.outputs["dataDir"]!.value as string}\n`);
    expect(unit).toContain(`Environment=DRIFTWATCH_TOOLS_DIR=${join(installDir, ".tools")}\n`);
    // systemd's own reading of the unit, where systemd is installed: no unknown key, no invalid setting.
    const analyze = spawnSync("systemd-analyze", ["verify", up.outputs["systemdUnit"]!.value as string], { encoding: "utf8" });
    if (analyze.error === undefined) expect(`${analyze.stdout}${analyze.stderr}`).not.toMatch(/unknown|invalid|failed to parse|ignoring/i);
  });
});
