import { spawn, type ChildProcess } from "node:child_process";
import { freeLoopbackPort } from "../../src/toolchain/ports.ts";

export interface MotoServer {
  /** http://127.0.0.1:<port>, for an AWS SDK client's `endpoint`. */
  endpoint: string;
  stop(): Promise<void>;
}

async function waitUntilServing(endpoint: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto server exited with ${child.exitCode}:\n${output()}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`moto server did not answer on ${endpoint} within ${timeoutMs}ms:\n${output()}`);
}

/** Starts moto's server (from the provisioned virtualenv) on a free loopback port. */
export async function startMoto(python: string, timeoutMs = 60_000): Promise<MotoServer> {
  const port = await freeLoopbackPort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(python, ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const collect = (chunk: Buffer) => (output = (output + chunk.toString("utf8")).slice(-10_000));
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const stop = () =>
    new Promise<void>((resolvePromise) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolvePromise();
      child.once("exit", () => resolvePromise());
      child.kill("SIGTERM");
    });
  try {
    await waitUntilServing(endpoint, child, () => output, timeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, stop };
}
