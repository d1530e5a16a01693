// Commit signatures, with real git, gpg and ssh-keygen: only a good signature, in the format of trustedKeys, by
// one of its keys verifies; a key the service user merely has (in ~/.gnupg, or in their git config's allowed
// signers) never does.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitFiles, git, gitWithEnv } from "../../../test/support/git.ts";
import { gpgKey, type GpgKey } from "../../../test/support/gpg.ts";
import { tempDir } from "../../../test/support/tempdir.ts";
import { allowedSignerFingerprints, commitSignatureFormat, verifyCommitSignature } from "./signatures.ts";

function sshKey(dir: string, name: string): { path: string; publicKey: string; fingerprint: string } {
  const path = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `${name}@example.com`, "-f", path]);
  const fingerprint = execFileSync("ssh-keygen", ["-l", "-f", `${path}.pub`], { encoding: "utf8" }).split(" ")[1]!;
  return { path, publicKey: readFileSync(`${path}.pub`, "utf8").trim(), fingerprint };
}

const sshCommit = (repo: string, key: string, message: string) => {
  git(repo, "-c", "gpg.format=ssh", "-c", `user.signingkey=${key}`, "commit", "-q", "--allow-empty", "-S", "-m", message);
  return git(repo, "rev-parse", "HEAD");
};

describe("verifyCommitSignature", () => {
  const gpgKeys: GpgKey[] = [];
  let release: GpgKey;
  let intruder: GpgKey;
  beforeAll(() => {
    release = gpgKey("Release <release@example.com>");
    intruder = gpgKey("Intruder <intruder@example.com>");
    gpgKeys.push(release, intruder);
  });
  afterAll(() => gpgKeys.forEach((k) => k.dispose()));

  /** A repository, SSH keys, trustedKeys files of both formats, and what the service user has of their own. */
  function setup() {
    const root = tempDir("driftwatch-signatures-");
    const repo = join(root, "repo");
    mkdirSync(repo);
    git(repo, "init", "-q", "-b", "main");
    commitFiles(repo, { "README.md": "hi\n" }, "unsigned");
    const releaseSsh = sshKey(root, "release");
    const intruderSsh = sshKey(root, "intruder");
    const allowedSigners = join(root, "allowed_signers");
    writeFileSync(allowedSigners, `# release keys\nrelease@example.com,ci@example.com namespaces="git" ${releaseSsh.publicKey}\n`);
    const armored = join(root, "release.asc");
    writeFileSync(armored, release.publicKey);
    // The service user's own git config trusts the intruder's SSH key for everything (gpg.ssh.allowedSignersFile).
    const userSigners = join(root, "user_allowed_signers");
    writeFileSync(userSigners, `* ${intruderSsh.publicKey}\n`);
    const userConfig = join(root, "gitconfig");
    writeFileSync(userConfig, `[gpg "ssh"]\n\tallowedSignersFile = ${userSigners}\n`);
    // The service user's environment: their keyring holds the intruder's OpenPGP key (ultimately trusted, as one's own).
    const env = { ...process.env, GNUPGHOME: intruder.home, GIT_CONFIG_GLOBAL: userConfig } as Record<string, string>;
    const verify = (commit: string, trustedKeys: string) => verifyCommitSignature({ repository: repo, commit, trustedKeys, env });
    return { root, repo, releaseSsh, intruderSsh, allowedSigners, armored, env, verify };
  }

  it("accepts a good signature by a trusted key in either format, naming the key", async () => {
    const { repo, releaseSsh, allowedSigners, armored, verify } = setup();
    const sshSigned = sshCommit(repo, releaseSsh.path, "ssh-signed");
    expect(await verify(sshSigned, allowedSigners)).toEqual({
      verified: true,
      detail: `commit ${sshSigned.slice(0, 12)} carries a signature by a key of ${allowedSigners} (SSH key ${releaseSsh.fingerprint})`,
    });
    release.commit(repo, "gpg-signed");
    const gpgSigned = git(repo, "rev-parse", "HEAD");
    expect(await verify(gpgSigned, armored)).toEqual({
      verified: true,
      detail: `commit ${gpgSigned.slice(0, 12)} carries a signature by a key of ${armored} (OpenPGP key ${release.fingerprint})`,
    });
  });

  it("refuses an OpenPGP signature that only the service user's keyring verifies, against SSH trusted keys", async () => {
    const { repo, allowedSigners, env, verify } = setup();
    intruder.commit(repo, "signed with a key the service user has");
    const commit = git(repo, "rev-parse", "HEAD");
    // What plain `git verify-commit` answers in that environment: yes.
    expect(() => gitWithEnv(repo, env, "-c", `gpg.ssh.allowedSignersFile=${allowedSigners}`, "verify-commit", commit)).not.toThrow();
    expect(await verify(commit, allowedSigners)).toEqual({
      verified: false,
      detail: `commit ${commit.slice(0, 12)}'s signature is not trusted (it carries an OpenPGP signature, and trustedKeys holds SSH keys: only SSH signatures by them count; keys: ${allowedSigners})`,
    });
  });

  it("refuses an SSH signature that only the service user's git config trusts, against OpenPGP trusted keys", async () => {
    const { repo, intruderSsh, armored, env, verify } = setup();
    const commit = sshCommit(repo, intruderSsh.path, "signed with a key the user's git config trusts");
    expect(() => gitWithEnv(repo, env, "verify-commit", commit)).not.toThrow();
    expect(await verify(commit, armored)).toMatchObject({
      verified: false,
      detail: expect.stringContaining("it carries an SSH signature, and trustedKeys holds OpenPGP keys"),
    });
  });

  it("refuses unsigned commits, and good signatures by keys trustedKeys does not list", async () => {
    const { repo, intruderSsh, allowedSigners, armored, verify } = setup();
    const unsigned = git(repo, "rev-parse", "HEAD");
    expect(await verify(unsigned, allowedSigners)).toEqual({ verified: false, detail: `commit ${unsigned.slice(0, 12)} is not signed` });
    const sshSigned = sshCommit(repo, intruderSsh.path, "signed by an unknown SSH key");
    expect((await verify(sshSigned, allowedSigners)).detail).toMatch(/signature is not trusted \(No principal matched;/);
    intruder.commit(repo, "signed by an OpenPGP key not in trustedKeys");
    expect((await verify(git(repo, "rev-parse", "HEAD"), armored)).detail).toMatch(/signature is not trusted \(No public key;/);
  });
});

describe("signature formats and allowed-signers keys", () => {
  it("reads the signature format from the commit object's armor header", () => {
    const commit = (header: string) => `tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor a <a@e> 1 +0000\n${header}\n\nmessage\n -----BEGIN PGP SIGNATURE-----\n`;
    expect(commitSignatureFormat(commit("gpgsig -----BEGIN SSH SIGNATURE-----\n U1NIU0lH\n -----END SSH SIGNATURE-----"))).toBe("ssh");
    expect(commitSignatureFormat(commit("gpgsig-sha256 -----BEGIN PGP SIGNATURE-----\n \n abc"))).toBe("openpgp");
    expect(commitSignatureFormat(commit("gpgsig -----BEGIN SIGNED MESSAGE-----"))).toBe("x509");
    expect(commitSignatureFormat(commit("gpgsig -----BEGIN SOMETHING-----"))).toBe("unknown");
    // A signature-looking line in the message is no signature.
    expect(commitSignatureFormat(commit("committer a <a@e> 1 +0000"))).toBeUndefined();
  });

  it("fingerprints every key of an allowed-signers file, whatever its options and comments", () => {
    const dir = tempDir();
    const [a, b] = [sshKey(dir, "a"), sshKey(dir, "b")];
    const text = [
      "# comment ssh-ed25519 AAAA",
      `a@example.com ${a.publicKey}`,
      "",
      `b@example.com,*@ops.example.com namespaces="git,file",valid-after="20260101" ${b.publicKey.replace(/ \S+$/, "")}`,
      "broken@example.com ssh-ed25519 AAAAnotakey",
    ].join("\n");
    expect(allowedSignerFingerprints(text)).toEqual([a.fingerprint, b.fingerprint]);
  });
});
