// A committer to one watched repository must not reach the service's tokens or another stack's credentials:
// a Terraform and a Pulumi stack whose code reads its own process environment (file("/proc/self/environ"),
// JSON.stringify(process.env)) and puts it in a pending diff. Real CLIs, real git, the Slack stand-in.
import { mkdtempSync, readdirSync, rmSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultPulumiBackend } from "../src/config/load.ts";
import type { StackResult } from "../src/core/types.ts";
import { driftwatch } from "./support/cli.ts";
import { commitFiles, createProgramRepo } from "./support/git.ts";
import { SlackServer } from "./support/slack-server.ts";
import { sharedCacheDir } from "./support/tempdir.ts";
import { engineTimeout } from "./support/timeouts.ts";

/** What the service holds and no stack may see. */
const SERVICE_SECRETS = {
  DRIFTWATCH_API_TOKEN: "api-token-5f1c9e0d7b",
  SLACK_BOT_TOKEN: "xoxb-isolation-test-0123456789",
  DRIFTWATCH_GIT_TOKEN: "git-token-a8d2c4e6f0",
  DRIFTWATCH_WEBHOOK_SECRET: "webhook-secret-9b7d5f3a1c",
  OTHER_STACK_SECRET: "other-stack-credential-77e1",
};
/** Not a secret, but nothing a stack was given: must not reach an engine either. */
const SERVICE_SETTING = "SERVICE_ONLY_SETTING";
/** The probing stacks' own credentials, from the environment: seen by their engines, masked in every output. */
const PEM = ["-----BEGIN RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEAisolationtestkeymaterial0123456789abcdef", "-----END RSA PRIVATE KEY-----"].join("\n");
const JSON_CREDENTIAL = '{"type":"service_account","private_key":"line1\\nline2","note":"quote \\" and backslash \\\\"}';
const OWN_SECRETS = { PROBE_PEM: PEM, PROBE_JSON: JSON_CREDENTIAL, PROBE_PASSPHRASE: "probe-passphrase-31e7" };
const OWN_MARKER = "own-visible-marker";

const TF_PROBE = `resource "terraform_data" "environ" {
  input = file("/proc/self/environ")
}
`;

const PULUMI_PROBE = [
  'import * as path from "node:path";',
  'import { LocalFile } from "./localFile";',
  "const dir = process.env.DEMO_FILES_DIR!;",
  'export const environ = new LocalFile("environ", { path: path.join(dir, "environ.json"), content: JSON.stringify(process.env) }).path;',
  "",
].join("\n");

describe("engine isolation", () => {
  const root = mkdtempSync(join(tmpdir(), "driftwatch-isolation-"));
  const repo = join(root, "repo");
  const dataDir = join(root, "data");
  const config = join(root, "driftwatch.yaml");
  const env = { ...SERVICE_SECRETS, ...OWN_SECRETS, [SERVICE_SETTING]: "plain-service-value" };
  let server: SlackServer;
  let run: { code: number; stdout: string; stderr: string };
  let results: Record<string, StackResult>;

  const ownEnv = (extra: string[]) => [
    "    alerts: { pending: true }",
    "    env:",
    `      PROBE_OWN: ${OWN_MARKER}`,
    "      PROBE_PEM_KEY: ${env:PROBE_PEM}",
    "      GOOGLE_CREDENTIALS_JSON: ${env:PROBE_JSON}",
    '      FEATURE_TOKEN: "true"',
    ...extra,
  ];

  beforeAll(async () => {
    // The service's own process environment, as in production (the Automation API adds it to every CLI it starts).
    Object.assign(process.env, SERVICE_SECRETS);
    server = await SlackServer.start(SERVICE_SECRETS.SLACK_BOT_TOKEN);
    createProgramRepo(repo);
    commitFiles(repo, { "stacks/app/index.ts": PULUMI_PROBE, "stacks/tf/main.tf": TF_PROBE }, "programs that read their environment");
    writeFileSync(
      config,
      [
        `dataDir: ${dataDir}`,
        `cacheDir: ${sharedCacheDir}`,
        "alerts:",
        `  slack: { channel: "#isolation", apiUrl: "${server.url}" }`,
        "stacks:",
        "  - name: tf-probe",
        "    engine: terraform",
        `    source: { repo: ${repo}, path: stacks/tf }`,
        ...ownEnv([]),
        "  - name: pulumi-probe",
        "    engine: pulumi",
        `    source: { repo: ${repo}, path: stacks/app }`,
        "    pulumi: { stack: dev }",
        ...ownEnv(["      PULUMI_CONFIG_PASSPHRASE: ${env:PROBE_PASSPHRASE}", `      DEMO_FILES_DIR: ${join(root, "world")}`]),
        "    sandbox:",
        "      readWrite:",
        `        - ${join(root, "world")}`,
        "  - name: other",
        "    engine: terraform",
        `    source: { repo: ${repo}, path: stacks/tf }`,
        "    env:",
        "      OTHER_CREDENTIAL: ${env:OTHER_STACK_SECRET}",
        "",
      ].join("\n"),
    );
    run = await driftwatch(["--config", config, "--log-level", "debug", "check", "--json", "tf-probe", "pulumi-probe"], env);
    results = Object.fromEntries((JSON.parse(run.stdout) as { results: StackResult[] }).results.map((r) => [r.stack, r]));
  }, engineTimeout(60));

  afterAll(async () => {
    await server.close();
    for (const name of Object.keys(SERVICE_SECRETS)) delete process.env[name];
    rmSync(root, { recursive: true, force: true });
  });

  /** The environment the stack's engine saw, as it came back in its pending diff (masked). */
  const seen = (stack: string) => JSON.stringify(results[stack]!.changes);

  it.each(["tf-probe", "pulumi-probe"])("%s's engine sees its own env and a private home, nothing of the service's", (stack) => {
    const result = results[stack]!;
    expect(result.error, JSON.stringify(result.error)).toBeUndefined();
    expect(result.verdict).toBe("pending");
    const environ = seen(stack);
    expect(environ).toContain(OWN_MARKER);
    expect(environ).toContain(join(dataDir, "stacks", stack, "home"));
    expect(environ).toContain(join(dataDir, "stacks", stack, "tmp"));
    for (const name of [...Object.keys(SERVICE_SECRETS), SERVICE_SETTING, "OTHER_CREDENTIAL"]) expect(environ).not.toContain(name);
    // Its own credentials reached it, and came back masked.
    expect(environ).toContain("FEATURE_TOKEN");
    expect(environ).toContain("[secret]");
  });

  it("keeps the data directory, the database, the Pulumi backend and each stack's home and temp directory private", () => {
    const mode = (path: string) => statSync(path).mode & 0o777;
    for (const stack of ["tf-probe", "pulumi-probe"]) {
      for (const dir of ["home", "tmp"]) expect(mode(join(dataDir, "stacks", stack, dir))).toBe(0o700);
    }
    expect(mode(dataDir)).toBe(0o700);
    // Each Pulumi stack's own folder and the file backend in it.
    expect(mode(join(dataDir, "pulumi", "pulumi-probe"))).toBe(0o700);
    expect(mode(defaultPulumiBackend(dataDir, "pulumi-probe"))).toBe(0o700);
    const database = readdirSync(dataDir).filter((file) => file.startsWith("driftwatch.db"));
    expect(database).toContain("driftwatch.db");
    for (const file of database) expect(mode(join(dataDir, file)), file).toBe(0o600);
  });

  it("never shows a secret value in the output, the logs, the database or Slack", () => {
    for (const stack of ["tf-probe", "pulumi-probe"]) expect(server.requests.some((r) => JSON.stringify(r.body).includes(stack)), stack).toBe(true);
    const stored = readdirSync(dataDir)
      .filter((file) => file.startsWith("driftwatch.db"))
      .map((file) => readFileSync(join(dataDir, file), "latin1"));
    expect(stored.join("").length).toBeGreaterThan(0);
    const everywhere = [run.stdout, run.stderr, JSON.stringify(server.requests.map((r) => r.body)), ...stored];
    const secretForms = [...Object.values(SERVICE_SECRETS), ...Object.values(OWN_SECRETS)].flatMap((value) => [value, JSON.stringify(value).slice(1, -1)]);
    for (const text of everywhere) {
      for (const secret of secretForms) expect(text.includes(secret), secret).toBe(false);
      expect(text).not.toContain("isolationtestkeymaterial");
      expect(text).not.toContain("FEATURE_TOKEN=true");
      expect(text).not.toContain('"FEATURE_TOKEN":"true"');
    }
  });
});
