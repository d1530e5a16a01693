// runTool with real child processes: what it keeps of their output, and that it never throws whatever they write.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { constants } from "node:buffer";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { runTool, type ToolRunOptions } from "./process.ts";

const MiB = 1024 * 1024;
const options = (extra: Partial<ToolRunOptions> = {}): ToolRunOptions => ({ cwd: tmpdir(), env: process.env, signal: new AbortController().signal, ...extra });
const node = (script: string, extra: Partial<ToolRunOptions> = {}) => runTool(process.execPath, ["-e", script], options(extra));

/** Whether `pid` still runs (a zombie, killed and waiting to be reaped, does not). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function eventually(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 30 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A script that starts a child in its own process group (same group: not detached), names both pids on stderr, then runs `rest`. */
const withGrandchild = (rest: string) =>
  `const c = require("node:child_process").spawn("sleep", ["600"], { stdio: "ignore" });` +
  `process.stderr.write("pids " + process.pid + " " + c.pid + "\\n");` +
  rest;
const pidsIn = (stderr: string) => /pids (\d+) (\d+)/.exec(stderr)!.slice(1).map(Number);

describe("runTool", () => {
  it("returns what a tool wrote, its exit code, and no flags", async () => {
    const run = await node(`process.stdout.write("out ✓"); process.stderr.write("err"); process.exitCode = 3;`);
    expect(run).toEqual({ code: 3, stdout: "out ✓", stderr: "err", aborted: false, outputTooLarge: false });
  });

  it("kills the whole process group at once when stdout passes the limit, and keeps none of it", async () => {
    // 80 MB against a limit of 4 MiB; the grandchild would sleep for ten minutes if only the tool were killed.
    const started = Date.now();
    const run = await node(withGrandchild(`process.stdout.write(Buffer.alloc(80 * 1024 * 1024, 120)); setInterval(() => {}, 1000);`), { maxOutputBytes: 4 * MiB });
    expect(run.outputTooLarge).toBe(true);
    expect(run.aborted).toBe(false);
    expect(run.code).toBeNull();
    expect(run.stdout).toBe("");
    const [tool, grandchild] = pidsIn(run.stderr);
    await eventually(() => !alive(tool!) && !alive(grandchild!), "the tool and its child are gone");
    // SIGKILL, not the abort's SIGINT and grace: long before the default grace of 10 s would have passed.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("takes exactly the limit, and one byte more is too large", async () => {
    const write = (bytes: number) => `process.stdout.write(Buffer.alloc(${bytes}, 97));`;
    const at = await node(write(MiB), { maxOutputBytes: MiB });
    expect(at.outputTooLarge).toBe(false);
    expect(at.stdout).toHaveLength(MiB);
    const over = await node(write(MiB + 1), { maxOutputBytes: MiB });
    expect(over.outputTooLarge).toBe(true);
  });

  it("keeps the last bytes of stderr and lets the tool run on", async () => {
    const run = await node(`process.stderr.write(Buffer.alloc(3 * 1024 * 1024, 97)); process.stderr.write("the real error\\n"); process.stdout.write("done");`, {
      maxStderrBytes: 64 * 1024,
    });
    expect(run.code).toBe(0);
    expect(run.outputTooLarge).toBe(false);
    expect(run.stdout).toBe("done");
    expect(run.stderr).toMatch(/^… \(\d+ earlier bytes left out\)\n/);
    expect(run.stderr.endsWith("aaathe real error\n")).toBe(true);
    expect(run.stderr.length).toBeLessThan(64 * 1024 + 100);
  });

  it("decodes bytes that are not UTF-8 without throwing", async () => {
    const run = await node(`process.stdout.write(Buffer.from([0x66, 0xff, 0xfe, 0xc3])); process.stderr.write(Buffer.from([0xe2, 0x82]));`);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("f\uFFFD\uFFFD\uFFFD");
    expect(run.stderr).toMatch(/^\uFFFD+$/);
  });

  it("resolves, never throws, when the output within the limit is more than a string can hold", async () => {
    // The reported crash: ERR_STRING_TOO_LONG from decoding, thrown in a 'close' handler, ended the process.
    const bytes = constants.MAX_STRING_LENGTH + 1024;
    const script = `const chunk = Buffer.alloc(16 * 1024 * 1024, 120); let left = ${bytes};
      const next = () => { while (left > 0) { const n = Math.min(left, chunk.length); left -= n; if (!process.stdout.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return process.stdout.once("drain", next); } };
      next();`;
    const run = await node(script, { maxOutputBytes: bytes + 1 });
    expect(run.code).toBe(0);
    expect(run.outputTooLarge).toBe(true);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/stdout \(\d+ bytes\) could not be decoded/);
  }, 120_000);

  it("resolves with the reason when the tool cannot start", async () => {
    const run = await runTool("/nonexistent/driftwatch-tool", [], options());
    expect(run).toMatchObject({ code: null, stdout: "", aborted: false, outputTooLarge: false });
    expect(run.stderr).toMatch(/ENOENT/);
  });

  it("is done shortly after the tool exits, though a process it left in a session of its own still holds its pipes", async () => {
    // The orphan sleeps far longer than the test may take: the run must not wait for it.
    const script = `const c = require("node:child_process").spawn("sleep", ["600"], { detached: true, stdio: ["ignore", "inherit", "inherit"] }); process.stderr.write("orphan " + c.pid + "\\n"); c.unref(); process.stdout.write("done");`;
    const run = await node(script);
    const orphan = Number(/orphan (\d+)/.exec(run.stderr)![1]);
    try {
      expect(run).toMatchObject({ code: 0, stdout: "done", aborted: false });
      expect(alive(orphan)).toBe(true);
    } finally {
      process.kill(orphan, "SIGKILL");
    }
  }, 60_000);

  it("on abort interrupts the group, then kills what ignores the interrupt after the grace", async () => {
    const dir = mkdtempSync(join(tmpdir(), "driftwatch-process-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const ready = join(dir, "ready");
    const controller = new AbortController();
    const running = node(withGrandchild(`process.on("SIGINT", () => {}); require("node:fs").writeFileSync(${JSON.stringify(ready)}, ""); setInterval(() => {}, 1000);`), {
      signal: controller.signal,
      graceMs: 300,
    });
    await eventually(() => existsSync(ready), "the tool is up, its child started");
    controller.abort();
    const run = await running;
    expect(run.aborted).toBe(true);
    expect(run.outputTooLarge).toBe(false);
    const [tool, grandchild] = pidsIn(run.stderr);
    await eventually(() => !alive(tool!) && !alive(grandchild!), "the tool and its child are gone");
  });
});
