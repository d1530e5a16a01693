// `npm run test:stress`: the integration suites, several times over, while CPU hogs keep every core busy, as
// on a shared CI machine. Prints, per run, how many tests passed and how long it took, then every test that
// failed at least once with its failure count, and the slowest tests (median over the runs). Exit code 1 when
// any test failed in any run. Not part of `npm test`.
//
//   npm run test:stress -- [--runs 5] [--hogs <n, default: CPU cores>] [vitest filters, e.g. test/serve.test.ts]
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { repoRoot } from "../src/toolchain/paths.ts";

interface VitestReport {
  testResults: { name: string; status: string; assertionResults: { fullName: string; status: string; duration?: number | null }[] }[];
}

interface TestTally {
  passed: number;
  failed: number;
  durations: number[];
}

const { values, positionals } = parseArgs({
  options: { runs: { type: "string", default: "5" }, hogs: { type: "string", default: String(availableParallelism()) } },
  allowPositionals: true,
});
const runs = Number(values.runs);
const hogCount = Number(values.hogs);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(hogCount) || hogCount < 0) {
  process.stderr.write("usage: npm run test:stress -- [--runs N>=1] [--hogs N>=0] [vitest filters...]\n");
  process.exit(1);
}
const filters = positionals.length > 0 ? positionals : ["test/"];

/** A process that spins on one core until killed. */
function hog(): ChildProcess {
  return spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" });
}

function vitestRun(report: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const vitest = join(repoRoot, "node_modules", "vitest", "vitest.mjs");
    const child = spawn(process.execPath, [vitest, "run", "--reporter=dot", "--reporter=json", `--outputFile.json=${report}`, ...filters], {
      cwd: repoRoot,
      env: process.env,
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.on("error", reject);
    child.on("close", (code) => resolve(code ?? 1));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

const hogs = Array.from({ length: hogCount }, hog);
const stopHogs = () => hogs.forEach((h) => h.kill("SIGKILL"));
process.on("exit", stopHogs);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));

const scratch = mkdtempSync(join(tmpdir(), "driftwatch-stress-"));
const tallies = new Map<string, TestTally>();
/** The tally of one test (or of a file that failed outside its tests), made on first use. */
const tallyOf = (key: string): TestTally => {
  const tally = tallies.get(key) ?? { passed: 0, failed: 0, durations: [] };
  tallies.set(key, tally);
  return tally;
};
const summaries: string[] = [];
const started = Date.now();
let anyFailure = false;
try {
  for (let run = 1; run <= runs; run += 1) {
    process.stdout.write(`\n== stress run ${run}/${runs}: ${filters.join(" ")} with ${hogCount} CPU hog(s)\n`);
    const report = join(scratch, `run-${run}.json`);
    const runStarted = Date.now();
    const code = await vitestRun(report);
    const took = Date.now() - runStarted;
    let parsed: VitestReport;
    try {
      parsed = JSON.parse(readFileSync(report, "utf8")) as VitestReport;
    } catch {
      anyFailure = true;
      summaries.push(`run ${run}: vitest exited with ${code} and wrote no report (${seconds(took)})`);
      continue;
    }
    let passed = 0;
    let failed = 0;
    for (const file of parsed.testResults) {
      const where = file.name.replace(`${repoRoot}/`, "");
      // A file that failed outside any test (a hook, an import) counts as one failed "test" of its own.
      if (file.status === "failed" && file.assertionResults.every((t) => t.status !== "failed")) {
        tallyOf(`${where} (file)`).failed += 1;
        failed += 1;
      }
      for (const test of file.assertionResults) {
        if (test.status !== "passed" && test.status !== "failed") continue;
        const tally = tallyOf(`${where} › ${test.fullName}`);
        if (test.status === "passed") {
          tally.passed += 1;
          passed += 1;
        } else {
          tally.failed += 1;
          failed += 1;
        }
        tally.durations.push(test.duration ?? 0);
      }
    }
    anyFailure ||= failed > 0 || code !== 0;
    summaries.push(`run ${run}: ${passed} passed, ${failed} failed, exit ${code}, ${seconds(took)}`);
  }
} finally {
  stopHogs();
  rmSync(scratch, { recursive: true, force: true });
}

const out: string[] = ["", `== stress summary: ${runs} run(s), ${hogCount} CPU hog(s), ${seconds(Date.now() - started)} in all`, ...summaries];
const failing = [...tallies].filter(([, t]) => t.failed > 0).sort((a, b) => b[1].failed - a[1].failed);
out.push("", failing.length === 0 ? "no test failed in any run" : "failed at least once (failures/runs):");
for (const [name, t] of failing) out.push(`  ${t.failed}/${t.failed + t.passed}  ${name}`);
out.push("", "slowest tests (median over the runs, and the slowest run):");
const slowest = [...tallies].sort((a, b) => median(b[1].durations) - median(a[1].durations)).slice(0, 10);
for (const [name, t] of slowest) out.push(`  ${seconds(median(t.durations)).padStart(7)} ${seconds(Math.max(...t.durations)).padStart(7)}  ${name}`);
process.stdout.write(`${out.join("\n")}\n`);
process.exit(anyFailure ? 1 : 0);
