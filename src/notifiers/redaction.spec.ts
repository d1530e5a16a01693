import { describe, expect, it } from "vitest";
import type { ResourceChange } from "../core/types.ts";
import type { AlertEvent, AlertSubject, EpisodeInfo } from "../core/alerts.ts";
import { parseGlob, pathMatches, pathSegments } from "../core/path-glob.ts";
import { compileRedaction, HIDDEN_VALUE, RedactionPatternError, redactEvent } from "./redaction.ts";

const AWS_KEY = "AKIAABCDEFGHIJKLMNOP";
const PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----";

const subject: AlertSubject = { stack: "net", engine: "terraform", runId: "r1", verdict: "drifted", repo: "/srv/infra", path: ".", checkedAt: "2026-11-23T10:00:00.000Z" };
const episode: EpisodeInfo = { id: 1, openedAt: "2026-11-23T10:00:00.000Z", seenCount: 1, lastSeenAt: "2026-11-23T10:00:00.000Z" };
const web: ResourceChange = {
  kind: "drift",
  address: "aws_instance.web",
  type: "aws_instance",
  action: "update",
  properties: [
    { path: "tags.env", desired: "prod", actual: "dev" },
    { path: "user_data", desired: `export KEY=${AWS_KEY}`, actual: { nested: ["corp-12345", "ok"], "corp-99": 1 } },
    { path: "ingress[0].port", desired: 443, actual: 8443 },
    { path: "tags.owner", desired: null, actual: "team-a" },
  ],
};
const event: AlertEvent = { type: "episode-opened", subject, episode, changes: [web] };

function propertiesOf(e: AlertEvent) {
  if (!("changes" in e)) throw new Error("not an event with changes");
  return e.changes[0]!.properties;
}

describe("alert redaction: patterns", () => {
  it("masks configured patterns in nested values and keys, leaving the rest", () => {
    const out = redactEvent(event, compileRedaction({ patterns: ["corp-[0-9]+"] }));
    expect(propertiesOf(out)).toEqual([
      { path: "tags.env", desired: "prod", actual: "dev" },
      { path: "user_data", desired: "export KEY=[secret]", actual: { nested: ["[secret]", "ok"], "[secret]": 1 } },
      { path: "ingress[0].port", desired: 443, actual: 8443 },
      { path: "tags.owner", desired: null, actual: "team-a" },
    ]);
  });

  it("never changes its input", () => {
    const before = structuredClone(event);
    redactEvent(event, compileRedaction({ patterns: ["corp-[0-9]+", "prod"], showValuesOf: [] }));
    expect(event).toEqual(before);
  });

  it.each([
    ["an AWS access key id", AWS_KEY],
    ["an AWS session key id", "ASIAQWERTYUIOPASDFGH"],
    ["a Slack bot token", "xoxb-123456789012-1234567890123-abcdefABCDEF"],
    ["a Slack user token", "xoxp-123456789012-abcdefghij"],
    ["a Slack webhook", "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX"],
    ["a GitHub token", `ghp_${"a1B2".repeat(9)}`],
    ["a GitHub app token", `ghs_${"Z9".repeat(18)}`],
    ["a GitHub fine-grained token", `github_pat_11ABCDEFG0123456789_${"x".repeat(59)}`],
    ["a PEM private key", PEM],
    ["a PEM private key cut before its end", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA…"],
  ])("masks %s anywhere, without configuration", (_, secret) => {
    const withSecret: AlertEvent = {
      type: "run-failed",
      subject: { ...subject, staleSource: `fetch failed: ${secret}` },
      error: { kind: "EngineError", message: `rejected: ${secret} (end)` },
      suppressed: 0,
    };
    const out = redactEvent(withSecret, compileRedaction({}));
    expect(JSON.stringify(out)).not.toContain(secret);
    if (out.type !== "run-failed") throw new Error("type changed");
    expect(out.subject.staleSource).toBe("fetch failed: [secret]");
    expect(out.error.message).toBe(secret.includes("-----END") || !secret.startsWith("-----") ? "rejected: [secret] (end)" : "rejected: [secret]");
  });

  it("masks addresses, resource types, paths, replace paths and change lists", () => {
    const secretChange: ResourceChange = { ...web, address: `aws_iam_access_key.${AWS_KEY}`, type: AWS_KEY, properties: [{ path: `tags.${AWS_KEY}`, desired: 1, actual: 2 }], replacePaths: [AWS_KEY] };
    const ref = { kind: "drift" as const, address: `x.${AWS_KEY}`, type: "t", action: "update" as const };
    const out = redactEvent({ type: "episode-changed", subject, episode, changes: [secretChange], added: [ref], removed: [ref], modified: [ref] }, compileRedaction({}));
    expect(JSON.stringify(out)).not.toContain(AWS_KEY);
    if (out.type !== "episode-changed") throw new Error("type changed");
    expect(out.changes[0]).toMatchObject({ address: "aws_iam_access_key.[secret]", type: "[secret]", properties: [{ path: "tags.[secret]" }], replacePaths: ["[secret]"] });
    expect(out.added[0]!.address).toBe("x.[secret]");
  });

  it("keeps the event readable when a pattern matches its vocabulary (type, verdict, kind, action)", () => {
    const out = redactEvent(event, compileRedaction({ patterns: ["episode-opened", "drift(ed)?", "update", "aws"] }));
    expect(out.type).toBe("episode-opened");
    if (out.type !== "episode-opened") throw new Error("type changed");
    expect(out.subject.verdict).toBe("drifted");
    expect(out.changes[0]).toMatchObject({ kind: "drift", action: "update", address: "[secret]_instance.web", type: "[secret]_instance" });
  });

  it("ignores empty matches instead of masking between every character", () => {
    const out = redactEvent(event, compileRedaction({ patterns: ["x*", "\\b"] }));
    expect(propertiesOf(out)[0]).toEqual({ path: "tags.env", desired: "prod", actual: "dev" });
  });

  it("accepts patterns that are only valid without the unicode flag", () => {
    const out = redactEvent(event, compileRedaction({ patterns: ["corp\\-\\d+"] }));
    expect(JSON.stringify(out)).not.toContain("corp-12345");
  });

  it("names a pattern that is not a regular expression", () => {
    expect(() => compileRedaction({ patterns: ["ok", "(open"] })).toThrow(RedactionPatternError);
    expect(() => compileRedaction({ patterns: ["(open"] })).toThrow(/alerts\.redact\.patterns: "\(open" is not a valid regular expression/);
    try {
      compileRedaction({ patterns: ["[z-a]"] });
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ name: "RedactionPatternError", field: "patterns", pattern: "[z-a]" });
    }
  });
});

describe("alert redaction: showValuesOf", () => {
  it("shows only the values the allow-list names, keeping every path, and absent sides absent", () => {
    const out = redactEvent(event, compileRedaction({ showValuesOf: ["tags.env", "ingress[*].port"] }));
    expect(propertiesOf(out)).toEqual([
      { path: "tags.env", desired: "prod", actual: "dev" },
      { path: "user_data", desired: HIDDEN_VALUE, actual: HIDDEN_VALUE },
      { path: "ingress[0].port", desired: 443, actual: 8443 },
      { path: "tags.owner", desired: null, actual: HIDDEN_VALUE },
    ]);
  });

  it("hides every value with an empty list and none without one", () => {
    expect(propertiesOf(redactEvent(event, compileRedaction({ showValuesOf: [] }))).map((p) => p.actual)).toEqual([HIDDEN_VALUE, HIDDEN_VALUE, HIDDEN_VALUE, HIDDEN_VALUE]);
    expect(propertiesOf(redactEvent(event, compileRedaction({})))[2]).toEqual({ path: "ingress[0].port", desired: 443, actual: 8443 });
  });

  it("still masks patterns inside the values it shows", () => {
    const out = redactEvent(event, compileRedaction({ showValuesOf: ["**"] }));
    expect(propertiesOf(out)[1]!.desired).toBe("export KEY=[secret]");
  });

  it.each([
    ["tags.*", "tags.env", true],
    ["tags.*", "tags", false],
    ["tags.*", "tags.a.b", false],
    ["tags.*", "labels.env", false],
    ["tags.**", "tags", true],
    ["tags.**", "tags.a[0].b", true],
    ["tags.**", "tagsx.a", false],
    ["**.port", "port", true],
    ["**.port", "ingress[0].port", true],
    ["**.port", "ingress[0].port.x", false],
    ["**.port", "ingress[0].ports", false],
    ["ingress[*].port", "ingress[2].port", true],
    ["ingress.*.port", "ingress[2].port", true],
    ["ingress[*].port", "ingress[2].cidr", false],
    ["ingress[1].port", "ingress[1].port", true],
    ["ingress[1].port", "ingress[10].port", false],
    ["ingress[1].port", "ingress.1.port", true],
    ["content", "content", true],
    ["content", "content_type", false],
    ["content", "metadata.content", false],
    ["**", "anything.at[3].all", true],
    ["a.**.z", "a.z", true],
    ["a.**.z", "a.b.c.z", true],
    ["a.**.**.z", "a.b.z", true],
    ['tags["kubernetes.io/role"]', 'tags["kubernetes.io/role"]', true],
    ['tags["kubernetes.io/role"]', "tags.kubernetes", false],
    ['tags["*"]', "tags.env", false],
    ["tag*", "tags", false],
  ])("glob %s on path %s: %s", (glob, path, expected) => {
    expect(pathMatches([glob], path)).toBe(expected);
  });

  it("parses paths as the engines write them", () => {
    expect(pathSegments('ingress[0].cidr_blocks[1]["odd.key"]')).toEqual(["ingress", "0", "cidr_blocks", "1", "odd.key"]);
    expect(parseGlob("a.**.**.b")).toEqual([{ key: "a" }, { any: "many" }, { key: "b" }]);
  });

  it.each(["", "tags.", ".tags", "a..b", "tags[", "tags[x]", "a[**]"])("rejects the glob %j, naming it", (glob) => {
    expect(() => compileRedaction({ showValuesOf: ["tags.*", glob] })).toThrow(RedactionPatternError);
    expect(() => compileRedaction({ showValuesOf: [glob] })).toThrow(`alerts.redact.showValuesOf: ${JSON.stringify(glob)} is not a valid path glob`);
  });
});
