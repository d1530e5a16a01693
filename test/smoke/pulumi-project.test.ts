// The repository's own Pulumi.yaml (Driftwatch deploying itself on one host) stays previewable.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { copyProgram, localStack } from "../support/pulumi.ts";
import { tempDir } from "../support/tempdir.ts";

describe("the repository's Pulumi project", () => {
  it("previews Driftwatch's own deployment", async () => {
    const root = tempDir();
    copyProgram(root, ["Pulumi.yaml", "deploy", "stacks/demo-files"]);
    const { stack } = await localStack(root, "preview", root);
    await stack.setConfig("installDir", { value: join(root, "install") });
    const preview = await stack.preview();
    expect(preview.changeSummary).toEqual({ create: 3 });
  });
});
