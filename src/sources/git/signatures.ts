// Whether a commit carries a good signature by one of the keys an operator trusts, and nothing else.
//
// `git verify-commit` alone is not that: git picks the verifier from the signature's armor header, not from
// gpg.format, so against an SSH allowed-signers file it still accepts an OpenPGP signature that the service
// user's own ~/.gnupg can verify (and, against OpenPGP keys, an SSH signature the user's gpg.ssh.allowedSignersFile
// lists). So here:
//   1. the signature's format is read from the commit object and must be the format of `trustedKeys`
//      (SSH allowed-signers file, or ASCII-armored OpenPGP public keys); any other format is refused unverified;
//   2. git verifies in a throwaway, otherwise empty GnuPG home (holding only the trusted OpenPGP keys, or nothing
//      for SSH) with the verifier programs and the allowed-signers file pinned, so no key of the user's counts;
//   3. only status G (good signature from a trusted key) passes, and the signing key's fingerprint must be one of
//      `trustedKeys`' own.
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OutputTooLargeError, TimeoutError } from "../../core/errors.ts";
import { DEFAULT_MAX_OUTPUT_BYTES, runTool, type ToolRun } from "../../core/process.ts";

export interface SignatureCheck {
  verified: boolean;
  /** Why, in words a reviewer understands: the commit, the key or what was wrong. */
  detail: string;
}

export interface VerifyCommitOptions {
  /** A repository holding `commit` (GitSource passes the mirror, never a worktree a run could have changed). */
  repository: string;
  commit: string;
  /** Absolute path of an SSH allowed-signers file or of ASCII-armored OpenPGP public keys. */
  trustedKeys: string;
  /** The environment git runs in (GNUPGHOME is replaced). */
  env: Record<string, string>;
  /** Stops the verification (the run's timeout, Driftwatch stopping); it then throws TimeoutError. */
  signal?: AbortSignal;
  /** Applied to whatever a tool printed before it reaches a detail. */
  redact?: (text: string) => string;
}

export type SignatureFormat = "openpgp" | "ssh" | "x509";

const FORMAT_NAMES: Record<SignatureFormat, string> = { openpgp: "OpenPGP", ssh: "SSH", x509: "X.509" };

/** The armor header that tells git (and us) which verifier a signature is for. */
const ARMOR: Record<string, SignatureFormat> = {
  "-----BEGIN PGP SIGNATURE-----": "openpgp",
  "-----BEGIN PGP MESSAGE-----": "openpgp",
  "-----BEGIN SSH SIGNATURE-----": "ssh",
  "-----BEGIN SIGNED MESSAGE-----": "x509",
};

/** What git's %G? letters other than G say. */
const STATUS: Record<string, string> = {
  B: "bad signature",
  U: "good signature by a key trustedKeys does not list",
  X: "the signature has expired",
  Y: "the key has expired",
  R: "the key is revoked",
  E: "the signature cannot be checked",
  N: "no signature",
};

/** No single git or gpg call of a verification takes longer than this, whatever the run's timeout. */
const CALL_LIMIT_MS = 30_000;

/** The format of `trustedKeys`: armored OpenPGP public keys, or else an SSH allowed-signers file. */
export function trustedKeysFormat(text: string): "openpgp" | "ssh" {
  return text.includes("-----BEGIN PGP PUBLIC KEY BLOCK-----") ? "openpgp" : "ssh";
}

/**
 * The format of a raw commit object's signature (`gpgsig`, or `gpgsig-sha256` in SHA-256 repositories): undefined
 * when it has none, "unknown" for an armor header git does not know either.
 */
export function commitSignatureFormat(rawCommit: string): SignatureFormat | "unknown" | undefined {
  const headers = rawCommit.split("\n\n", 1)[0]!;
  const line = /^gpgsig(?:-sha256)? (.*)$/m.exec(headers)?.[1]?.trim();
  if (line === undefined) return undefined;
  return ARMOR[line] ?? "unknown";
}

/**
 * The SHA256 fingerprints (as ssh-keygen and git's %GF print them, "SHA256:…") of the public keys an
 * allowed-signers file lists (`principals [options] keytype base64 [comment]`). A line's key is the first
 * base64 blob that encodes its own key type, so options and comments never pass for a key.
 */
export function allowedSignerFingerprints(text: string): string[] {
  const fingerprints: string[] = [];
  for (const line of text.split("\n")) {
    if (/^\s*(#|$)/.test(line)) continue;
    for (const [, type, blob] of line.matchAll(/(?:^|\s)(\S+)\s+([A-Za-z0-9+/]+={0,2})(?=\s|$)/g)) {
      const key = Buffer.from(blob!, "base64");
      const length = key.length >= 4 ? key.readUInt32BE(0) : -1;
      if (length > 0 && key.subarray(4, 4 + length).toString("latin1") === type) {
        fingerprints.push(`SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`);
        break;
      }
    }
  }
  return fingerprints;
}

/** The primary keys' fingerprints in `gpg --with-colons --list-keys` output. */
function primaryFingerprints(colons: string): string[] {
  const fingerprints: string[] = [];
  let afterPrimary = false;
  for (const line of colons.split("\n")) {
    const fields = line.split(":");
    if (fields[0] === "pub") afterPrimary = true;
    else if (fields[0] === "fpr" && afterPrimary) {
      fingerprints.push(fields[9]!.toUpperCase());
      afterPrimary = false;
    } else if (fields[0] !== "fpr") afterPrimary = false;
  }
  return fingerprints;
}

/**
 * Whether `commit` carries a good signature, in the format of `trustedKeys`, by one of its keys (see the top of
 * this file). Never throws for a bad, missing or foreign signature; throws TimeoutError when `signal` stops it, and
 * OutputTooLargeError when a tool prints more than runTool keeps (a commit object of more than 64 MiB).
 */
export async function verifyCommitSignature(options: VerifyCommitOptions): Promise<SignatureCheck> {
  const { repository, commit, trustedKeys } = options;
  const redact = options.redact ?? ((text: string) => text);
  const short = commit.slice(0, 12);
  const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(CALL_LIMIT_MS)]) : AbortSignal.timeout(CALL_LIMIT_MS);
  const refused = (why: string): SignatureCheck => ({ verified: false, detail: `commit ${short}'s signature is not trusted (${redact(why)}; keys: ${trustedKeys})` });

  let keysText: string;
  try {
    keysText = await readFile(trustedKeys, "utf8");
  } catch (error) {
    return { verified: false, detail: `cannot read trustedKeys ${trustedKeys}: ${(error as NodeJS.ErrnoException).code ?? String(error)}` };
  }
  const wanted = trustedKeysFormat(keysText);

  // A private GnuPG home for every verification: for SSH it stays empty, so no OpenPGP key of anyone verifies.
  const home = await mkdtemp(join(tmpdir(), "driftwatch-gpg-"));
  const call = async (command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<ToolRun> => {
    const result = await runTool(command, args, { cwd: repository, env, signal, graceMs: 1_000 });
    if (result.aborted) throw new TimeoutError(`verifying the signature of commit ${short} was stopped before it finished (timeout or shutdown)`);
    if (result.outputTooLarge) throw new OutputTooLargeError(`${command}, verifying the signature of commit ${short},`, DEFAULT_MAX_OUTPUT_BYTES);
    return result;
  };
  const gitEnv = { ...options.env, GNUPGHOME: home };
  try {
    const raw = await call("git", ["cat-file", "commit", commit], gitEnv);
    if (raw.code !== 0) return { verified: false, detail: `cannot read commit ${short}: ${redact(raw.stderr.trim())}` };
    const format = commitSignatureFormat(raw.stdout);
    if (format === undefined) return { verified: false, detail: `commit ${short} is not signed` };
    if (format !== wanted) {
      const found = format === "unknown" ? "a signature of an unknown format" : `an ${FORMAT_NAMES[format]} signature`;
      return refused(`it carries ${found}, and trustedKeys holds ${FORMAT_NAMES[wanted]} keys: only ${FORMAT_NAMES[wanted]} signatures by them count`);
    }

    // No gpg-agent or other daemon is ever started in the throwaway home.
    await writeFile(join(home, "gpg.conf"), "no-autostart\n", { mode: 0o600 });
    const gpg = (...args: string[]) => call("gpg", ["--batch", "--quiet", "--homedir", home, ...args], options.env);
    let accepted: string[];
    if (wanted === "openpgp") {
      const imported = await gpg("--import", "--", trustedKeys);
      if (imported.code !== 0) return { verified: false, detail: `cannot read the OpenPGP keys in ${trustedKeys}: ${redact(imported.stderr.trim())}` };
      accepted = primaryFingerprints((await gpg("--with-colons", "--list-keys")).stdout);
      // The operator trusts these keys by listing them: a good signature by one of them is G, not "unknown validity".
      await writeFile(join(home, "ownertrust.txt"), accepted.map((fpr) => `${fpr}:6:\n`).join(""));
      const trusted = await gpg("--import-ownertrust", "--", join(home, "ownertrust.txt"));
      if (trusted.code !== 0) return { verified: false, detail: `cannot trust the OpenPGP keys in ${trustedKeys}: ${redact(trusted.stderr.trim())}` };
    } else {
      accepted = allowedSignerFingerprints(keysText);
    }
    if (accepted.length === 0) return { verified: false, detail: `trustedKeys ${trustedKeys} lists no ${FORMAT_NAMES[wanted]} public key` };

    const empty = join(home, "no-signers");
    await writeFile(empty, "");
    const pinned = [
      `gpg.format=${wanted}`,
      "gpg.openpgp.program=gpg",
      "gpg.ssh.program=ssh-keygen",
      `gpg.ssh.allowedSignersFile=${wanted === "ssh" ? trustedKeys : empty}`,
      "log.showSignature=false",
    ].flatMap((setting) => ["-c", setting]);
    const shown = await call("git", [...pinned, "log", "-1", "--format=%G?%n%GF%n%GP%n%GG", commit, "--"], gitEnv);
    if (shown.code !== 0) return { verified: false, detail: `cannot verify commit ${short}: ${redact(shown.stderr.trim())}` };
    const [status = "", signingKey = "", primaryKey = "", ...messages] = shown.stdout.split("\n");
    const message = messages.join("\n");
    const keyOf = wanted === "openpgp" ? primaryKey.toUpperCase() : signingKey;
    if (status !== "G") {
      const reason = /No principal matched|No public key|Could not verify|Bad signature|ERROR[^\n]*/i.exec(message)?.[0] ?? STATUS[status] ?? `git reports signature status '${status}'`;
      return refused(reason);
    }
    if (!accepted.includes(keyOf)) return refused(`signed by key ${keyOf || "(none named)"}, which trustedKeys does not list`);
    return { verified: true, detail: `commit ${short} carries a signature by a key of ${trustedKeys} (${FORMAT_NAMES[wanted]} key ${keyOf})` };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
