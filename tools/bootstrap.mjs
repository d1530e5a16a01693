#!/usr/bin/env node
// The one plain-JavaScript file in Driftwatch: it has to run on whatever Node the machine has (often 20),
// make sure a Node >= 22.19 and the npm dependencies are in place, and then hand over to the TypeScript
// toolchain entry point (src/toolchain/main.ts), which Node >= 22.19 runs directly by stripping types.
//
//   node tools/bootstrap.mjs <provision|test|stress|start|bench|cluster|typecheck|pack> [args...]
//
// Everything lands in the tool cache (DRIFTWATCH_TOOLS_DIR, default ~/.cache/driftwatch/tools), keyed by the
// versions pinned in toolchain/versions.json. Nothing is downloaded when the cache already holds it.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const versions = JSON.parse(readFileSync(join(repoRoot, "toolchain", "versions.json"), "utf8"));

function toolsDir() {
  if (process.env.DRIFTWATCH_TOOLS_DIR) return resolve(process.env.DRIFTWATCH_TOOLS_DIR);
  const cacheHome = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(cacheHome, "driftwatch", "tools");
}

function say(message) {
  process.stderr.write(`[provision] ${message}\n`);
}

function fail(message) {
  process.stderr.write(`[provision] error: ${message}\n`);
  process.exit(1);
}

function seconds(since) {
  return `${((Date.now() - since) / 1000).toFixed(1)}s`;
}

function run(command, args, options) {
  const result = spawnSync(command, args, { encoding: "utf8", ...options });
  if (result.error) return { ok: false, output: String(result.error.message) };
  return { ok: result.status === 0, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}

// Node >= versions.node.minimum: the machine's own when it is recent enough, otherwise the pinned one from the npm
// registry's node-<platform>-<arch> package (the binary the `node` package's install script would fetch).
function recentEnough(version, minimum) {
  const [have, need] = [version, minimum].map((v) => v.split(".").map(Number));
  const differs = have.findIndex((n, i) => n !== need[i]);
  return differs === -1 || have[differs] > need[differs];
}

function ensureNode(tools) {
  if (recentEnough(process.versions.node, versions.node.minimum) && !process.env.DRIFTWATCH_FORCE_NODE_INSTALL) {
    return process.execPath;
  }
  const pkg = `node-${process.platform}-${process.arch}`;
  const prefix = join(tools, `node-${versions.node.version}-${process.platform}-${process.arch}`);
  const binary = join(prefix, "node_modules", pkg, "bin", "node");
  if (existsSync(binary)) return binary;

  const started = Date.now();
  say(`installing Node ${versions.node.version} (${pkg} from the npm registry; machine has ${process.version})`);
  const staging = `${prefix}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const npm = run("npm", ["install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--prefix", staging,
    `${pkg}@${versions.node.version}`], { cwd: staging });
  if (!npm.ok) {
    rmSync(staging, { recursive: true, force: true });
    fail(`could not install ${pkg}@${versions.node.version} from the npm registry (is npm on PATH and the registry reachable?)\n${npm.output}`);
  }
  rmSync(prefix, { recursive: true, force: true });
  renameSync(staging, prefix);
  const check = run(binary, ["--version"]);
  if (!check.ok) fail(`installed Node at ${binary} does not run:\n${check.output}`);
  say(`Node ${check.output.trim()} ready in ${seconds(started)}`);
  return binary;
}

// `npm ci` whenever package-lock.json or the Node version changed since the last install, with the provisioned Node
// first on PATH so lifecycle scripts run on it too. The version, not the binary's path: the same Node from another
// tool cache needs nothing installed again (and a test that runs `npm start` beside other test files must not
// reinstall the node_modules they are importing from).
function ensureDependencies(nodeBinary) {
  const lock = join(repoRoot, "package-lock.json");
  if (!existsSync(lock)) fail(`package-lock.json is missing in ${repoRoot}`);
  // This process's own Node, or the pinned one ensureNode installed (its folder is named by that version).
  const nodeVersion = nodeBinary === process.execPath ? process.version : `v${versions.node.version}`;
  const hash = createHash("sha256").update(readFileSync(lock)).update(nodeVersion).digest("hex");
  const stamp = join(repoRoot, "node_modules", ".driftwatch-lock-hash");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === hash) return;

  const started = Date.now();
  say("installing npm dependencies (npm ci)");
  const env = { ...process.env, PATH: `${dirname(nodeBinary)}${delimiter}${process.env.PATH ?? ""}` };
  // npm's report goes to stderr with the rest of the provisioning: stdout is the command's (`check --json > f`).
  const npm = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: repoRoot, env, stdio: ["ignore", 2, 2] });
  if (npm.error || npm.status !== 0) fail("npm ci failed (see its output above); is the npm registry reachable?");
  writeFileSync(stamp, hash);
  say(`npm dependencies ready in ${seconds(started)}`);
}

function main() {
  const [command, ...rest] = process.argv.slice(2);
  if (!command) fail("usage: node tools/bootstrap.mjs <provision|test|stress|start|bench|cluster|typecheck|pack> [args...]");
  const tools = toolsDir();
  mkdirSync(tools, { recursive: true });
  const nodeBinary = ensureNode(tools);
  ensureDependencies(nodeBinary);
  const env = {
    ...process.env,
    DRIFTWATCH_TOOLS_DIR: tools,
    DRIFTWATCH_NODE: nodeBinary,
    PATH: `${dirname(nodeBinary)}${delimiter}${process.env.PATH ?? ""}`,
  };
  const entry = join(repoRoot, "src", "toolchain", "main.ts");
  const child = spawn(nodeBinary, [entry, command, ...rest], { cwd: process.cwd(), env, stdio: "inherit" });
  // This process waits for the child whatever signal comes, so the child (a server, the local cluster) can stop
  // cleanly: SIGTERM and SIGHUP sent to this process alone are passed on; a terminal's Ctrl-C reaches the child
  // by itself (same process group), and a second SIGINT would tell the service to stop at once.
  process.on("SIGINT", () => {});
  for (const signal of ["SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("error", (error) => fail(`could not start ${nodeBinary}: ${error.message}`));
  child.on("close", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

main();
