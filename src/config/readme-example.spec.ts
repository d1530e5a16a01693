import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../toolchain/paths.ts";
import { parseConfig } from "./load.ts";

describe("the README's ten lines of configuration", () => {
  it("load as they are, a Terraform stack with Slack alerts", () => {
    const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
    const example = /## Ten lines of configuration\n\n```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    expect(example!.trim().split("\n").length).toBeLessThanOrEqual(10);
    const config = parseConfig(example!, "/srv/watch/driftwatch.yaml", { env: { SLACK_BOT_TOKEN: "xoxb-test" } });
    expect(config.stacks.map((s) => [s.name, s.engine])).toEqual([["network", "terraform"]]);
    expect(config.alerts.slack?.channel).toBe("#drift");
  });
});
