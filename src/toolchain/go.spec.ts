import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BuildError, RegistryError, ToolNotFoundError } from "./errors.ts";
import { goBuild } from "./go.ts";

const dirs: string[] = [];
function module(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "driftwatch-go-"));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("goBuild errors say what is missing and where", () => {
  it("names go when it is not installed", async () => {
    const dir = module({ "go.mod": "module example.test/x\n\ngo 1.22\n", "main.go": "package main\nfunc main() {}\n" });
    const build = goBuild({ tool: "pulumi", moduleDir: dir, pkg: ".", out: join(dir, "x"), env: { PATH: "/nonexistent" } });
    await expect(build).rejects.toBeInstanceOf(ToolNotFoundError);
    await expect(build).rejects.toThrow(/pulumi: 'go' was not found on PATH; Go >= 1\.25 is needed/);
  });

  it("names the Go module proxy when a module cannot be downloaded", async () => {
    const dir = module({
      "go.mod": "module example.test/x\n\ngo 1.22\n\nrequire example.invalid/missing v1.0.0\n",
      "main.go": 'package main\nimport _ "example.invalid/missing"\nfunc main() {}\n',
    });
    const env = { ...process.env, GOPROXY: "off", GOFLAGS: "-mod=mod", GOMODCACHE: join(dir, "modcache") };
    const build = goBuild({ tool: "tofu", moduleDir: dir, pkg: ".", out: join(dir, "x"), env });
    await expect(build).rejects.toBeInstanceOf(RegistryError);
    await expect(build).rejects.toThrow(/tofu: could not get it from the Go module proxy \(GOPROXY=off\)/);
  });

  it("keeps the compiler's output when the build itself fails", async () => {
    const dir = module({ "go.mod": "module example.test/x\n\ngo 1.22\n", "main.go": "package main\nfunc main() { undefinedThing() }\n" });
    const build = goBuild({ tool: "pulumi", moduleDir: dir, pkg: ".", out: join(dir, "x") });
    await expect(build).rejects.toBeInstanceOf(BuildError);
    await expect(build).rejects.toThrow(/undefined: undefinedThing/);
  });
});
