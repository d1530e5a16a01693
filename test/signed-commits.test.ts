// `requireSignedCommit: { before: check }` on real OpenTofu stacks, real git, gpg and ssh-keygen: a commit without
// a good signature by a key of the stack's trustedKeys is that run's error (recorded, alerted) and no engine ever
// starts on it; keys the service user merely has (in ~/.gnupg, or in their git config's allowed signers) count
// for nothing; an earlier verified commit is never used in its place.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StackResult } from "../src/core/types.ts";
import { openSqliteStore } from "../src/store/sqlite/index.ts";
import { driftwatch } from "./support/cli.ts";
import { commitFiles, git } from "./support/git.ts";
import { gpgKey, type GpgKey } from "./support/gpg.ts";
import { localFilesModule } from "./support/terraform-modules.ts";
import { engineTimeout } from "./support/timeouts.ts";

interface LogLine {
  msg: string;
  stack?: string;
  alert?: string;
  error?: { kind: string; message: string };
}

describe("requireSignedCommit: { before: check } on OpenTofu stacks", () => {
  const root = mkdtempSync(join(tmpdir(), "driftwatch-signed-"));
  const repo = join(root, "repo");
  const keys = join(root, "keys");
  const dataDir = join(root, "data");
  const config = join(root, "driftwatch.yaml");
  const gpgKeys: GpgKey[] = [];
  let serviceEnv: NodeJS.ProcessEnv;

  const sshSign = (key: string) => ["-c", "gpg.format=ssh", "-c", `user.signingkey=${join(keys, key)}`];
  /** Branch `name` off main with one more (empty) commit made by `commit`; returns the commit. */
  const branch = (name: string, commit: () => void) => {
    git(repo, "checkout", "-q", "-b", name, "main");
    commit();
    return git(repo, "rev-parse", "HEAD");
  };
  const check = async (...names: string[]) => {
    const run = await driftwatch(["--config", config, "check", "--json", ...names], serviceEnv);
    const byStack = Object.fromEntries((JSON.parse(run.stdout) as { results: StackResult[] }).results.map((r) => [r.stack, r]));
    const logs = run.stderr.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as LogLine);
    return { ...run, byStack, logs };
  };
  /** Whether an engine ever started for the stack: OpenTofu's data dir for it is the first thing the engine creates. */
  const engineStarted = (stack: string) => existsSync(join(dataDir, "terraform", stack));

  // name → [branch, trustedKeys]
  const stacks: Record<string, [string, string]> = {
    unsigned: ["unsigned", "allowed_signers"],
    "openpgp-vs-ssh": ["openpgp-signed", "allowed_signers"],
    "ssh-vs-openpgp": ["ssh-signed-by-intruder", "release.asc"],
    "ssh-signed": ["ssh-signed", "allowed_signers"],
    "openpgp-signed": ["openpgp-signed-by-release", "release.asc"],
  };

  beforeAll(() => {
    mkdirSync(keys);
    for (const name of ["release", "intruder"]) execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `${name}@example.com`, "-f", join(keys, name)]);
    writeFileSync(join(keys, "allowed_signers"), `release@example.com ${readFileSync(join(keys, "release.pub"), "utf8")}`);
    const [release, intruder] = [gpgKey("Release <release@example.com>"), gpgKey("Intruder <intruder@example.com>")];
    gpgKeys.push(release, intruder);
    writeFileSync(join(keys, "release.asc"), release.publicKey);
    // What the service user has of their own: the intruder's OpenPGP key in their keyring (GNUPGHOME), and the
    // intruder's SSH key in the allowed signers their git config names. Neither is a key any stack trusts.
    writeFileSync(join(keys, "user_allowed_signers"), `* ${readFileSync(join(keys, "intruder.pub"), "utf8")}`);
    writeFileSync(join(root, "gitconfig"), `[gpg "ssh"]\n\tallowedSignersFile = ${join(keys, "user_allowed_signers")}\n`);
    serviceEnv = { GNUPGHOME: intruder.home, GIT_CONFIG_GLOBAL: join(root, "gitconfig") };

    git(root, "init", "-q", "-b", "main", repo);
    commitFiles(repo, { "main.tf": localFilesModule({ a: "alpha\n" }) }, "module, unsigned");
    branch("unsigned", () => undefined);
    branch("openpgp-signed", () => intruder.commit(repo, "signed with the intruder's OpenPGP key"));
    branch("ssh-signed-by-intruder", () => git(repo, ...sshSign("intruder"), "commit", "-q", "--allow-empty", "-S", "-m", "signed with the intruder's SSH key"));
    branch("ssh-signed", () => git(repo, ...sshSign("release"), "commit", "-q", "--allow-empty", "-S", "-m", "signed with the release SSH key"));
    branch("openpgp-signed-by-release", () => release.commit(repo, "signed with the release OpenPGP key"));

    const lines = [`dataDir: ${dataDir}`, "alerts: { log: true }", "stacks:"];
    for (const [name, [ref, trusted]] of Object.entries(stacks)) {
      lines.push(
        `  - name: ${name}`,
        "    engine: terraform",
        `    source: { repo: ${repo}, ref: ${ref} }`,
        `    terraform: { binary: tofu, vars: { dir: ${join(root, "world", name)} } }`,
        `    remediation: { requireSignedCommit: { before: check }, trustedKeys: ${join(keys, trusted)} }`,
      );
    }
    writeFileSync(config, `${lines.join("\n")}\n`);
  });
  afterAll(() => {
    gpgKeys.forEach((k) => k.dispose());
    rmSync(root, { recursive: true, force: true });
  });

  it("never starts an engine on a commit without a good signature by a trusted key, and records and alerts that as the run's error", async () => {
    const run = await check();
    expect(run.code, run.stderr).toBe(1);
    const commitOf = (ref: string) => git(repo, "rev-parse", ref);

    const refused = {
      unsigned: `commit ${commitOf("unsigned").slice(0, 12)} is not signed`,
      "openpgp-vs-ssh": "it carries an OpenPGP signature, and trustedKeys holds SSH keys",
      "ssh-vs-openpgp": "it carries an SSH signature, and trustedKeys holds OpenPGP keys",
    };
    for (const [stack, why] of Object.entries(refused)) {
      const commit = commitOf(stacks[stack]![0]);
      expect(run.byStack[stack], stack).toMatchObject({ verdict: "error", commit, changes: [], error: { kind: "UnverifiedCommitError" } });
      const message = run.byStack[stack]!.error!.message;
      expect(message).toContain(`stack ${stack}: commit ${commit} was not run`);
      expect(message).toContain(why);
      expect(engineStarted(stack), stack).toBe(false);
      expect(run.logs.some((l) => l.stack === stack && l.msg === "detecting"), stack).toBe(false);
      // Alerted like any failed run.
      expect(run.logs.find((l) => l.stack === stack && l.alert === "run-failed")?.error, stack).toMatchObject({ kind: "UnverifiedCommitError" });
    }
    // What `git verify-commit` alone says in the service user's environment: both foreign signatures "verify".
    const verifyCommit = (ref: string, ...config: string[]) => execFileSync("git", [...config, "verify-commit", ref], { cwd: repo, env: { ...process.env, ...serviceEnv }, stdio: "ignore" });
    expect(() => verifyCommit("openpgp-signed", "-c", `gpg.ssh.allowedSignersFile=${join(keys, "allowed_signers")}`)).not.toThrow();
    expect(() => verifyCommit("ssh-signed-by-intruder")).not.toThrow();

    // A good signature by a trusted key, in either format: checked as usual (the module's file is still to create).
    for (const stack of ["ssh-signed", "openpgp-signed"]) {
      expect(run.byStack[stack], stack).toMatchObject({ verdict: "pending", commit: commitOf(stacks[stack]![0]) });
      expect(run.byStack[stack]!.error, stack).toBeUndefined();
      expect(engineStarted(stack), stack).toBe(true);
    }

    const store = await openSqliteStore(join(dataDir, "driftwatch.db"));
    try {
      expect(await store.listRuns({ stack: "unsigned" })).toMatchObject([{ verdict: "error", error: { kind: "UnverifiedCommitError" } }]);
    } finally {
      await store.close();
    }
  }, engineTimeout(20));

  it("does not fall back to the last verified commit when the branch moves to an unverified one", async () => {
    git(repo, "checkout", "-q", "ssh-signed");
    const unsigned = commitFiles(repo, { "main.tf": localFilesModule({ a: "alpha\n", b: "bravo\n" }) }, "unsigned, on top of a signed commit");
    const { byStack, logs } = await check("ssh-signed");
    expect(logs.some((l) => l.msg === "detecting")).toBe(false);
    expect(byStack["ssh-signed"]).toMatchObject({ verdict: "error", commit: unsigned, changes: [], error: { kind: "UnverifiedCommitError" } });
    expect(byStack["ssh-signed"]!.error!.message).toContain(`commit ${unsigned.slice(0, 12)} is not signed`);
  }, engineTimeout(5));
});
