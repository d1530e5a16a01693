import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { tempDir } from "../../test/support/tempdir.ts";
import { parseConfig } from "./load.ts";
import { credentialFileSources, secretMaskerFor } from "./secrets.ts";

const kubeconfig = (token: string, extra: Record<string, unknown> = {}) =>
  stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "c", cluster: { server: "https://10.0.0.1:6443" } }],
    users: [{ name: "u", user: { token, ...extra } }],
    contexts: [{ name: "c", context: { cluster: "c", user: "u" } }],
    "current-context": "c",
  });

const kubernetesStack = (name: string, file: string) => `
  - name: ${name}
    engine: kubernetes
    source: { repo: . }
    kubernetes: { kubeconfig: ${file} }
`;

describe("the masker of a configuration with Kubernetes stacks", () => {
  it("masks what each stack's kubeconfig holds, plain and in base64, and what it holds after it was rewritten", () => {
    const dir = tempDir();
    const file = join(dir, "kubeconfig");
    writeFileSync(file, kubeconfig("first-token-0001"));
    const config = parseConfig(`stacks:${kubernetesStack("web", file)}${kubernetesStack("api", "kubeconfig")}`, join(dir, "driftwatch.yaml"), { env: {} });
    expect(credentialFileSources(config, {})).toHaveLength(1); // two stacks, one file
    const masker = secretMaskerFor(config, {});
    const b64 = (text: string) => Buffer.from(text).toString("base64");
    expect(masker.text(`a first-token-0001 b ${b64("first-token-0001")}`)).toBe("a [secret] b [secret]");

    // A token rotated in place, then by an atomic rename (as a Secret volume or a credential helper does).
    writeFileSync(file, kubeconfig("second-token-0002"));
    expect(masker.value({ note: "second-token-0002" })).toEqual({ note: "[secret]" });
    writeFileSync(join(dir, "next"), kubeconfig("third-token-0003-longer"));
    renameSync(join(dir, "next"), file);
    expect(masker.text("third-token-0003-longer")).toBe("[secret]");
    // A rotated-out token is no longer the file's: the current one is what is masked.
    expect(masker.text("first-token-0001")).toBe("first-token-0001");
    // A kubeconfig broken after its token still has it masked; one that is gone keeps what it had.
    writeFileSync(file, "users:\n- name: a\n  user:\n    token: broken-token-0004\n  bad: [\n");
    expect(masker.text("broken-token-0004")).toBe("[secret]");
    rmSync(file);
    expect(masker.text("broken-token-0004")).toBe("[secret]");
  });

  it("masks the token file a kubeconfig names when only that file changes", () => {
    const dir = tempDir();
    const file = join(dir, "kubeconfig");
    writeFileSync(join(dir, "token"), "file-token-0001\n");
    writeFileSync(file, kubeconfig("inline-token-0001", { "token-file": "token" }));
    const masker = secretMaskerFor(parseConfig(`stacks:${kubernetesStack("web", file)}`, join(dir, "driftwatch.yaml"), { env: {} }), {});
    expect(masker.text("file-token-0001")).toBe("[secret]");
    writeFileSync(join(dir, "token"), "file-token-0002-rotated\n");
    expect(masker.text("file-token-0002-rotated")).toBe("[secret]");
  });

  it("reads a file again only when it changed", () => {
    const dir = tempDir();
    const file = join(dir, "kubeconfig");
    writeFileSync(file, kubeconfig("steady-token-0001"));
    const [source] = credentialFileSources(parseConfig(`stacks:${kubernetesStack("web", file)}`, join(dir, "driftwatch.yaml"), { env: {} }), {});
    const first = source!.current();
    expect(source!.current()).toBe(first);
    writeFileSync(file, kubeconfig("steady-token-0001")); // rewritten, the same values
    expect(source!.current()).toBe(first);
  });
});

describe("the masker of a configuration with CloudFormation stacks", () => {
  it("masks what the AWS credential files named in a stack's env hold", () => {
    const dir = tempDir();
    mkdirSync(join(dir, "aws"));
    const credentials = join(dir, "aws", "credentials");
    writeFileSync(join(dir, "aws", "web-identity"), "web-identity-token-0001\n");
    writeFileSync(
      credentials,
      [
        "[prod]",
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "aws_session_token = session-token-0001 ; a comment",
        "region = eu-west-1",
        "[helper]",
        "credential_process = /usr/local/bin/helper --secret process-secret-0001",
        "web_identity_token_file = web-identity",
        "",
      ].join("\n"),
    );
    const config = parseConfig(
      `stacks:
  - name: web
    engine: cloudformation
    source: { repo: . }
    env: { AWS_PROFILE: prod, AWS_SHARED_CREDENTIALS_FILE: ${credentials}, AWS_CONFIG_FILE: ${join(dir, "aws", "missing")} }
    cloudformation: { stackName: web, region: eu-west-1, template: template.yaml }
`,
      join(dir, "driftwatch.yaml"),
      { env: {} },
    );
    const masker = secretMaskerFor(config, { HOME: join(dir, "home") });
    expect(masker.text("key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY token session-token-0001")).toBe("key [secret] token [secret]");
    expect(masker.text("Command failed: /usr/local/bin/helper --secret process-secret-0001")).toBe("Command failed: [secret]");
    expect(masker.text("web-identity-token-0001")).toBe("[secret]");
    expect(masker.text("region eu-west-1, profile prod")).toBe("region eu-west-1, profile prod");
  });
});
