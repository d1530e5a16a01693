// Every log line goes through the masker: its message and its fields, the stack and run ids kept as they are.
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.ts";
import { SecretMasker } from "./redact.ts";

describe("createLogger with a masker", () => {
  it("masks secrets in messages, fields, nested values and child bindings, and keeps which stack a line is about", () => {
    const destination = new PassThrough();
    const lines: string[] = [];
    destination.on("data", (chunk: Buffer) => lines.push(...chunk.toString("utf8").trim().split("\n")));
    const logger = createLogger({ pretty: false, destination, level: "info", masker: new SecretMasker(["hunter2-token", "prod"]) });
    logger.child({ stack: "prod", runId: "r1" }).warn({ detail: { output: "auth hunter2-token failed" }, env: "prod" }, "login as hunter2-token refused");
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ stack: "prod", runId: "r1", env: "[secret]", detail: { output: "auth [secret] failed" }, msg: "login as [secret] refused" });
    expect(lines.join("\n")).not.toContain("hunter2-token");
  });
});
