// The AWS shared credentials file a CloudFormation stack's env names is read by the AWS SDK in the service's own
// process. Nothing of it is written or shown: not a key, not a session token, not a credential_process command
// line (whose failure the SDK reports by quoting it). Real CLI, real SDK, real SQLite; the endpoint is a closed
// port, since credentials are resolved before any request.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { StackResult } from "../src/core/types.ts";
import { freeLoopbackPort } from "../src/toolchain/ports.ts";
import { driftwatch } from "./support/cli.ts";
import { commitFiles, git } from "./support/git.ts";
import { tempDir } from "./support/tempdir.ts";

const SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
const SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLEsessiontoken0001";
const VAULT_TOKEN = "hvs.CAESIexampleVaultToken0001";

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : entry.isFile() ? [join(dir, entry.name)] : []));
}

describe("AWS credential files of CloudFormation stacks", () => {
  it("are written nowhere, and a failed credential_process is reported without its command line", async () => {
    const root = tempDir();
    const repo = join(root, "repo");
    const dataDir = join(root, "data");
    mkdirSync(repo);
    git(repo, "init", "-q", "-b", "main");
    commitFiles(repo, { "cfn/template.yaml": "Resources:\n  Logs:\n    Type: AWS::S3::Bucket\n" }, "template");
    const credentials = join(root, "aws-credentials");
    writeFileSync(
      credentials,
      [
        "[static]",
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        `aws_secret_access_key = ${SECRET_KEY}`,
        `aws_session_token = ${SESSION_TOKEN}`,
        "[helper]",
        // A helper whose command line carries a token, and that fails saying why on stderr.
        `credential_process = sh -c 'echo "vault-creds: the vault is sealed" >&2; exit 3' vault-creds --vault-token ${VAULT_TOKEN}`,
        "",
      ].join("\n"),
      { mode: 0o600 },
    );
    const port = await freeLoopbackPort();
    const stack = (name: string) => [
      `  - name: ${name}`,
      "    engine: cloudformation",
      `    source: { repo: ${repo}, path: cfn }`,
      `    env: { AWS_PROFILE: ${name}, AWS_SHARED_CREDENTIALS_FILE: ${credentials}, AWS_CONFIG_FILE: ${join(root, "no-config")} }`,
      `    cloudformation: { stackName: web, region: eu-west-1, template: template.yaml, endpoint: "http://127.0.0.1:${port}" }`,
    ];
    const config = join(root, "driftwatch.yaml");
    writeFileSync(config, [`dataDir: ${dataDir}`, "stacks:", ...stack("static"), ...stack("helper"), ""].join("\n"));

    const env = { DRIFTWATCH_LOG_LEVEL: "debug" };
    const json = await driftwatch(["--config", config, "check", "--json"], env);
    const table = await driftwatch(["--config", config, "check"], env);
    const history = await driftwatch(["--config", config, "history", "--json"], env);
    const r = Object.fromEntries((JSON.parse(json.stdout) as { results: StackResult[] }).results.map((result) => [result.stack, result]));
    expect(r.static!.error?.message, json.stdout).toMatch(/ECONNREFUSED/); // the profile's keys were found and used
    expect(r.helper!.error?.message, json.stdout).toMatch(/no usable AWS credentials for stack helper .*: the profile's credential_process failed: vault-creds: the vault is sealed$/);

    const forms = [SECRET_KEY, SESSION_TOKEN, VAULT_TOKEN].flatMap((value) => [value, Buffer.from(value).toString("base64")]);
    expect(forms.filter((form) => readFileSync(credentials, "latin1").includes(form))).toHaveLength(3); // the search finds what is there
    const places = [
      ...filesUnder(dataDir).map((file) => ({ where: file.slice(dataDir.length + 1), text: readFileSync(file).toString("latin1") })),
      ...Object.entries({ json, table, history }).flatMap(([name, run]) => [
        { where: `${name}: stdout`, text: run.stdout },
        { where: `${name}: stderr`, text: run.stderr },
      ]),
    ];
    expect(places.flatMap((place) => forms.filter((form) => place.text.includes(form)).map((form) => `${form.slice(0, 10)}… in ${place.where}`))).toEqual([]);
  }, 120_000);
});
