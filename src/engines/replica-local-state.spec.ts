import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { isInside, localStateWarning } from "./replica-local-state.ts";

function capture() {
  const lines: { stack: string; msg: string }[] = [];
  const logger = pino(
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as { stack: string; msg: string });
        done();
      },
    }),
  );
  return { lines, logger };
}

describe("the replica-local state warning", () => {
  it("is said once per stack, and only when replicas share the history", () => {
    const { lines, logger } = capture();
    const warn = localStateWarning({ sharedHistory: true });
    warn("net", logger, "give it a backend");
    warn("net", logger, "give it a backend");
    warn("db", logger, "give it a backend");
    expect(lines.map((l) => l.stack)).toEqual(["net", "db"]);
    expect(lines[0]!.msg).toContain("give it a backend");

    const alone = capture();
    localStateWarning({})("net", alone.logger, "x");
    localStateWarning({ sharedHistory: false })("net", alone.logger, "x");
    expect(alone.lines).toEqual([]);
  });

  it("knows a folder inside the data directory from one beside it", () => {
    expect(isInside("/var/lib/dw/pulumi/web/backend", "/var/lib/dw")).toBe(true);
    expect(isInside("/var/lib/dw", "/var/lib/dw")).toBe(true);
    expect(isInside("/var/lib/dw-other/backend", "/var/lib/dw")).toBe(false);
    expect(isInside("/srv/state", "/var/lib/dw")).toBe(false);
  });
});
