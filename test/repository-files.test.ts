// Files a stack's configuration names in its repository (Terraform var files, a CloudFormation template and
// parameters file) are what a committer makes them: links out of the worktree, /dev/zero, huge files. Each is that
// stack's error, named by stack, key and path, never read, while the other stacks of the same check go on. Real
// git, OpenTofu and SQLite; CloudFormation's API is mocked with aws-sdk-client-mock, as in the other tests.
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CloudFormationClient,
  DescribeStackDriftDetectionStatusCommand,
  DescribeStackResourceDriftsCommand,
  DescribeStacksCommand,
  DetectStackDriftCommand,
  GetTemplateCommand,
} from "@aws-sdk/client-cloudformation";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import type { StackResult } from "../src/core/types.ts";
import { driftwatch } from "./support/cli.ts";
import { commitFiles, git } from "./support/git.ts";
import { tempDir } from "./support/tempdir.ts";
import { localFilesModule } from "./support/terraform-modules.ts";
import { engineTimeout } from "./support/timeouts.ts";

const TEMPLATE = "Resources:\n  Logs: { Type: AWS::S3::Bucket }\n";

/** What must never be read: stands in for ~/.aws/credentials and the like, outside every worktree. */
const OUTSIDE = "OUTSIDE-CREDENTIAL-7f3a";

const cfn = mockClient(CloudFormationClient);
afterAll(() => cfn.restore());
beforeEach(() => {
  cfn.reset();
  cfn.on(DetectStackDriftCommand).resolves({ StackDriftDetectionId: "d1" });
  cfn.on(DescribeStackDriftDetectionStatusCommand).resolves({ DetectionStatus: "DETECTION_COMPLETE", StackDriftStatus: "IN_SYNC" } as never);
  cfn.on(DescribeStackResourceDriftsCommand).resolves({ StackResourceDrifts: [{ LogicalResourceId: "Logs", ResourceType: "AWS::S3::Bucket", StackResourceDriftStatus: "IN_SYNC" } as never] });
  // Every CloudFormation stack here runs Git's template: nothing to review.
  cfn.on(GetTemplateCommand).resolves({ TemplateBody: TEMPLATE });
  cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: "x" } as never] });
});

/** A repository and a driftwatch.yaml around it; `links` are committed as symbolic links (path → target). */
function setup(files: Record<string, string>, links: Record<string, string>, stacks: string[]): { root: string; config: string } {
  const root = tempDir();
  const repo = join(root, "repo");
  mkdirSync(repo, { recursive: true });
  git(repo, "init", "-q", "-b", "main");
  for (const [path, target] of Object.entries(links)) {
    mkdirSync(join(repo, path, ".."), { recursive: true });
    symlinkSync(target, join(repo, path));
  }
  commitFiles(repo, files, "files and links");
  const config = join(root, "driftwatch.yaml");
  writeFileSync(config, [`dataDir: ${join(root, "data")}`, "alerts: { log: false }", "stacks:", ...stacks.map((s) => s.replaceAll("$REPO", repo)), ""].join("\n"));
  return { root, config };
}

const cfnStack = (name: string, settings: string) =>
  [
    `  - name: ${name}`,
    "    engine: cloudformation",
    "    source: { repo: $REPO, path: cfn }",
    "    env: { AWS_ACCESS_KEY_ID: AKIAEXAMPLE, AWS_SECRET_ACCESS_KEY: example-secret-key }",
    `    cloudformation: { stackName: ${name}, region: eu-west-1, ${settings} }`,
  ].join("\n");

const tfStack = (name: string, world: string, varFiles: string[]) =>
  [
    `  - name: ${name}`,
    "    engine: terraform",
    "    source: { repo: $REPO, path: tf }",
    `    terraform: { binary: tofu, vars: { dir: ${world} }, varFiles: [${varFiles.join(", ")}] }`,
  ].join("\n");

const results = (stdout: string) => Object.fromEntries((JSON.parse(stdout) as { results: StackResult[] }).results.map((r) => [r.stack, r]));

describe("files a repository points at", () => {
  it("refuses a var file and a template linked out of the worktree, and an oversized var file; the other stacks are checked", async () => {
    const root = tempDir();
    const outside = join(root, "outside");
    mkdirSync(outside);
    writeFileSync(join(outside, "prod.tfvars"), `dir = "${join(root, OUTSIDE)}"\n`);
    writeFileSync(join(outside, "credentials"), `[default]\nsecret = ${OUTSIDE}\n`);
    const world = join(root, "world");
    const { config } = setup(
      {
        "tf/main.tf": localFilesModule({ a: "alpha\n" }),
        // Inside the worktree, one folder up from the module: allowed, and it is what Terraform reads.
        "shared/common.tfvars": `dir = "${join(world, "from-var-file")}"\n`,
        "tf/big.tfvars": `# ${"x".repeat(1024 * 1024)}\n`,
        "cfn/template.yaml": TEMPLATE,
      },
      { "tf/linked.tfvars": join(outside, "prod.tfvars"), "cfn/creds.yaml": join(outside, "credentials") },
      [
        tfStack("tf-ok", join(world, "tf-ok"), ["../shared/common.tfvars"]),
        tfStack("tf-linked", join(world, "tf-linked"), ["../shared/common.tfvars", "linked.tfvars"]),
        tfStack("tf-big", join(world, "tf-big"), ["big.tfvars"]),
        cfnStack("cfn-ok", "template: template.yaml"),
        cfnStack("cfn-creds", "template: creds.yaml"),
      ],
    );

    const run = await driftwatch(["--config", config, "check", "--json"]);
    const r = results(run.stdout);
    expect(r["tf-ok"]!.verdict, run.stderr).toBe("pending");
    expect(JSON.stringify(r["tf-ok"]!.changes)).toContain(join(world, "from-var-file", "a.txt"));
    expect(r["cfn-ok"]).toMatchObject({ verdict: "in-sync" });
    expect(r["tf-linked"]).toMatchObject({
      verdict: "error",
      error: { kind: "UnsafePathError", message: "stack tf-linked: terraform.varFiles[1] 'linked.tfvars' is a symbolic link to a place outside the repository's worktree; refused" },
    });
    expect(r["tf-big"]).toMatchObject({
      verdict: "error",
      error: { kind: "UnsafePathError", message: "stack tf-big: terraform.varFiles[0] 'big.tfvars' is 1048579 bytes, more than the 1048576 allowed; refused" },
    });
    expect(r["cfn-creds"]).toMatchObject({
      verdict: "error",
      error: { kind: "UnsafePathError", message: "stack cfn-creds: cloudformation.template 'creds.yaml' is a symbolic link to a place outside the repository's worktree; refused" },
    });
    const history = await driftwatch(["--config", config, "history", "--json"]);
    for (const text of [run.stdout, run.stderr, history.stdout, history.stderr]) expect(text).not.toContain(OUTSIDE);
  }, engineTimeout(30));

  it("refuses a template linked to /dev/zero and an oversized one without reading them; the process and the other stacks go on", async () => {
    const { config } = setup(
      { "cfn/template.yaml": TEMPLATE, "cfn/huge.yaml": `${TEMPLATE}# ${"x".repeat(60_000)}\n` },
      { "cfn/zero.yaml": "/dev/zero" },
      [
        cfnStack("zero", "template: zero.yaml"),
        cfnStack("huge", "template: huge.yaml"),
        cfnStack("fine", "template: template.yaml"),
      ],
    );
    // Twice, as a service restarting would: every start runs every stack again.
    for (let round = 0; round < 2; round++) {
      const r = results((await driftwatch(["--config", config, "check", "--json"])).stdout);
      expect(r.fine, JSON.stringify(r.fine)).toMatchObject({ verdict: "in-sync" });
      expect(r.zero).toMatchObject({
        verdict: "error",
        error: { kind: "UnsafePathError", message: "stack zero: cloudformation.template 'zero.yaml' is a symbolic link to a place outside the repository's worktree; refused" },
      });
      expect(r.huge).toMatchObject({ verdict: "error", error: { kind: "UnsafePathError" } });
      expect(r.huge!.error!.message).toMatch(/^stack huge: cloudformation\.template 'huge\.yaml' is \d+ bytes, more than the 51200 allowed \(CloudFormation takes a template of at most that size inline; larger ones need S3/);
    }
  }, engineTimeout(10));
});
