// Skipping `init` when it would do what it did last time. A check runs the same commit with the same settings
// over and over; init each time costs a provider-cache lock (inits are serialised across every stack), a backend
// setup and a copy of the providers. After a successful init, a digest of everything init depends on is kept
// next to the stack's TF_DATA_DIR; a check whose digest matches (and whose data dir still has its providers)
// goes straight to plan. A plan that fails after a skipped init is retried after a real init (see index.ts), so
// a data dir damaged behind our back costs one retry, never a wrong answer. Converge always runs init.
//
// init also leaves a dependency lock file in the module folder when the commit has none; each check has a fresh
// worktree, so that file is kept with the digest and put back when init is skipped.
import { createHash } from "node:crypto";
import { constants, copyFileSync, existsSync, lstatSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { canonical } from "../../core/fingerprint.ts";

/** What an init's outcome depends on. `commit` undefined: unknown content, never skipped. */
export interface InitInputs {
  bin: string;
  commit: string | undefined;
  path: string;
  backendConfig: Record<string, string>;
  /** The init's environment: the CLI config and provider mirror, TF_VAR_* (OpenTofu evaluates variables early). */
  env: NodeJS.ProcessEnv;
  /** The CLI configuration's content: where providers come from (cli-config.ts). */
  cliConfig?: string;
}

export interface InitMemo {
  readonly home: string;
  readonly dataDir: string;
  /** Whether the last successful init ran with these inputs and left its providers in place. */
  matches(): boolean;
  /** After a successful init in `moduleDir`: keeps the digest and the lock file init used. */
  remember(moduleDir: string): void;
  /** Before a plan without init: gives `moduleDir` the lock file init left last time, if it has none. */
  restore(moduleDir: string): void;
  forget(): void;
}

const LOCK_FILE = ".terraform.lock.hcl";

function isRegularFile(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}

/** A digest, not the inputs: they include credentials (backend settings, variables). */
function digest(inputs: InitInputs): string {
  return createHash("sha256").update(canonical(inputs)).digest("hex");
}

export function initMemo(home: string, dataDir: string, inputs: InitInputs): InitMemo {
  const file = join(home, "init.sha256");
  const lockCopy = join(home, "init.terraform.lock.hcl");
  const key = digest(inputs);
  return {
    home,
    dataDir,
    matches() {
      if (inputs.commit === undefined || !existsSync(join(dataDir, "providers"))) return false;
      try {
        return readFileSync(file, "utf8") === key;
      } catch {
        return false;
      }
    },
    remember(moduleDir) {
      if (inputs.commit === undefined) return;
      // Only a regular file is kept: the worktree is the repository's, and a link there may point anywhere.
      if (isRegularFile(join(moduleDir, LOCK_FILE))) copyFileSync(join(moduleDir, LOCK_FILE), lockCopy);
      else rmSync(lockCopy, { force: true });
      writeFileSync(file, key, { mode: 0o600 });
    },
    restore(moduleDir) {
      if (!existsSync(lockCopy)) return;
      try {
        // EXCL: never through whatever the worktree has under that name (a committed file, a link, even a dangling one).
        copyFileSync(lockCopy, join(moduleDir, LOCK_FILE), constants.COPYFILE_EXCL);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
    },
    forget() {
      rmSync(file, { force: true });
    },
  };
}
