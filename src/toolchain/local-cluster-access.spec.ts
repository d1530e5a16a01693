import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { certificateAuthority, ClusterUserError, kubeconfig, tokenAuthFile, withTokens } from "./local-cluster-access.ts";

describe("static tokens", () => {
  it("gives every user its own token and writes kube-apiserver's CSV, groups quoted", () => {
    const users = withTokens([{ name: "driftwatch-admin", groups: ["system:masters"] }, { name: "reader" }, { name: "ci", groups: ["a", "b:c"] }]);
    expect(new Set(users.map((u) => u.token)).size).toBe(3);
    for (const user of users) expect(user.token).toMatch(/^[0-9a-f]{48}$/);
    const [admin, reader, ci] = users.map((u) => u.token);
    expect(tokenAuthFile(users)).toBe(`${admin},driftwatch-admin,driftwatch-admin,"system:masters"\n${reader},reader,reader\n${ci},ci,ci,"a,b:c"\n`);
  });

  it("refuses names the CSV cannot hold, and the same user twice", () => {
    expect(() => withTokens([{ name: 'a,"b' }])).toThrow(ClusterUserError);
    expect(() => withTokens([{ name: "ok", groups: ["with space"] }])).toThrow("'with space' is not a usable user or group name");
    expect(() => withTokens([{ name: "twice" }, { name: "twice" }])).toThrow("user 'twice' is listed twice");
  });
});

describe("kubeconfig", () => {
  it("names the server, the CA as data, the user's token and one current context", () => {
    const ca = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    const config = parse(kubeconfig({ server: "https://127.0.0.1:6443", ca, user: "reader", token: "t0k", context: "driftwatch-test" }));
    expect(config).toEqual({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "driftwatch-test", cluster: { server: "https://127.0.0.1:6443", "certificate-authority-data": Buffer.from(ca).toString("base64") } }],
      users: [{ name: "reader", user: { token: "t0k" } }],
      contexts: [{ name: "driftwatch-test", context: { cluster: "driftwatch-test", user: "reader", namespace: "default" } }],
      "current-context": "driftwatch-test",
    });
  });
});

describe("certificateAuthority", () => {
  it("finds nothing in a file that holds no complete certificate yet", () => {
    expect(certificateAuthority("")).toBeUndefined();
    expect(certificateAuthority("-----BEGIN CERTIFICATE-----\nMIIB")).toBeUndefined();
    expect(certificateAuthority("-----BEGIN CERTIFICATE-----\nnot base64 der\n-----END CERTIFICATE-----\n")).toBeUndefined();
  });
});
