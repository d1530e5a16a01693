import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../toolchain/paths.ts";
import { MINIMUM_NODE, nodeVersionRefusal } from "./node-version.ts";

describe("the Node.js version check", () => {
  it("is package.json's engines.node", () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(`>=${MINIMUM_NODE.join(".")}`);
  });

  it("refuses older versions in one line naming both, and lets the rest through", () => {
    for (const old of ["20.20.2", "22.18.9", "22.0.0", "18.19.1"]) {
      const refusal = nodeVersionRefusal(old);
      expect(refusal).toContain(`this is Node.js ${old}`);
      expect(refusal).toContain("needs Node.js 22.19.0 or later");
      expect(refusal).not.toContain("\n");
    }
    for (const recent of ["22.19.0", "22.21.1", "23.0.0", "24.21.0", "25.1.0"]) expect(nodeVersionRefusal(recent)).toBeUndefined();
  });
});
