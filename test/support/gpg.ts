// Real OpenPGP keys for signed-commit tests: each key in a GnuPG home of its own (short path: gpg-agent's socket
// lives there), its public half exported ASCII-armored, as a user would hand Driftwatch.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gitWithEnv } from "./git.ts";

export interface GpgKey {
  home: string;
  fingerprint: string;
  /** The public key, ASCII-armored. */
  publicKey: string;
  /** Commits (empty) signed with this key in `repo`. */
  commit(repo: string, message: string): void;
  /** Stops the key's gpg-agent and removes its home. */
  dispose(): void;
}

export function gpgKey(uid: string): GpgKey {
  const home = mkdtempSync(join(tmpdir(), "dw-gpg-"));
  const gpg = (...args: string[]) => execFileSync("gpg", ["--batch", "--homedir", home, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  gpg("--passphrase", "", "--pinentry-mode", "loopback", "--quick-gen-key", uid, "ed25519", "sign", "never");
  const fingerprint = /^fpr:+([0-9A-F]+):/m.exec(gpg("--with-colons", "--list-keys", uid))![1]!;
  return {
    home,
    fingerprint,
    publicKey: gpg("--armor", "--export", fingerprint),
    commit(repo, message) {
      gitWithEnv(repo, { GNUPGHOME: home }, "-c", "gpg.format=openpgp", "-c", `user.signingkey=${fingerprint}`, "commit", "-q", "--allow-empty", "-S", "-m", message);
    },
    dispose() {
      execFileSync("gpgconf", ["--homedir", home, "--kill", "gpg-agent"], { stdio: "ignore" });
      rmSync(home, { recursive: true, force: true });
    },
  };
}
