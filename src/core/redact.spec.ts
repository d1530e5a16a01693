import { describe, expect, it } from "vitest";
import { redactUrls, SecretMasker, sensitiveValues } from "./redact.ts";

describe("redaction", () => {
  it("keeps credentials and lets ordinary settings through", () => {
    expect(sensitiveValues({ PULUMI_CONFIG_PASSPHRASE: "p", AWS_SECRET_ACCESS_KEY: "k", GITHUB_TOKEN: "t", DEMO_FILES_DIR: "/d", AWS_REGION: "eu" })).toEqual(["p", "k", "t"]);
  });

  it("removes credentials from URLs and known values from text", () => {
    expect(redactUrls("fatal: unable to access 'https://bob:hunter22@git.example/repo.git/'")).toBe("fatal: unable to access 'https://***@git.example/repo.git/'");
    expect(new SecretMasker(["hunter22"]).text("passphrase was hunter22!")).toBe("passphrase was [secret]!");
  });
});

describe("SecretMasker", () => {
  const pem = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkeymaterial\n-----END EC PRIVATE KEY-----";
  const json = '{"private_key":"a\\nb","quote":"\\"","slash":"\\\\"}';

  it("masks values with quotes, backslashes and newlines, and where they sit inside JSON text", () => {
    const masker = new SecretMasker([json, "hunter2-long"]);
    const inJson = JSON.stringify({ credentials: json });
    expect(masker.value({ a: `x ${json} y`, b: inJson, c: ["hunter2-long"] })).toEqual({ a: "x [secret] y", b: '{"credentials":"[secret]"}', c: ["[secret]"] });
  });

  it("masks a secret that is a number or a boolean as a whole value, and inside text", () => {
    const masker = new SecretMasker(["true", "1234"]);
    expect(masker.value({ flag: true, off: false, port: 1234, other: 12, text: "FEATURE=true PIN=1234" })).toEqual({ flag: "[secret]", off: false, port: "[secret]", other: 12, text: "FEATURE=[secret] PIN=[secret]" });
  });

  it("masks the built-in credential shapes, object keys and URL credentials, whatever it was told", () => {
    const masker = new SecretMasker([]);
    expect(masker.text(`key ${pem} end`)).toBe("key [secret] end");
    expect(masker.text("id AKIAABCDEFGHIJKLMNOP and xoxb-1234567890-abcdef")).toBe("id [secret] and [secret]");
    expect(masker.text("https://bob:pw@git.example/r.git")).toBe("https://***@git.example/r.git");
    expect(new SecretMasker(["s3cr3t-key"]).value({ "s3cr3t-key": 1 })).toEqual({ "[secret]": 1 });
  });

  it("keeps the paths it is told to keep, ignores too-short values, and turns errors into plain data", () => {
    const masker = new SecretMasker(["prod", "ab"]);
    expect(masker.value({ stack: "prod", changes: [{ kind: "prod", address: "bucket.prod-ab" }] }, (path) => path[0] === "stack" || path.at(-1) === "kind")).toEqual({
      stack: "prod",
      changes: [{ kind: "prod", address: "bucket.[secret]-ab" }],
    });
    expect(masker.value({ err: new Error("prod is down") })).toEqual({ err: { type: "Error", message: "[secret] is down" } });
  });

  it("masks a document's values and keeps its field names, so it keeps its shape", () => {
    const masker = new SecretMasker(["span"]);
    const report = { series: { timelines: [{ stack: "web-span", spans: [{ verdict: "in-sync" }] }] } };
    expect(masker.document(report)).toEqual({ series: { timelines: [{ stack: "web-[secret]", spans: [{ verdict: "in-sync" }] }] } });
    expect(masker.value(report)).toEqual({ series: { timelines: [{ stack: "web-[secret]", "[secret]s": [{ verdict: "in-sync" }] }] } });
  });

  it("masks JSON Web Tokens and EKS tokens by their shape", () => {
    const jwt = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50In0.c2lnbmF0dXJlLWJ5dGVz";
    expect(new SecretMasker([]).text(`Bearer ${jwt} expired`)).toBe("Bearer [secret] expired");
    expect(new SecretMasker([]).text("token k8s-aws-v1.aHR0cHM6Ly9zdHMuYW1hem9uYXdzLmNvbS8_QWN0aW9u end")).toBe("token [secret] end");
  });

  it("masks what its sources hold now, asking them before each masking", () => {
    let values: readonly string[] = ["first-value"];
    let asked = 0;
    const masker = new SecretMasker(["told-value"]).track({
      current: () => {
        asked += 1;
        return values;
      },
    });
    expect(masker.text("first-value told-value")).toBe("[secret] [secret]");
    values = ["second-value"];
    expect(masker.value({ a: "first-value second-value told-value" })).toEqual({ a: "first-value [secret] [secret]" });
    expect(masker.document({ n: "second-value" })).toEqual({ n: "[secret]" });
    expect(masker.isSecret("second-value")).toBe(true);
    const before = asked;
    masker.value({ a: ["x", "y", { b: "z" }] });
    expect(asked - before).toBe(1); // once per masking, not once per string
  });

  it("learns more secrets later", () => {
    const masker = new SecretMasker([]);
    expect(masker.text("late-secret")).toBe("late-secret");
    expect(masker.add(["late-secret"]).text("late-secret")).toBe("[secret]");
  });
});
