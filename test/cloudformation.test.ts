// The CloudFormation engine's client against a real HTTP API: moto's server (no offline emulator implements
// drift detection; engine.spec.ts covers those sequences with aws-sdk-client-mock). Here the endpoint, region,
// credentials-from-the-stack's-environment and the deployed-template comparison meet real requests.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateStackCommand } from "@aws-sdk/client-cloudformation";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CloudFormationSettings, CloudFormationStackConfig } from "../src/config/types.ts";
import { worktreeFolder } from "../src/core/worktree-file.ts";
import { cloudFormationClient } from "../src/engines/cloudformation/client.ts";
import { deployedMatchesGit } from "../src/engines/cloudformation/deployed.ts";
import { createCloudFormationEngine } from "../src/engines/cloudformation/index.ts";
import { loadTemplate } from "../src/engines/cloudformation/template.ts";
import { startMoto, type MotoServer } from "./support/moto.ts";
import { defaultSandbox, sandboxFor } from "./support/sandbox.ts";
import { testToolchain } from "./support/toolchain.ts";

const TEMPLATE = `AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Env: { Type: String }
  Retention: { Type: Number, Default: 7 }
Resources:
  Logs:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "driftwatch-logs-\${Env}"
      Tags: [{ Key: retention, Value: !Ref Retention }]
`;

const env = { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing" };

describe("CloudFormation against moto's server", () => {
  let moto: MotoServer;
  let dir: string;
  let settings: CloudFormationSettings;
  beforeAll(async () => {
    const { manifest } = testToolchain();
    if (!manifest.moto) throw new Error("toolchain was provisioned without moto");
    moto = await startMoto(manifest.moto.python);
    dir = mkdtempSync(join(tmpdir(), "driftwatch-cfn-"));
    writeFileSync(join(dir, "template.yaml"), TEMPLATE);
    settings = { stackName: "driftwatch-moto", region: "eu-west-1", template: "template.yaml", parameters: { Env: "prod" }, capabilities: [], endpoint: moto.endpoint };
    const client = cloudFormationClient(settings, env);
    await client.send(new CreateStackCommand({ StackName: settings.stackName, TemplateBody: TEMPLATE, Parameters: [{ ParameterKey: "Env", ParameterValue: "prod" }] }));
    client.destroy();
  });
  afterAll(async () => {
    await moto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const matches = async (overrides: Partial<CloudFormationSettings> = {}) => {
    const client = cloudFormationClient({ ...settings, ...overrides }, env);
    try {
      return await deployedMatchesGit(client, settings.stackName, await loadTemplate({ ...settings, ...overrides }, worktreeFolder(dir, "."), "moto"), AbortSignal.timeout(30_000));
    } finally {
      client.destroy();
    }
  };

  it("knows when the deployed template and parameters (defaults included) are Git's, and when not", async () => {
    expect(await matches()).toBe(true);
    expect(await matches({ parameters: { Env: "staging" } })).toBe(false);
    expect(await matches({ parameters: { Env: "prod", Retention: "7" } })).toBe(true); // the default, spelled out
    writeFileSync(join(dir, "changed.yaml"), TEMPLATE.replace("Default: 7", "Default: 30"));
    expect(await matches({ template: "changed.yaml" })).toBe(false);
  });

  it("configures the client from the stack's settings and environment: region, endpoint, credentials", async () => {
    const client = cloudFormationClient(settings, { AWS_ACCESS_KEY_ID: "AKIASTACKENV", AWS_SECRET_ACCESS_KEY: "from-the-stack", AWS_SESSION_TOKEN: "session" });
    expect(await client.config.region()).toBe("eu-west-1");
    expect(await client.config.credentials()).toMatchObject({ accessKeyId: "AKIASTACKENV", secretAccessKey: "from-the-stack", sessionToken: "session" });
    expect(client.config.endpoint ? `${(await client.config.endpoint()).hostname}:${(await client.config.endpoint()).port}` : undefined).toBe(new URL(moto.endpoint).host);
    client.destroy();
  });

  it("reports a check moto cannot serve (drift detection) as an error naming the stack", async () => {
    const engine = createCloudFormationEngine({} as never, { poll: { initialMs: 10, maxMs: 50 } });
    const stack = {
      name: "moto",
      engine: "cloudformation",
      source: { repo: "/r", ref: "main", path: "." },
      env,
      timeoutSeconds: 30,
      cloudformation: settings,
    } as unknown as CloudFormationStackConfig;
    const sandbox = sandboxFor({ ...stack, sandbox: defaultSandbox() }, dir, join(dir, ".data"));
    const error = await engine.detect({ stack, dir, logger: pino({ level: "silent" }), signal: AbortSignal.timeout(30_000), env, sandbox, state: { read: async () => undefined, write: async () => {} } }).catch((e: unknown) => e);
    expect((error as Error).name).toBe("EngineError");
    expect((error as Error).message).toMatch(/^CloudFormation failed for stack moto \(driftwatch-moto, eu-west-1\): /);
  });
});
