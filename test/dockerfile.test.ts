// The container image for `driftwatch serve` (Dockerfile). Built and run when a Docker daemon answers on this
// machine; otherwise (as on the CI machine, whose docker client has no daemon) its syntax and what it promises
// are checked, and the test says so.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { validate } from "dockerfile-utils";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../src/toolchain/paths.ts";

const text = readFileSync(join(repoRoot, "Dockerfile"), "utf8");

/** The instructions of the last stage (the image that runs), as [keyword, arguments]. */
function finalStage(dockerfile: string): [string, string][] {
  const lines = dockerfile.replace(/\\\n/g, " ").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const last = lines.map((l) => l.toUpperCase().startsWith("FROM ")).lastIndexOf(true);
  return lines.slice(last).map((l) => {
    const space = l.indexOf(" ");
    return [l.slice(0, space).toUpperCase(), l.slice(space + 1).trim()];
  });
}

const daemon = spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], { encoding: "utf8", timeout: 10_000 });
const canBuild = daemon.status === 0 && daemon.stdout.trim() !== "";

describe("Dockerfile", () => {
  it("is valid Dockerfile syntax", () => {
    expect(validate(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });

  it("runs serve as a non-root user, with the data dir as a volume, gnupg and ssh, and a health check that follows serve's address", () => {
    const stage = finalStage(text);
    const all = (keyword: string) => stage.filter(([k]) => k === keyword).map(([, args]) => args);
    expect(all("USER")).toEqual(["driftwatch"]);
    expect(text).toMatch(/useradd --system --uid 10001 /);
    expect(all("VOLUME")).toEqual(['["/var/lib/driftwatch"]']);
    // The health check asks the address serve takes (flags, DRIFTWATCH_HTTP_*, service.http): no port written twice.
    expect(all("HEALTHCHECK")[0]).toContain('CMD ["driftwatch", "--config", "/etc/driftwatch/driftwatch.yaml", "health"]');
    expect(all("ENTRYPOINT")).toEqual(['["driftwatch"]']);
    expect(all("CMD")).toEqual(['["--config", "/etc/driftwatch/driftwatch.yaml", "serve"]']);
    expect(all("ENV").join(" ")).toContain("DRIFTWATCH_TOOLCHAIN=/opt/driftwatch/tools/toolchain.json");
    expect(all("ENV").join(" ")).toContain("DRIFTWATCH_HTTP_HOST=0.0.0.0");
    // Signed commits are verified with gpg (sources.verify), SSH remotes fetched with ssh.
    expect(all("RUN").join(" ")).toMatch(/apt-get install [^&]*\bgnupg\b/);
    expect(all("RUN").join(" ")).toMatch(/apt-get install [^&]*\bopenssh-client\b/);
  });

  // Skipped (and listed as skipped) where no Docker daemon answers: then only the checks above ran.
  it.runIf(canBuild)("builds, and the installed command runs in the container", () => {
    const built = spawnSync("docker", ["build", "-t", "driftwatch-test", repoRoot], { encoding: "utf8", timeout: 3_600_000 });
    expect(built.status, built.stderr).toBe(0);
    const version = spawnSync("docker", ["run", "--rm", "driftwatch-test", "--version"], { encoding: "utf8" });
    expect(version.stdout).toMatch(/^driftwatch \d+\.\d+\.\d+\nnode 24\./);
    // A read-only root: the starter configuration goes to the volume, and /etc says why in one line.
    const init = spawnSync("docker", ["run", "--rm", "--read-only", "--tmpfs", "/tmp", "driftwatch-test", "--config", "/etc/driftwatch/new.yaml", "init"], { encoding: "utf8" });
    expect(init.stderr).toContain("init: cannot write /etc/driftwatch/new.yaml:");
  }, 3_600_000);
});
