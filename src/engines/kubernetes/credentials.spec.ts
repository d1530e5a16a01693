import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { kubeconfigSecrets, SERVICE_ACCOUNT_TOKEN } from "./credentials.ts";

const b64 = (text: string) => Buffer.from(text).toString("base64");
const PEM = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkeymaterial\n-----END EC PRIVATE KEY-----\n";
const CA = b64("-----BEGIN CERTIFICATE-----\nMIIBcertificate\n-----END CERTIFICATE-----\n");

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "driftwatch-credentials-"));
  dirs.push(dir);
  return dir;
}

describe("kubeconfigSecrets", () => {
  it("finds every kind of credential a kubeconfig holds or names, each also in base64, and nothing public", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "token"), "token-from-file-0001\n");
    writeFileSync(join(dir, "client.key"), PEM);
    const text = stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster: { server: "https://10.0.0.1:6443", "certificate-authority-data": CA, "proxy-url": "http://proxy-user:proxy-pass-0001@proxy:3128" } }],
      users: [
        { name: "token", user: { token: "bearer-token-0001" } },
        { name: "file", user: { "token-file": "token" } },
        { name: "cert", user: { "client-certificate-data": CA, "client-key-data": b64(PEM) } },
        { name: "key-file", user: { "client-key": join(dir, "client.key") } },
        { name: "basic", user: { username: "admin", password: "basic-password-0001" } },
        { name: "oidc", user: { "auth-provider": { name: "oidc", config: { "client-id": "kubernetes", "client-secret": "oidc-secret-0001", "id-token": "id-token-0001", "refresh-token": "refresh-0001", "idp-issuer-url": "https://issuer.example" } } } },
        {
          name: "exec",
          user: {
            exec: {
              apiVersion: "client.authentication.k8s.io/v1",
              command: "aws",
              args: ["eks", "get-token", "--cluster-name", "prod"],
              env: [
                { name: "AWS_PROFILE", value: "production" },
                { name: "AWS_SECRET_ACCESS_KEY", value: "exec-env-secret-0001" },
              ],
            },
          },
        },
      ],
      contexts: [{ name: "c", context: { cluster: "c", user: "token" } }],
      "current-context": "c",
    });
    const { secrets, files } = kubeconfigSecrets(text, dir);
    for (const value of ["bearer-token-0001", "token-from-file-0001", "basic-password-0001", "admin:basic-password-0001", "oidc-secret-0001", "id-token-0001", "refresh-0001", "exec-env-secret-0001", "proxy-pass-0001"]) {
      expect(secrets).toContain(value);
      expect(secrets).toContain(b64(value));
    }
    expect(secrets).toContain(b64(PEM)); // client-key-data as written
    expect(secrets).toContain(PEM); // and decoded
    expect(secrets.some((s) => s.includes("MHcCAQEEIBkeymaterial"))).toBe(true); // client-key, a file
    expect(files).toEqual(expect.arrayContaining([join(dir, "token"), join(dir, "client.key")]));
    // Public or not a credential: the CA, paths, names, the exec plugin's non-credential env.
    for (const value of [CA, "production", "kubernetes", "admin", "aws", join(dir, "client.key"), "https://issuer.example"]) expect(secrets).not.toContain(value);
  });

  it("still finds the token of a kubeconfig that does not parse", () => {
    const token = "a1b2c3d4e5f6a7b8c9d0";
    expect(kubeconfigSecrets(`users:\n- name: a\n  user:\n    token: ${token}\n  bad: [\n`, "/").secrets).toContain(token);
    expect(kubeconfigSecrets(`users:\n- name: a\n  user:\n    token: *${token}\n`, "/").secrets).toContain(token);
    expect(kubeconfigSecrets(`users:\n- name: a\n\tuser:\n    token: "${token}"\n    password:${token}x\n`, "/").secrets).toContain(token);
    expect(kubeconfigSecrets(`{"users": [{"name": "a", "user": {"token": "${token}"}}`, "/").secrets).toContain(token);
    expect(kubeconfigSecrets(`users:\n- name: a\n  user:\n    token: ${token} # rotated monthly\n  bad: [\n`, "/").secrets).toContain(token);
  });

  it("knows where the client reads a pod's service account token", () => {
    const config = new KubeConfig();
    const env = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    process.env.KUBERNETES_SERVICE_HOST = "10.0.0.1";
    process.env.KUBERNETES_SERVICE_PORT = "443";
    try {
      config.loadFromCluster();
    } finally {
      for (const [name, value] of [["KUBERNETES_SERVICE_HOST", env.host], ["KUBERNETES_SERVICE_PORT", env.port]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    expect(config.getCurrentUser()?.authProvider?.config?.tokenFile).toBe(SERVICE_ACCOUNT_TOKEN);
  });
});
