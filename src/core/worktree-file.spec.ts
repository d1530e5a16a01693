import { execFileSync } from "node:child_process";
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../test/support/tempdir.ts";
import { ProgramError } from "./errors.ts";
import { readWorktreeFile, resolveWorktreeFile, UnsafePathError, worktreeFolder, type WorktreeFolder } from "./worktree-file.ts";

const SECRET = "aws_secret_access_key = wJalrXUtnFEMI-outside-the-worktree";

/** A worktree with a project folder `infra`, a shared folder beside it, and a secret file outside the worktree. */
function layout(): { folder: WorktreeFolder; outside: string } {
  const base = tempDir();
  const root = join(base, "worktree");
  mkdirSync(join(root, "infra"), { recursive: true });
  mkdirSync(join(root, "shared"), { recursive: true });
  writeFileSync(join(root, "infra", "template.yaml"), "Resources: {}\n");
  writeFileSync(join(root, "shared", "common.tfvars"), 'region = "eu-west-1"\n');
  const outside = join(base, "credentials");
  writeFileSync(outside, `${SECRET}\n`);
  return { folder: worktreeFolder(join(root, "infra"), "infra"), outside };
}

const ref = (path: string) => ({ stack: "web", key: "cloudformation.template", path });

async function refusal(folder: WorktreeFolder, path: string, maxBytes?: number): Promise<UnsafePathError> {
  const read = await readWorktreeFile(folder, ref(path), { maxBytes }).catch((e: unknown) => e);
  const resolved = await resolveWorktreeFile(folder, ref(path), { maxBytes }).catch((e: unknown) => e);
  expect(read).toBeInstanceOf(UnsafePathError);
  expect(resolved).toBeInstanceOf(UnsafePathError);
  expect((read as Error).message).toBe((resolved as Error).message);
  expect(read).toMatchObject({ stackName: "web", key: "cloudformation.template", path });
  expect((read as Error).message).not.toContain("wJalrXUtnFEMI");
  return read as UnsafePathError;
}

describe("worktreeFolder", () => {
  it("finds the worktree root source.path levels above the project folder", () => {
    expect(worktreeFolder("/w/abc/stacks/app", "stacks/app").root).toBe("/w/abc");
    expect(worktreeFolder("/w/abc/stacks/app", "./stacks/x/../app/").root).toBe("/w/abc");
    expect(worktreeFolder("/w/abc", ".").root).toBe("/w/abc");
    expect(() => worktreeFolder("/w", "../x")).toThrow(ProgramError);
  });
});

describe("reading a file the configuration names", () => {
  it("reads a regular file in the project folder, and returns its real path", async () => {
    const { folder } = layout();
    expect(await readWorktreeFile(folder, ref("template.yaml"))).toBe("Resources: {}\n");
    expect(await resolveWorktreeFile(folder, ref("template.yaml"))).toBe(realpathSync(join(folder.dir, "template.yaml")));
  });

  it("follows '..' and symbolic links that stay inside the worktree", async () => {
    const { folder } = layout();
    expect(await readWorktreeFile(folder, ref("../shared/common.tfvars"))).toBe('region = "eu-west-1"\n');
    symlinkSync("../shared/common.tfvars", join(folder.dir, "linked.tfvars"));
    expect(await readWorktreeFile(folder, ref("linked.tfvars"))).toBe('region = "eu-west-1"\n');
    expect(await resolveWorktreeFile(folder, ref("linked.tfvars"))).toBe(realpathSync(join(folder.root, "shared", "common.tfvars")));
  });

  it("refuses a symbolic link out of the worktree, without a byte of the file or where the link points", async () => {
    const { folder, outside } = layout();
    symlinkSync(outside, join(folder.dir, "creds.yaml"));
    const error = await refusal(folder, "creds.yaml");
    expect(error.message).toBe("stack web: cloudformation.template 'creds.yaml' is a symbolic link to a place outside the repository's worktree; refused");
    expect(error.message).not.toContain(outside);
    // A linked folder that leads out is the same.
    symlinkSync(join(outside, ".."), join(folder.dir, "up"));
    await refusal(folder, "up/credentials");
  });

  it("refuses '..' that leaves the worktree, and absolute paths", async () => {
    const { folder } = layout();
    expect((await refusal(folder, "../../credentials")).message).toMatch(/'\.\.\/\.\.\/credentials' leaves the repository's worktree; refused$/);
    expect((await refusal(folder, "/etc/passwd")).message).toMatch(/is an absolute path/);
  });

  it("refuses a link to /dev/zero, a FIFO and a directory: never opened, never read", async () => {
    const { folder } = layout();
    symlinkSync("/dev/zero", join(folder.dir, "zero.yaml"));
    expect((await refusal(folder, "zero.yaml")).message).toMatch(/is a symbolic link to a place outside/);
    // Inside the worktree, a device or FIFO is refused for what it is (a reader would block or never end).
    execFileSync("mkfifo", [join(folder.dir, "fifo.yaml")]);
    expect((await refusal(folder, "fifo.yaml")).message).toBe("stack web: cloudformation.template 'fifo.yaml' is a FIFO, not a regular file; refused");
    mkdirSync(join(folder.dir, "dir.yaml"));
    expect((await refusal(folder, "dir.yaml")).message).toMatch(/is a directory, not a regular file; refused$/);
  });

  it("refuses a file over the size limit, saying why the limit is what it is", async () => {
    const { folder } = layout();
    writeFileSync(join(folder.dir, "big.yaml"), "x".repeat(2049));
    expect((await refusal(folder, "big.yaml", 2048)).message).toMatch(/'big\.yaml' is 2049 bytes, more than the 2048 allowed; refused$/);
    expect(await readWorktreeFile(folder, ref("big.yaml"), { maxBytes: 2049 })).toHaveLength(2049);
    const why = await readWorktreeFile(folder, ref("big.yaml"), { maxBytes: 100, why: "the engine takes no more" }).catch((e: unknown) => e);
    expect((why as Error).message).toMatch(/more than the 100 allowed \(the engine takes no more\); refused$/);
    // The default limit: 1 MiB.
    writeFileSync(join(folder.dir, "huge.yaml"), Buffer.alloc(1024 * 1024 + 1, "a"));
    expect((await refusal(folder, "huge.yaml")).message).toMatch(/is 1048577 bytes, more than the 1048576 allowed/);
  });

  it("says a missing file is missing (a ProgramError, not a refusal)", async () => {
    const { folder } = layout();
    const error = await readWorktreeFile(folder, ref("nope.yaml")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProgramError);
    expect(error).not.toBeInstanceOf(UnsafePathError);
    expect((error as Error).message).toBe("stack web: cloudformation.template 'nope.yaml' does not exist in the repository at this commit");
  });
});
