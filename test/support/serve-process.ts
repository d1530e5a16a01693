// `driftwatch serve` as a process of its own (its memory, environment and /proc entry its own), started until it
// says where it serves, and stopped gracefully: for the replica tests and the attack suite.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

const CLI = join(import.meta.dirname, "../../src/cli/main.ts");

export interface ServeChild {
  child: ChildProcess;
  pid: number;
  /** Where it serves, e.g. http://127.0.0.1:40123/ */
  url: string;
  exited: Promise<number | null>;
  /** Every stderr line so far (JSON log lines at the level `env` sets). */
  log: string[];
}

/**
 * `driftwatch --config <config> serve` with exactly `env`; resolves once it logs that it serves, rejects if it exits
 * first (with its last log lines, naming it `what`).
 */
export async function startServeChild(config: string, env: NodeJS.ProcessEnv, what = "serve"): Promise<ServeChild> {
  const child = spawn(process.execPath, [CLI, "--config", config, "serve"], { env, stdio: ["ignore", "ignore", "pipe"] });
  const log: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        log.push(line);
        if (/"msg":"driftwatch serving"/.test(line)) resolve((JSON.parse(line) as { url: string }).url);
      }
    });
    void exited.then((code) => reject(new Error(`${what} exited (${code}) before serving:\n${log.slice(-20).join("\n")}`)));
  });
  return { child, pid: child.pid!, url, exited, log };
}

/** SIGTERM (unless it has ended already), and waits for the graceful stop. */
export async function stopServeChild(service: Pick<ServeChild, "child" | "exited">): Promise<void> {
  if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill("SIGTERM");
  await service.exited;
}
