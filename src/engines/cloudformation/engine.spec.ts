// The CloudFormation engine against the drift-detection and change-set API sequences, mocked with
// aws-sdk-client-mock (no offline emulator implements DetectStackDrift): verdict inputs, pagination, masking,
// throttling, failures, and the drift-aware (REVERT_DRIFT) remediation flow.
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CloudFormationClient,
  CloudFormationServiceException,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStackDriftDetectionStatusCommand,
  DescribeStackResourceDriftsCommand,
  DescribeStacksCommand,
  DetectStackDriftCommand,
  ExecuteChangeSetCommand,
} from "@aws-sdk/client-cloudformation";
import { mockClient } from "aws-sdk-client-mock";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sandboxFor } from "../../../test/support/sandbox.ts";
import { tempDir } from "../../../test/support/tempdir.ts";
import type { CloudFormationStackConfig } from "../../config/types.ts";
import { EngineError, RemediationUnavailableError, StackLockedError } from "../../core/errors.ts";
import { UnsafePathError } from "../../core/worktree-file.ts";
import type { EngineContext, RemediationPlan } from "../api.ts";
import { createCloudFormationEngine } from "./index.ts";

const TEMPLATE = `AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  DbPassword: { Type: String, NoEcho: true }
  Env: { Type: String }
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      Tags: [{ Key: env, Value: !Ref Env }]
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      MasterUserPassword: !Ref DbPassword
      DBName: !Sub "app-\${Env}"
  Api:
    Type: AWS::Lambda::Function
    Properties:
      Environment:
        Variables:
          TOKEN: "{{resolve:secretsmanager:api-token}}"
          REGION_KEY: "{{resolve:ssm:/app/region-key}}"
          MODE: fast
`;

const cfn = mockClient(CloudFormationClient);
const engine = createCloudFormationEngine({} as never, { poll: { initialMs: 1, maxMs: 2 } });

function context(dir: string, overrides: Partial<CloudFormationStackConfig["cloudformation"]> = {}): EngineContext {
  const stack: CloudFormationStackConfig = {
    name: "web",
    engine: "cloudformation",
    source: { repo: "/r", ref: "main", path: "." },
    env: {},
    timeoutSeconds: 60,
    alerts: { pending: false, mute: false },
    schedule: { expression: "*/15 * * * *", timezone: "UTC" },
    remediation: { mode: "off" } as never,
    approvers: [],
    actions: { restrict: false },
    ignore: [],
    flapping: { threshold: 3, windowMs: 86_400_000 },
    sandbox: { level: "strict", readOnly: [], readWrite: [], connectPorts: [], memoryBytes: 4096 * 1024 * 1024, cpuSeconds: 600 },
    cloudformation: { stackName: "web-prod", region: "eu-west-1", template: "template.yaml", parameters: { DbPassword: "hunter2-secret", Env: "prod" }, capabilities: [], ...overrides },
  };
  // CloudFormation starts no process: its sandbox is there because every engine gets one, never used.
  const sandbox = sandboxFor(stack, dir, join(dir, ".data"));
  return { stack, dir, logger: pino({ level: "silent" }), signal: AbortSignal.timeout(30_000), env: { AWS_ACCESS_KEY_ID: "AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY: "example-secret" }, sandbox, state: { read: async () => undefined, write: async () => {} } };
}

function awsError(name: string, message: string, extra: Record<string, unknown> = {}): CloudFormationServiceException {
  return Object.assign(new CloudFormationServiceException({ name, $fault: "client", $metadata: {}, message }), extra);
}

/** Drift detection that finished, and no change to review. */
function quietAccount() {
  cfn.on(DetectStackDriftCommand).resolves({ StackDriftDetectionId: "det-1" });
  cfn.on(DescribeStackDriftDetectionStatusCommand).resolves({ DetectionStatus: "DETECTION_COMPLETE", StackDriftStatus: "IN_SYNC" } as never);
  cfn.on(DescribeStackResourceDriftsCommand).resolves({ StackResourceDrifts: [{ LogicalResourceId: "Bucket", ResourceType: "AWS::S3::Bucket", StackResourceDriftStatus: "IN_SYNC" } as never] });
  cfn.on(CreateChangeSetCommand).resolves({ Id: "cs" });
  cfn.on(DescribeChangeSetCommand).resolves({ Status: "FAILED", StatusReason: "The submitted information didn't contain changes. Submit different information to create a change set." });
  cfn.on(DeleteChangeSetCommand).resolves({});
}

let dir: string;
beforeEach(() => {
  cfn.reset();
  dir = tempDir();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "template.yaml"), TEMPLATE);
});
afterEach(() => cfn.reset());

describe("cloudformation detect", () => {
  it("finds a stack in sync: no drift, nothing pending, the review change set deleted", async () => {
    quietAccount();
    expect(await engine.detect(context(dir))).toEqual({ drift: [], pending: [] });
    expect(cfn.commandCalls(DetectStackDriftCommand, { StackName: "web-prod" })).toHaveLength(1);
    const created = cfn.commandCalls(CreateChangeSetCommand)[0]!.args[0].input;
    expect(created).toMatchObject({ StackName: "web-prod", ChangeSetType: "UPDATE", TemplateBody: TEMPLATE, Parameters: [{ ParameterKey: "DbPassword", ParameterValue: "hunter2-secret" }, { ParameterKey: "Env", ParameterValue: "prod" }] });
    expect(created.DeploymentMode).toBeUndefined();
    expect(cfn.commandCalls(DeleteChangeSetCommand, { ChangeSetName: created.ChangeSetName })).toHaveLength(1);
  });

  it("reports modified and deleted resources as drift, across pages; not-checked ones as unchecked; secrets masked", async () => {
    quietAccount();
    cfn.on(DescribeStackResourceDriftsCommand)
      .resolvesOnce({
        StackResourceDrifts: [
          {
            LogicalResourceId: "Bucket",
            ResourceType: "AWS::S3::Bucket",
            StackResourceDriftStatus: "MODIFIED",
            PropertyDifferences: [
              { PropertyPath: "/Properties/Tags/0/Value", ExpectedValue: "prod", ActualValue: "staging", DifferenceType: "NOT_EQUAL" },
              { PropertyPath: "/Properties/VersioningConfiguration", ExpectedValue: undefined, ActualValue: '{"Status":"Enabled"}', DifferenceType: "ADD" },
            ],
          } as never,
          { LogicalResourceId: "Custom", ResourceType: "Custom::Thing", StackResourceDriftStatus: "NOT_CHECKED" } as never,
        ],
        NextToken: "page-2",
      })
      .resolvesOnce({
        StackResourceDrifts: [
          { LogicalResourceId: "Queue", ResourceType: "AWS::SQS::Queue", StackResourceDriftStatus: "DELETED" } as never,
          {
            LogicalResourceId: "Db",
            ResourceType: "AWS::RDS::DBInstance",
            StackResourceDriftStatus: "MODIFIED",
            PropertyDifferences: [
              { PropertyPath: "/Properties/MasterUserPassword", ExpectedValue: "hunter2-secret", ActualValue: "changed-by-hand", DifferenceType: "NOT_EQUAL" },
              { PropertyPath: "/Properties/DBName", ExpectedValue: "app-prod", ActualValue: "app-hunter2-secret", DifferenceType: "NOT_EQUAL" },
            ],
          } as never,
          {
            LogicalResourceId: "Api",
            ResourceType: "AWS::Lambda::Function",
            StackResourceDriftStatus: "MODIFIED",
            PropertyDifferences: [
              { PropertyPath: "/Properties/Environment/Variables/TOKEN", ExpectedValue: "tok-123", ActualValue: "tok-456", DifferenceType: "NOT_EQUAL" },
              { PropertyPath: "/Properties/Environment/Variables/REGION_KEY", ExpectedValue: "rk-1", ActualValue: "rk-2", DifferenceType: "NOT_EQUAL" },
              { PropertyPath: "/Properties/Environment/Variables/MODE", ExpectedValue: "fast", ActualValue: "slow", DifferenceType: "NOT_EQUAL" },
            ],
          } as never,
        ],
      });
    const found = await engine.detect(context(dir));
    expect(found.drift).toEqual([
      {
        kind: "drift",
        address: "Bucket",
        type: "AWS::S3::Bucket",
        action: "update",
        properties: [
          { path: "Tags[0].Value", desired: "prod", actual: "staging" },
          { path: "VersioningConfiguration", desired: null, actual: { Status: "Enabled" } },
        ],
      },
      { kind: "drift", address: "Queue", type: "AWS::SQS::Queue", action: "delete", properties: [] },
      {
        kind: "drift",
        address: "Db",
        type: "AWS::RDS::DBInstance",
        action: "update",
        properties: [
          { path: "MasterUserPassword", desired: "[secret]", actual: "[secret]" },
          { path: "DBName", desired: "app-prod", actual: "app-[secret]" },
        ],
      },
      {
        kind: "drift",
        address: "Api",
        type: "AWS::Lambda::Function",
        action: "update",
        properties: [
          { path: "Environment.Variables.TOKEN", desired: "[secret]", actual: "[secret]" },
          { path: "Environment.Variables.REGION_KEY", desired: "[secret]", actual: "[secret]" },
          { path: "Environment.Variables.MODE", desired: "fast", actual: "slow" },
        ],
      },
    ]);
    expect(found.unchecked).toEqual([{ address: "Custom", type: "Custom::Thing" }]);
    expect(JSON.stringify(found)).not.toContain("hunter2");
    expect(cfn.commandCalls(DescribeStackResourceDriftsCommand)).toHaveLength(2); // the paginator follows NextToken
  });

  it("lists Git's pending changes from a review change set: create, replace (with the reason), delete", async () => {
    quietAccount();
    cfn.on(DescribeChangeSetCommand)
      .resolvesOnce({ Status: "CREATE_IN_PROGRESS" })
      .resolvesOnce({ Status: "CREATE_COMPLETE" })
      .resolvesOnce({
        Changes: [
          { Type: "Resource", ResourceChange: { Action: "Add", LogicalResourceId: "Topic", ResourceType: "AWS::SNS::Topic", Details: [] } },
          {
            Type: "Resource",
            ResourceChange: {
              Action: "Modify",
              LogicalResourceId: "Bucket",
              ResourceType: "AWS::S3::Bucket",
              Replacement: "True",
              Details: [{ Target: { Attribute: "Properties", Name: "BucketName", Path: "/Properties/BucketName", RequiresRecreation: "Always", BeforeValue: "old", AfterValue: "new" } }],
            },
          },
        ],
        NextToken: "more",
      })
      .resolvesOnce({ Changes: [{ Type: "Resource", ResourceChange: { Action: "Remove", LogicalResourceId: "Queue", ResourceType: "AWS::SQS::Queue" } }] });
    const found = await engine.detect(context(dir));
    expect(found.pending).toEqual([
      { kind: "pending", address: "Topic", type: "AWS::SNS::Topic", action: "create", properties: [] },
      { kind: "pending", address: "Bucket", type: "AWS::S3::Bucket", action: "replace", properties: [{ path: "BucketName", desired: "new", actual: "old" }], replacePaths: ["BucketName"] },
      { kind: "pending", address: "Queue", type: "AWS::SQS::Queue", action: "delete", properties: [] },
    ]);
    expect(cfn.commandCalls(DescribeChangeSetCommand, { IncludePropertyValues: true }).map((c) => c.args[0].input.NextToken)).toEqual([undefined, "more"]);
    expect(cfn.commandCalls(DeleteChangeSetCommand)).toHaveLength(1);
  });

  it("fails clearly when drift detection fails", async () => {
    quietAccount();
    cfn.on(DescribeStackDriftDetectionStatusCommand).resolves({ DetectionStatus: "DETECTION_FAILED", DetectionStatusReason: "Failed to detect drift on resource [Db]: access denied" } as never);
    const error = await engine.detect(context(dir)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect((error as Error).message).toBe("drift detection of CloudFormation stack web-prod failed: Failed to detect drift on resource [Db]: access denied");
    // The review change set made meanwhile is not left behind.
    expect(cfn.commandCalls(DeleteChangeSetCommand)).toHaveLength(1);
  });

  it("waits out throttling beyond the SDK's retries, then succeeds", async () => {
    quietAccount();
    const throttled = () => awsError("Throttling", "Rate exceeded", { $retryable: { throttling: true } });
    cfn.on(DetectStackDriftCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).resolves({ StackDriftDetectionId: "det-2" });
    cfn.on(DescribeStackDriftDetectionStatusCommand)
      .rejectsOnce(throttled())
      .resolvesOnce({ DetectionStatus: "DETECTION_IN_PROGRESS" } as never)
      .resolves({ DetectionStatus: "DETECTION_COMPLETE" } as never);
    expect(await engine.detect(context(dir))).toEqual({ drift: [], pending: [] });
    expect(cfn.commandCalls(DetectStackDriftCommand)).toHaveLength(3);
    expect(cfn.commandCalls(DescribeStackDriftDetectionStatusCommand, { StackDriftDetectionId: "det-2" })).toHaveLength(3);
  });

  it("names a missing stack, a busy stack and a broken template", async () => {
    quietAccount();
    cfn.on(DetectStackDriftCommand).rejects(awsError("ValidationError", "Stack with id web-prod does not exist"));
    const missing = await engine.detect(context(dir)).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(EngineError);
    expect((missing as Error).message).toMatch(/^CloudFormation stack web-prod does not exist in eu-west-1/);

    cfn.on(DetectStackDriftCommand).rejects(awsError("ValidationError", "Drift detection cannot be performed on stack web-prod in UPDATE_IN_PROGRESS state"));
    expect(await engine.detect(context(dir)).catch((e: unknown) => e)).toBeInstanceOf(StackLockedError);

    writeFileSync(join(dir, "template.yaml"), "Resources: [unclosed");
    const broken = await engine.detect(context(dir)).catch((e: unknown) => e);
    expect((broken as Error).name).toBe("ProgramError");
    expect((broken as Error).message).toMatch(/^template template.yaml is not valid YAML or JSON/);

    writeFileSync(join(dir, "template.yaml"), TEMPLATE);
    const unknown = await engine.detect(context(dir, { parameters: { Nope: "x" } })).catch((e: unknown) => e);
    expect((unknown as Error).message).toBe("template template.yaml declares no parameter Nope (it declares: DbPassword, Env)");
  });

  it("refuses a parameters file linked out of the project's worktree, and a template linked to /dev/zero, before any AWS call", async () => {
    const outside = join(tempDir(), "credentials");
    writeFileSync(outside, '{"DbPassword": "from-outside-the-worktree"}');
    symlinkSync(outside, join(dir, "params.json"));
    symlinkSync("/dev/zero", join(dir, "zero.yaml"));
    const linked = await engine.detect(context(dir, { parameters: undefined, parametersFile: "params.json" })).catch((e: unknown) => e);
    expect(linked).toBeInstanceOf(UnsafePathError);
    expect((linked as Error).message).toBe("stack web: cloudformation.parametersFile 'params.json' is a symbolic link to a place outside the repository's worktree; refused");
    const zero = await engine.detect(context(dir, { template: "zero.yaml" })).catch((e: unknown) => e);
    expect((zero as Error).message).toBe("stack web: cloudformation.template 'zero.yaml' is a symbolic link to a place outside the repository's worktree; refused");
    expect(cfn.calls()).toHaveLength(0);
  });
});

describe("cloudformation remediation", () => {
  const revertPlan = () => {
    cfn.on(DescribeChangeSetCommand)
      .resolvesOnce({ Status: "CREATE_COMPLETE", DeploymentMode: "REVERT_DRIFT" } as never)
      .resolvesOnce({
        Changes: [
          {
            Type: "Resource",
            ResourceChange: {
              Action: "Modify",
              LogicalResourceId: "Bucket",
              ResourceType: "AWS::S3::Bucket",
              Replacement: "False",
              Details: [{ Target: { Attribute: "Properties", Name: "Tags", Path: "/Properties/Tags/0/Value", BeforeValue: "staging", AfterValue: "prod", BeforeValueFrom: "ACTUAL_STATE" } }],
            },
          },
        ],
      });
  };

  it("plans with a drift-aware change set, executes exactly that one when decided, and waits for the update", async () => {
    quietAccount();
    revertPlan();
    cfn.on(ExecuteChangeSetCommand).resolves({});
    cfn.on(DescribeStacksCommand).resolvesOnce({ Stacks: [{ StackName: "web-prod", StackStatus: "UPDATE_IN_PROGRESS" } as never] }).resolves({ Stacks: [{ StackName: "web-prod", StackStatus: "UPDATE_COMPLETE" } as never] });
    const seen: RemediationPlan[] = [];
    const outcome = await engine.remediate(context(dir), async (plan) => {
      seen.push(plan);
      return true;
    });
    expect(outcome.applied).toBe(true);
    expect(seen[0]!.changes).toEqual([{ kind: "pending", address: "Bucket", type: "AWS::S3::Bucket", action: "update", properties: [{ path: "Tags[0].Value", desired: "prod", actual: "staging" }] }]);
    expect(seen[0]!.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    const created = cfn.commandCalls(CreateChangeSetCommand)[0]!.args[0].input;
    expect(created.DeploymentMode).toBe("REVERT_DRIFT");
    expect(cfn.commandCalls(ExecuteChangeSetCommand, { ChangeSetName: created.ChangeSetName, StackName: "web-prod" })).toHaveLength(1);
    expect(cfn.commandCalls(DescribeStacksCommand)).toHaveLength(2);
    expect(cfn.commandCalls(DeleteChangeSetCommand)).toHaveLength(0);
  });

  it("deletes the plan it was told not to apply, and reports a failed update", async () => {
    quietAccount();
    revertPlan();
    expect((await engine.remediate(context(dir), async () => false)).applied).toBe(false);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
    expect(cfn.commandCalls(DeleteChangeSetCommand)).toHaveLength(1);

    cfn.reset();
    quietAccount();
    revertPlan();
    cfn.on(ExecuteChangeSetCommand).resolves({});
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: "web-prod", StackStatus: "UPDATE_ROLLBACK_COMPLETE", StackStatusReason: "Resource Bucket failed" } as never] });
    const failed = await engine.remediate(context(dir), async () => true).catch((e: unknown) => e);
    expect((failed as Error).message).toBe("stack web-prod did not update: UPDATE_ROLLBACK_COMPLETE (Resource Bucket failed)");
  });

  it("says clearly when CloudFormation cannot revert the drift", async () => {
    quietAccount();
    cfn.on(CreateChangeSetCommand).rejects(awsError("ValidationError", "Drift-aware change sets do not support resource type Custom::Thing"));
    const refused = await engine.remediate(context(dir), async () => true).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RemediationUnavailableError);
    expect((refused as Error).message).toBe("CloudFormation cannot revert the drift of stack web-prod: Drift-aware change sets do not support resource type Custom::Thing");

    cfn.on(CreateChangeSetCommand).resolves({ Id: "cs" });
    cfn.on(DescribeChangeSetCommand).resolves({ Status: "FAILED", StatusReason: "Resource type AWS::Foo::Bar does not support drift-aware change sets" });
    const failed = await engine.remediate(context(dir), async () => true).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(RemediationUnavailableError);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
  });

  it("converges with a plain update of Git's template when a drift-aware change set is impossible", async () => {
    quietAccount();
    cfn.on(CreateChangeSetCommand, { DeploymentMode: "REVERT_DRIFT" }).rejects(awsError("ValidationError", "Drift-aware change sets do not support resource type Custom::Thing"));
    cfn.on(DescribeChangeSetCommand).resolvesOnce({ Status: "CREATE_COMPLETE" }).resolvesOnce({ Changes: [{ Type: "Resource", ResourceChange: { Action: "Add", LogicalResourceId: "Topic", ResourceType: "AWS::SNS::Topic" } }] });
    cfn.on(ExecuteChangeSetCommand).resolves({});
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: "web-prod", StackStatus: "UPDATE_COMPLETE" } as never] });
    await engine.converge(context(dir));
    const [revert, plain] = cfn.commandCalls(CreateChangeSetCommand).map((c) => c.args[0].input);
    expect(revert!.DeploymentMode).toBe("REVERT_DRIFT");
    expect(plain!.DeploymentMode).toBeUndefined();
    expect(cfn.commandCalls(ExecuteChangeSetCommand, { ChangeSetName: plain!.ChangeSetName })).toHaveLength(1);
  });

  it("applies nothing when there is no drift to revert", async () => {
    quietAccount();
    const outcome = await engine.remediate(context(dir), async () => true);
    expect(outcome).toMatchObject({ applied: false, plan: { changes: [] } });
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
  });
});
