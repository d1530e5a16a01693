// A CloudFormation stack in driftwatch.yaml next to a Terraform one: the same check, table, JSON, exit code,
// history and remediation policy. CloudFormation's API is mocked with aws-sdk-client-mock (no offline emulator
// implements drift detection); everything else is real (git, OpenTofu, SQLite, the CLI).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStackDriftDetectionStatusCommand,
  DescribeStackResourceDriftsCommand,
  DetectStackDriftCommand,
} from "@aws-sdk/client-cloudformation";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, describe, expect, it } from "vitest";
import type { StackResult } from "../src/core/types.ts";
import type { AuditEntry, RunSummary } from "../src/store/api.ts";
import { driftwatch } from "./support/cli.ts";
import { commitFiles, git } from "./support/git.ts";
import { tempDir } from "./support/tempdir.ts";
import { localFilesModule } from "./support/terraform-modules.ts";
import { engineTimeout } from "./support/timeouts.ts";

const TEMPLATE = `Parameters:
  Secret: { Type: String, NoEcho: true }
Resources:
  Motd:
    Type: AWS::SSM::Parameter
    Properties: { Type: String, Value: !Ref Secret }
  Logs:
    Type: AWS::S3::Bucket
    Properties:
      Tags: [{ Key: env, Value: prod }]
`;

const cfn = mockClient(CloudFormationClient);
afterAll(() => cfn.restore());

describe("a CloudFormation stack next to a Terraform one", () => {
  it("gets the same verdicts, table, JSON, exit code, history and remediation policy", async () => {
    const root = tempDir();
    const repo = join(root, "repo");
    mkdirSync(repo, { recursive: true });
    git(repo, "init", "-q", "-b", "main");
    commitFiles(repo, { "cfn/template.yaml": TEMPLATE, "tf/main.tf": localFilesModule({ a: "alpha\n" }) }, "both");
    const config = join(root, "driftwatch.yaml");
    writeFileSync(
      config,
      [
        `dataDir: ${join(root, "data")}`,
        "alerts: { log: false }",
        "stacks:",
        "  - name: files",
        "    engine: terraform",
        `    source: { repo: ${repo}, path: tf }`,
        `    terraform: { binary: tofu, vars: { dir: ${join(root, "world")} } }`,
        `    sandbox: { readWrite: [${join(root, "world")}] }`,
        "  - name: web",
        "    engine: cloudformation",
        `    source: { repo: ${repo}, path: cfn }`,
        "    env: { AWS_ACCESS_KEY_ID: AKIAEXAMPLE, AWS_SECRET_ACCESS_KEY: example-secret-key }",
        '    cloudformation: { stackName: web-prod, region: eu-west-1, template: template.yaml, parameters: { Secret: "sup3r-s3cret" } }',
        "    remediation: { mode: approve }",
        "",
      ].join("\n"),
    );
    expect((await driftwatch(["--config", config, "converge", "files"])).code).toBe(0);

    cfn.on(DetectStackDriftCommand).resolves({ StackDriftDetectionId: "d1" });
    cfn.on(DescribeStackDriftDetectionStatusCommand).resolves({ DetectionStatus: "DETECTION_COMPLETE" } as never);
    cfn.on(DescribeStackResourceDriftsCommand).resolves({
      StackResourceDrifts: [
        {
          LogicalResourceId: "Motd",
          ResourceType: "AWS::SSM::Parameter",
          StackResourceDriftStatus: "MODIFIED",
          PropertyDifferences: [{ PropertyPath: "/Properties/Value", ExpectedValue: "sup3r-s3cret", ActualValue: "typed in the console", DifferenceType: "NOT_EQUAL" }],
        } as never,
        {
          LogicalResourceId: "Logs",
          ResourceType: "AWS::S3::Bucket",
          StackResourceDriftStatus: "MODIFIED",
          PropertyDifferences: [{ PropertyPath: "/Properties/Tags/0/Value", ExpectedValue: "prod", ActualValue: "test", DifferenceType: "NOT_EQUAL" }],
        } as never,
      ],
    });
    cfn.on(CreateChangeSetCommand).resolves({ Id: "cs" });
    cfn.on(DeleteChangeSetCommand).resolves({});
    // The review change set finds nothing pending; the drift-aware one is the plan to approve.
    const plan = [
      {
        Type: "Resource" as const,
        ResourceChange: {
          Action: "Modify" as const,
          LogicalResourceId: "Logs",
          ResourceType: "AWS::S3::Bucket",
          Replacement: "False" as const,
          Details: [{ Target: { Attribute: "Properties" as const, Name: "Tags", Path: "/Properties/Tags/0/Value", BeforeValue: "test", AfterValue: "prod" } }],
        },
      },
    ];
    cfn.on(DescribeChangeSetCommand).callsFake((input: { ChangeSetName: string; IncludePropertyValues?: boolean }) => {
      if (input.ChangeSetName.includes("-review-")) return { Status: "FAILED", StatusReason: "The submitted information didn't contain changes." };
      return input.IncludePropertyValues ? { Changes: plan } : { Status: "CREATE_COMPLETE", DeploymentMode: "REVERT_DRIFT" };
    });

    const run = await driftwatch(["--config", config, "check", "--json"]);
    expect(run.code, run.stderr).toBe(2);
    const byStack = Object.fromEntries((JSON.parse(run.stdout) as { results: StackResult[] }).results.map((r) => [r.stack, r]));
    expect(byStack.files).toMatchObject({ engine: "terraform", verdict: "in-sync" });
    expect(byStack.web).toMatchObject({
      engine: "cloudformation",
      verdict: "drifted",
      changes: [
        { kind: "drift", address: "Motd", action: "update", properties: [{ path: "Value", desired: "[secret]", actual: "[secret]" }] },
        { kind: "drift", address: "Logs", action: "update", properties: [{ path: "Tags[0].Value", desired: "prod", actual: "test" }] },
      ],
      remediation: { decision: "approval-requested" },
    });
    expect(`${run.stdout}${run.stderr}`).not.toContain("sup3r-s3cret");

    const table = await driftwatch(["--config", config, "check"]);
    expect(table.stdout).toMatch(/^web +drifted +2 +0 /m);
    expect(table.stdout).toContain("web: remediation approval-requested: approval");

    const history = JSON.parse((await driftwatch(["--config", config, "history", "web", "--json"])).stdout) as { runs: RunSummary[] };
    expect(history.runs.map((r) => [r.engine, r.verdict, r.driftCount])).toEqual([
      ["cloudformation", "drifted", 2],
      ["cloudformation", "drifted", 2],
    ]);
    const audit = JSON.parse((await driftwatch(["--config", config, "audit", "web", "--json"])).stdout) as { entries: AuditEntry[] };
    expect(audit.entries[0]).toMatchObject({ decision: "approval-requested", planChanges: 1, mode: "approve" });
    const db = JSON.stringify(history) + JSON.stringify(audit);
    expect(db).not.toContain("sup3r-s3cret");
  }, engineTimeout(3));
});
