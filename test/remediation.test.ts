// Automatic remediation on real engines: a drifted stack whose policy allows it is converged from exactly the
// judged plan and re-checked; every guard that says no (deletes, replaces, maxChanges, protected types, windows,
// freezes, unsigned commits) leaves the world untouched with its reason recorded; the audit log shows it all.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StackResult } from "../src/core/types.ts";
import { localStateFile } from "../src/engines/terraform/index.ts";
import { localTime } from "../src/remediation/guards.ts";
import type { ApprovalRecord, AuditEntry } from "../src/store/api.ts";
import { driftwatch, type CliRun } from "./support/cli.ts";
import { commitFiles, createProgramRepo, git } from "./support/git.ts";
import { manifestPath, repoRoot } from "../src/toolchain/paths.ts";
import { gpgKey, type GpgKey } from "./support/gpg.ts";
import { holdLock, killAll, processesUnder, until } from "./support/processes.ts";
import { pulumiStackYaml } from "./support/pulumi.ts";
import { sharedCacheDir, tempDir } from "./support/tempdir.ts";
import { localFilesModule } from "./support/terraform-modules.ts";
import { engineTimeout } from "./support/timeouts.ts";

// Replaced whenever local_file.a is (re)created; its provisioner logs every apply, and holds it while `hold` exists.
const GATE = `resource "terraform_data" "gate" {
  triggers_replace = [local_file.a.id]
  provisioner "local-exec" {
    command = "echo applied >> \${var.dir}/gate.log; while [ -e \${var.dir}/hold ]; do sleep 0.2; done"
  }
}
`;

const results = (stdout: string) => Object.fromEntries((JSON.parse(stdout) as { results: StackResult[] }).results.map((r) => [r.stack, r]));
const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
const isoDay = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

describe("remediation on OpenTofu stacks", () => {
  const root = mkdtempSync(join(tmpdir(), "driftwatch-remediation-"));
  const repo = join(root, "repo");
  const world = join(root, "world");
  const config = join(root, "driftwatch.yaml");
  const keys = join(root, "keys");
  // A weekday that is neither today nor tomorrow (UTC): the window stays closed even if the suite runs past midnight.
  const soon = [0, 1].map((days) => localTime(new Date(Date.now() + days * 86_400_000), "UTC").weekday);
  const notToday = WEEKDAYS.find((d) => !soon.includes(d))!;
  const [yesterday, tomorrow] = [isoDay(-1), isoDay(1)]; // the freeze, as written into the config (not recomputed later)
  const gpgKeys: GpgKey[] = [];

  // name → [module path, remediation policy as YAML flow]
  const stacks: Record<string, [string, string]> = {
    auto: ["stacks/files", "{ mode: auto }"],
    off: ["stacks/files", "{ mode: off }"],
    "max-changes": ["stacks/files", "{ mode: auto, maxChanges: 1 }"],
    protect: ["stacks/files", "{ mode: auto, protect: [local_file] }"],
    window: ["stacks/files", `{ mode: auto, windows: [{ days: [${notToday}], from: "00:00", to: "23:59" }] }`],
    freeze: ["stacks/files", `{ mode: auto, freeze: [{ from: ${yesterday}, to: ${tomorrow} }] }`],
    reshaped: ["stacks/reshaped", "{ mode: auto, on: pending }"],
    signed: ["stacks/files", `{ mode: auto, requireSignedCommit: true, trustedKeys: ${join(keys, "allowed_signers")} }`],
    approve: ["stacks/files", "{ mode: approve, approvalHours: 1 }"],
    flaky: ["stacks/files", "{ mode: auto, backoff: { initialMinutes: 0, attempts: 2 } }"],
    patient: ["stacks/files", "{ mode: auto, backoff: { initialMinutes: 60 } }"],
    gated: ["stacks/gated", "{ mode: auto, allow: { replaces: true } }"],
    "gpg-signed": ["stacks/files", `{ mode: auto, requireSignedCommit: true, trustedKeys: ${join(keys, "release.asc")} }`],
  };

  const check = async (...names: string[]) => {
    const run = await driftwatch(["--config", config, "check", "--json", ...names]);
    return { ...run, byStack: results(run.stdout) };
  };
  const file = (stack: string, name: string) => join(world, stack, `${name}.txt`);
  const auditOf = async (stack: string) => (JSON.parse((await driftwatch(["--config", config, "audit", stack, "--json"])).stdout) as { entries: AuditEntry[] }).entries;

  beforeAll(async () => {
    execFileSync("mkdir", ["-p", keys]);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "release@example.com", "-f", join(keys, "release")]);
    writeFileSync(join(keys, "allowed_signers"), `release@example.com ${readFileSync(join(keys, "release.pub"), "utf8")}`);
    gpgKeys.push(gpgKey("Release <gpg-release@example.com>"), gpgKey("Someone <gpg-someone@example.com>"));
    writeFileSync(join(keys, "release.asc"), gpgKeys[0]!.publicKey);
    git(root, "init", "-q", "-b", "main", repo);
    commitFiles(
      repo,
      {
        "stacks/files/main.tf": localFilesModule({ a: "alpha\n", b: "bravo\n" }),
        "stacks/reshaped/main.tf": localFilesModule({ a: "alpha\n", b: "bravo\n" }),
        "stacks/gated/main.tf": localFilesModule({ a: "alpha\n" }, GATE),
      },
      "modules",
    );
    const lines = [`dataDir: ${join(root, "data")}`, "alerts: { log: false }", "stacks:"];
    for (const [name, [path, policy]] of Object.entries(stacks)) {
      lines.push(
        `  - name: ${name}`,
        "    engine: terraform",
        `    source: { repo: ${repo}, path: ${path} }`,
        `    terraform: { binary: tofu, vars: { dir: ${join(world, name)} } }`,
        `    sandbox: { readWrite: [${join(world, name)}] }`,
        `    remediation: ${policy}`,
      );
    }
    writeFileSync(config, `${lines.join("\n")}\n`);
    for (const name of Object.keys(stacks)) {
      const converged = await driftwatch(["--config", config, "converge", name]);
      expect(converged.code, converged.stderr).toBe(0);
    }
  }, engineTimeout(13));
  afterAll(() => {
    gpgKeys.forEach((k) => k.dispose());
    rmSync(root, { recursive: true, force: true });
  });

  it("converges a drifted stack from the judged plan, re-checks it, and refuses every plan a guard rules out", async () => {
    for (const name of ["auto", "off", "window", "freeze", "protect", "signed"]) writeFileSync(file(name, "a"), "edited by hand\n");
    unlinkSync(file("max-changes", "a"));
    unlinkSync(file("max-changes", "b"));
    // Git moves on for `reshaped`: a's content changes (a replacement) and b goes (a deletion).
    commitFiles(repo, { "stacks/reshaped/main.tf": localFilesModule({ a: "alpha, reshaped\n" }) }, "reshape");

    const run = await check();
    const { byStack } = run;
    expect(run.code, run.stderr).toBe(2); // the refused ones are still drifted

    // auto: applied, re-checked in sync, the file as Git declares it.
    expect(byStack.auto).toMatchObject({ verdict: "in-sync", remediation: { decision: "applied", reason: "applied the plan: 1 resource(s)" } });
    expect(byStack.auto!.remediation!.checkRunId).not.toBe(byStack.auto!.runId);
    expect(readFileSync(file("auto", "a"), "utf8")).toBe("alpha\n");

    // off: nothing decided at all.
    expect(byStack.off).toMatchObject({ verdict: "drifted" });
    expect(byStack.off!.remediation).toBeUndefined();

    const refused = (name: string) => {
      expect(byStack[name]).toMatchObject({ verdict: expect.stringMatching(/drifted|pending/), remediation: { decision: "refused" } });
      return byStack[name]!.remediation!.reason;
    };
    expect(refused("max-changes")).toBe("the plan would touch 2 resources; at most 1 may be changed automatically (maxChanges)");
    expect(refused("protect")).toBe("the plan would touch protected local_file: local_file.a");
    expect(refused("window")).toMatch(new RegExp(`^outside every remediation window \\(${notToday} 00:00-23:59 UTC\\)`));
    expect(refused("freeze")).toBe(`inside the change freeze ${yesterday} to ${tomorrow} (UTC)`);
    expect(refused("signed")).toMatch(/^commit [0-9a-f]{12} is not signed$/);
    expect(refused("reshaped")).toBe(
      "the plan would delete local_file.b; deletes are not allowed (allow.deletes: false); " +
        "the plan would replace local_file.a; replacements are not allowed (allow.replaces: false)",
    );
    // Refused means untouched.
    for (const name of ["window", "freeze", "protect", "signed"]) expect(readFileSync(file(name, "a"), "utf8")).toBe("edited by hand\n");
    expect(existsSync(file("max-changes", "a"))).toBe(false);
    expect(readFileSync(file("reshaped", "a"), "utf8")).toBe("alpha\n");
    expect(existsSync(file("reshaped", "b"))).toBe(true);

    // The audit log has one entry per decision, with every guard and the plan it was made on.
    const audit = await driftwatch(["--config", config, "audit", "--json"]);
    const entries = (JSON.parse(audit.stdout) as { entries: AuditEntry[] }).entries;
    expect(entries.map((e) => e.stack).sort()).toEqual(["auto", "freeze", "max-changes", "protect", "reshaped", "signed", "window"]);
    const applied = entries.find((e) => e.stack === "auto")!;
    expect(applied).toMatchObject({ decision: "applied", actor: "driftwatch", triggeredBy: "check", mode: "auto", planChanges: 1, outcome: "in-sync", runId: byStack.auto!.remediation!.checkRunId });
    expect(applied.planFingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(applied.guards.map((g) => [g.guard, g.passed])).toEqual([
      ["trigger", true],
      ["source", true],
      ["ignore", true],
      ["deletes", true],
      ["replaces", true],
      ["protect", true],
      ["maxChanges", true],
      ["window", true],
      ["freeze", true],
      ["signature", true],
    ]);
    const table = await driftwatch(["--config", config, "audit"]);
    expect(table.stdout).toMatch(/auto +applied +driftwatch \(check\)/);
  }, engineTimeout(6));

  it("asks for approval, voids it when the drift changes, and applies only a plan that is still the approved one", async () => {
    const approvals = async () => (JSON.parse((await driftwatch(["--config", config, "approvals", "approve", "--json"])).stdout) as { approvals: ApprovalRecord[] }).approvals;
    const idIn = (reason: string) => /approval ([0-9a-f]{12})/.exec(reason)![1]!;
    writeFileSync(file("approve", "a"), "edited by hand\n");

    const first = (await check("approve")).byStack.approve!;
    expect(first).toMatchObject({ verdict: "drifted", remediation: { decision: "approval-requested" } });
    const id1 = idIn(first.remediation!.reason);
    expect(first.remediation!.reason).toMatch(new RegExp(`^approval ${id1} is requested until .*: driftwatch approve ${id1}$`));
    expect(readFileSync(file("approve", "a"), "utf8")).toBe("edited by hand\n");
    expect(await approvals()).toMatchObject([{ id: id1, state: "pending", plan: [{ action: "create", address: "local_file.a" }] }]);

    // The same drift again: the same request still waits, no second one.
    const again = (await check("approve")).byStack.approve!;
    expect(again.remediation!.reason).toMatch(new RegExp(`^approval ${id1} still waits`));

    // The drift changes: the old request is void, a new one asks about the new plan.
    unlinkSync(file("approve", "b"));
    const changed = (await check("approve")).byStack.approve!;
    const id2 = idIn(changed.remediation!.reason);
    expect(id2).not.toBe(id1);
    expect((await approvals()).map((a) => [a.id, a.state, a.plan.length])).toEqual([
      [id2, "pending", 2],
      [id1, "void", 1],
    ]);
    const voided = await driftwatch(["--config", config, "approve", id1]);
    expect(voided.code).toBe(1);
    expect(voided.stderr).toContain(`approval ${id1} is void: the plan changed; superseded by approval ${id2}`);

    // The world moves between the request and the approval: the approved plan is not the plan any more.
    writeFileSync(file("approve", "b"), "bravo\n");
    const stale = await driftwatch(["--config", config, "approve", id2, "--as", "alice", "--json"]);
    expect(stale.code).toBe(1);
    const staleResult = results(stale.stdout).approve!;
    const id3 = /approval ([0-9a-f]{12}) is requested for the new plan/.exec(staleResult.remediation!.reason)![1]!;
    expect(staleResult.remediation).toMatchObject({ decision: "refused", reason: `the plan changed since approval ${id2} was given; that approval is void, and approval ${id3} is requested for the new plan` });
    expect(readFileSync(file("approve", "a"), "utf8")).toBe("edited by hand\n");

    const applied = await driftwatch(["--config", config, "approve", id3, "--as", "alice", "--json"]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(results(applied.stdout).approve).toMatchObject({ verdict: "in-sync", remediation: { decision: "applied" } });
    expect(readFileSync(file("approve", "a"), "utf8")).toBe("alpha\n");
    expect((await approvals())[0]).toMatchObject({ id: id3, state: "applied", decidedBy: "alice" });
    expect((await auditOf("approve"))[0]).toMatchObject({ actor: "alice", triggeredBy: "approve", decision: "applied", outcome: "in-sync" });
    const twice = await driftwatch(["--config", config, "approve", id3]);
    expect(twice.stderr).toContain(`approval ${id3} is applied`);
  }, engineTimeout(5));

  it("backs off after a failed remediation, pauses after too many, and resumes once the stack is in sync", async () => {
    // Someone holds the state lock: detection (-lock=false) sees the drift, the remediation's plan cannot lock.
    const release = [await holdLock(localStateFile(join(root, "data"), "flaky")), await holdLock(localStateFile(join(root, "data"), "patient"))];
    try {
      for (const name of ["flaky", "patient"]) writeFileSync(file(name, "a"), "edited by hand\n");
      const first = await check("flaky", "patient");
      for (const name of ["flaky", "patient"]) {
        expect(first.byStack[name]).toMatchObject({ verdict: "drifted", remediation: { decision: "failed" } });
      }
      expect(first.byStack.flaky!.remediation!.reason).toMatch(/^StackLockedError: [\s\S]*; failure 1 of 2: the next attempt waits until /);
      expect(first.byStack.patient!.remediation!.reason).toMatch(/; failure 1 of 5: the next attempt waits until /);

      const second = await check("flaky", "patient");
      // patient waits its hour without planning anything; flaky may try again at once, fails, and is paused.
      expect(second.byStack.patient!.remediation).toMatchObject({ decision: "backoff", reason: expect.stringMatching(/^1 failed remediation\(s\) in a row; the next attempt waits until /) });
      expect(second.byStack.flaky!.remediation).toMatchObject({ decision: "failed", reason: expect.stringMatching(/failure 2 of 2: automatic remediation is paused until the stack is in sync again$/) });
      expect((await auditOf("patient"))[0]).not.toHaveProperty("planFingerprint");

      const third = await check("flaky");
      expect(third.byStack.flaky!.remediation).toMatchObject({ decision: "needs-attention", reason: expect.stringMatching(/^paused after 2 failed remediations in a row/) });
    } finally {
      release.forEach((r) => r());
    }
    // A person converges; the in-sync check that follows ends the pause, and the next drift is remediated again.
    expect((await driftwatch(["--config", config, "converge", "flaky"])).code).toBe(0);
    writeFileSync(file("flaky", "a"), "edited again\n");
    expect((await check("flaky")).byStack.flaky).toMatchObject({ verdict: "in-sync", remediation: { decision: "applied" } });
  }, engineTimeout(6));

  it("applies once when two checks race to remediate the same drift", async () => {
    writeFileSync(file("auto", "a"), "edited again\n");
    const before = (await auditOf("auto")).length;
    const [one, two] = await Promise.all([check("auto"), check("auto")]);
    const decisions = [one.byStack.auto!.remediation?.decision, two.byStack.auto!.remediation?.decision];
    expect(decisions.filter((d) => d === "applied")).toHaveLength(1);
    // The other found the stack held (busy), or converged already (noop), or in sync (no remediation at all).
    expect(decisions.filter((d) => d !== "applied").every((d) => d === undefined || d === "busy" || d === "noop")).toBe(true);
    const after = await auditOf("auto"); // newest first
    expect(after.slice(0, after.length - before).filter((e) => e.decision === "applied")).toHaveLength(1);
    expect(readFileSync(file("auto", "a"), "utf8")).toBe("alpha\n");
  }, engineTimeout(2));

  it("records an apply cut off by kill -9 as interrupted, and applies nothing more until a person decides", async () => {
    const dir = join(world, "gated");
    const applies = () => readFileSync(join(dir, "gate.log"), "utf8").split("\n").filter(Boolean).length;
    expect(applies()).toBe(1); // the converge of beforeAll
    unlinkSync(file("gated", "a"));
    writeFileSync(join(dir, "hold"), "");
    const cli = join(import.meta.dirname, "../src/cli/main.ts");
    const env = { ...process.env, DRIFTWATCH_TOOLCHAIN: process.env.DRIFTWATCH_TOOLCHAIN ?? manifestPath() };
    const child = spawn(process.execPath, [cli, "--config", config, "check", "--json", "gated"], { env, stdio: "ignore" });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    await until(() => existsSync(join(dir, "gate.log")) && applies() === 2, 120_000);
    child.kill("SIGKILL");
    await exited;
    // The engine runs in a process group of its own and outlives Driftwatch; a crash of the machine takes it too.
    killAll(processesUnder(join(root, "data")));
    rmSync(join(dir, "hold"));
    unlinkSync(file("gated", "a")); // whatever the cut-off apply did, the stack is drifted again

    // The restart finds the lease of a dead process and the unfinished apply: interrupted, and paused.
    const restarted = await check("gated");
    expect(restarted.byStack.gated).toMatchObject({
      verdict: "drifted",
      remediation: { decision: "needs-attention", reason: expect.stringMatching(/^an earlier remediation's apply was interrupted/) },
    });
    const [paused, interrupted] = await auditOf("gated");
    expect(interrupted).toMatchObject({ decision: "interrupted", actor: "driftwatch", planChanges: 2, reason: expect.stringMatching(/^the apply started at .* was interrupted before it finished/) });
    expect(interrupted!.guards.every((g) => g.passed)).toBe(true);
    expect(paused).toMatchObject({ decision: "needs-attention" });
    const history = JSON.parse((await driftwatch(["--config", config, "history", "gated", "--json"])).stdout) as { runs: StackResult[] };
    expect(history.runs.filter((r) => r.error?.kind === "InterruptedError").map((r) => r.error!.message)).toEqual(["Driftwatch stopped during the remediation's apply"]);

    // Checks go on, but nothing is applied again on its own.
    expect((await check("gated")).byStack.gated!.remediation).toMatchObject({ decision: "needs-attention" });
    expect(applies()).toBe(2);

    // A person's converge is the new decision; after it, remediation is automatic again.
    expect((await driftwatch(["--config", config, "converge", "gated"])).code).toBe(0);
    expect(applies()).toBe(3);
    expect((await check("gated")).byStack.gated).toMatchObject({ verdict: "in-sync" });
    unlinkSync(file("gated", "a"));
    expect((await check("gated")).byStack.gated).toMatchObject({ verdict: "in-sync", remediation: { decision: "applied" } });
    expect(applies()).toBe(4);
  }, engineTimeout(6));

  it("refuses a commit signed by an unknown key, and remediates from one signed by a trusted key", async () => {
    const signWith = (key: string) => ["-c", "gpg.format=ssh", "-c", `user.signingkey=${join(keys, key)}`];
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "someone@example.com", "-f", join(keys, "someone")]);
    git(repo, ...signWith("someone"), "commit", "-q", "--allow-empty", "-S", "-m", "signed by somebody");
    const untrusted = await check("signed");
    expect(untrusted.byStack.signed!.remediation).toMatchObject({ decision: "refused", reason: expect.stringMatching(/signature is not trusted \(No principal matched/) });
    expect(readFileSync(file("signed", "a"), "utf8")).toBe("edited by hand\n");

    git(repo, ...signWith("release"), "commit", "-q", "--allow-empty", "-S", "-m", "signed release");
    const { byStack } = await check("signed");
    expect(byStack.signed).toMatchObject({ verdict: "in-sync", remediation: { decision: "applied" } });
    expect(readFileSync(file("signed", "a"), "utf8")).toBe("alpha\n");
  }, engineTimeout(3));

  it("verifies OpenPGP signatures against the armored public keys it trusts", async () => {
    const [release, someone] = gpgKeys;
    writeFileSync(file("gpg-signed", "a"), "edited by hand\n");
    someone!.commit(repo, "signed with an OpenPGP key nobody trusts");
    const untrusted = await check("gpg-signed");
    expect(untrusted.byStack["gpg-signed"]!.remediation).toMatchObject({ decision: "refused", reason: expect.stringMatching(/signature is not trusted \(No public key/) });
    expect(readFileSync(file("gpg-signed", "a"), "utf8")).toBe("edited by hand\n");

    release!.commit(repo, "signed with the release OpenPGP key");
    const { byStack } = await check("gpg-signed");
    expect(byStack["gpg-signed"]).toMatchObject({ verdict: "in-sync", remediation: { decision: "applied" } });
    const [applied] = await auditOf("gpg-signed");
    expect(applied!.guards.find((g) => g.guard === "signature")).toMatchObject({ passed: true, reason: expect.stringContaining(`carries a signature by a key of ${join(keys, "release.asc")}`) });
  }, engineTimeout(4));
});

describe("remediation on a Pulumi stack", () => {
  /** The demo-files program as stack `web` in `root` with `remediation: { mode: auto }` and `extra` lines, converged. */
  async function convergedWeb(root: string, extra: string[], alerts = ["alerts: { log: false }"]) {
    const repo = createProgramRepo(join(root, "repo"));
    const config = join(root, "driftwatch.yaml");
    const dir = join(root, "world");
    const lines = [
      `dataDir: ${join(root, "data")}`,
      `cacheDir: ${sharedCacheDir}`,
      ...alerts,
      "stacks:",
      ...pulumiStackYaml({ name: "web", repo, path: "stacks/app", stack: "dev", passphrase: "remediation-test", world: dir }),
      "    remediation: { mode: auto }",
      ...extra,
    ];
    writeFileSync(config, `${lines.join("\n")}\n`);
    const converged = await driftwatch(["--config", config, "converge", "web"]);
    expect(converged.code, converged.stderr).toBe(0);
    return { root, config, dir };
  }

  it("never reports an ignored property as drift, and refuses a plan that would revert it", async () => {
    const { config, dir } = await convergedWeb(tempDir(), ['    ignore: [{ type: "pulumi-nodejs:dynamic:Resource", paths: [content] }]']);

    writeFileSync(join(dir, "motd.txt"), "edited by hand\n");
    const ignored = await driftwatch(["--config", config, "check", "--json"]);
    expect(results(ignored.stdout).web, ignored.stderr).toMatchObject({ verdict: "in-sync", changes: [] });
    expect(results(ignored.stdout).web!.remediation).toBeUndefined();

    // A drift that is not ignored: the plan to undo it would also put motd's content back, so it is refused.
    unlinkSync(join(dir, "settings.ini"));
    const run = await driftwatch(["--config", config, "check", "--json"]);
    const web = results(run.stdout).web!;
    expect(web.changes.map((c) => [c.kind, c.action, c.address.split("::").at(-1)])).toEqual([["drift", "delete", "settings"]]);
    expect(web.remediation).toMatchObject({ decision: "refused", reason: "the plan would revert ignored content of urn:pulumi:dev::demo-files::pulumi-nodejs:dynamic:Resource::motd" });
    expect(readFileSync(join(dir, "motd.txt"), "utf8")).toBe("edited by hand\n");
    expect(existsSync(join(dir, "settings.ini"))).toBe(false);
  }, engineTimeout(19));

  it("holds `up` to the judged preview's update plan: a program that declares something else on up is refused by Pulumi", async () => {
    const { root, config, dir } = await convergedWeb(tempDir(), []);
    const dataDir = join(root, "data");
    const program = readFileSync(join(repoRoot, "test", "fixtures", "pulumi-deviating-program", "index.ts"), "utf8");
    commitFiles(join(root, "repo"), { "stacks/app/index.ts": program }, "motd: other content, but only when not a dry run");
    writeFileSync(join(dir, "motd.txt"), "edited by hand\n");

    const run = await driftwatch(["--config", config, "check", "--json"]);
    const web = results(run.stdout).web!;
    const motd = "urn:pulumi:dev::demo-files::pulumi-nodejs:dynamic:Resource::motd";
    expect(web.remediation, run.stderr).toMatchObject({ decision: "failed", reason: expect.stringMatching(/^PlanViolationError: pulumi refused the apply of stack web: it went outside the judged plan/) });
    expect(web.remediation!.reason).toContain(`${motd}: it violates the plan: properties changed`);
    // Nothing outside the judged plan (put motd's content back) was applied: the file still holds the hand edit.
    expect(readFileSync(join(dir, "motd.txt"), "utf8")).toBe("edited by hand\n");
    const audit = await driftwatch(["--config", config, "audit", "web", "--json"]);
    const [entry] = (JSON.parse(audit.stdout) as { entries: AuditEntry[] }).entries;
    expect(entry).toMatchObject({ decision: "failed", reason: web.remediation!.reason, planChanges: 1 });

    // Pulumi's own refusal shows the declared value, a secret, in plain text: none of it is kept anywhere, and the
    // private directory that held the update plan is gone.
    const secret = "taken-over-on-up";
    expect(run.stdout + run.stderr).not.toContain(secret);
    const kept = readdirSync(dataDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(kept.filter((e) => readFileSync(join(e.parentPath, e.name)).includes(secret)).map((e) => join(e.parentPath, e.name))).toEqual([]);
    const home = join(dataDir, "pulumi", "web");
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(readdirSync(home).filter((name) => name.startsWith("plans-"))).toEqual([]);
  }, engineTimeout(20));

  describe("a resource something besides Git keeps rewriting", () => {
    // One converged stack for both tests: the first edit is put right through a re-previewed plan, and so is the
    // next, which makes the resource flap (the threshold is 2: counting to a threshold is src/core/flapping.spec.ts's
    // business; this is about remediation rounds being counted, flagged and alerted on).
    let web: Awaited<ReturnType<typeof convergedWeb>>;
    const runs: CliRun[] = [];
    const motd = () => join(web.dir, "motd.txt");
    /** The other owner writes motd; the check finds the drift and remediation puts Git's content back. */
    const rewrite = async () => {
      writeFileSync(motd(), `written by the other owner, round ${runs.length + 1}\n`);
      const run = await driftwatch(["--config", web.config, "check", "--json"]);
      expect(results(run.stdout).web, run.stderr).toMatchObject({ verdict: "in-sync", remediation: { decision: "applied" } });
      expect(readFileSync(motd(), "utf8")).toBe("Welcome. This file is watched by Driftwatch.\n");
      runs.push(run);
    };
    beforeAll(async () => {
      web = await convergedWeb(mkdtempSync(join(tmpdir(), "driftwatch-remediation-web-")), ["    flapping: { threshold: 2, windowHours: 1 }"], []);
    }, engineTimeout(8));
    afterAll(() => web && rmSync(web.root, { recursive: true, force: true }));

    it("converges an out-of-band edit through a re-previewed plan", async () => {
      await rewrite();
      expect(results(runs[0]!.stdout).web!.flapping).toBeUndefined();
    }, engineTimeout(12));

    it("flags a resource remediation keeps putting right as flapping, and the alert suggests an ignore rule", async () => {
      while (runs.length < 2) await rewrite(); // the first round is the test above's (or this one's, run alone)
      expect(results(runs[0]!.stdout).web!.flapping).toBeUndefined();
      const address = "urn:pulumi:dev::demo-files::pulumi-nodejs:dynamic:Resource::motd";
      expect(results(runs[1]!.stdout).web!.flapping).toEqual([{ address, type: "pulumi-nodejs:dynamic:Resource", times: 2, since: expect.any(String), paths: ["content"] }]);

      // The second episode is flagged, and its alert names the ignore rule that would end the churn.
      const alerts = runs[1]!.stderr.split("\n").filter((l) => l.includes('"alert":"episode-opened"')).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ flapping: [{ address, times: 2 }], suggestedIgnore: [{ type: "pulumi-nodejs:dynamic:Resource", paths: ["content"] }] });
    }, engineTimeout(25));
  });
});
