// exec with real child processes: bounded stdout, whole characters, never a rejection.
import { describe, expect, it } from "vitest";
import { exec } from "./exec.ts";

const MiB = 1024 * 1024;
const node = (script: string, options: Parameters<typeof exec>[2] = {}) => exec(process.execPath, ["-e", script], options);

describe("exec", () => {
  it("collects stdout whole, characters split across reads included", async () => {
    // "é" is two bytes; the first goes out alone, the second in a later write.
    const run = await node(`process.stdout.write(Buffer.from([0xc3])); setTimeout(() => process.stdout.write(Buffer.from([0xa9, 0x21])), 50);`);
    expect(run).toMatchObject({ code: 0, stdout: "é!", outputTooLarge: false });
    expect(run.output).toBe("é!");
  });

  it("kills a program whose stdout passes the limit, drops it, and says so in the output", async () => {
    const run = await node(`process.stdout.write(Buffer.alloc(40 * 1024 * 1024, 120)); setInterval(() => {}, 1000);`, { maxStdoutBytes: MiB, keep: 200 });
    expect(run.code).toBeNull();
    expect(run.outputTooLarge).toBe(true);
    expect(run.stdout).toBe("");
    expect(run.output.length).toBeLessThanOrEqual(200);
    expect(run.output).toMatch(/was stopped: it wrote more than 1048576 bytes to stdout$/);
  });

  it("resolves with the reason when the program cannot start", async () => {
    const run = await exec("/nonexistent/driftwatch-tool", []);
    expect(run).toMatchObject({ code: null, stdout: "", outputTooLarge: false });
    expect(run.output).toMatch(/ENOENT/);
  });
});
