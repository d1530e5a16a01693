// Each Pulumi stack has a file backend of its own (<dataDir>/pulumi/<stack>/backend), so that its program, which runs
// beside the CLI in the stack's sandbox, can reach its own stack's state only. Driftwatch used to keep every stack in
// one shared backend (<dataDir>/pulumi-backend): the first run of a stack with the default backend moves that
// stack's checkpoint, history and backups over, so no state is lost and nothing is deployed twice.
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { parse } from "yaml";
import { readWorktreeFile, type WorktreeFolder } from "../../core/worktree-file.ts";

/** Where every Pulumi stack's state lived before each had its own backend. */
export function sharedBackend(dataDir: string): string {
  return join(dataDir, "pulumi-backend");
}

export interface MigrationOptions {
  dataDir: string;
  /** The stack's backend folder (the migration runs only when it is the per-stack default). */
  backend: string;
  folder: WorktreeFolder;
  /** The stack's name in Pulumi (`dev`, or `org/project/dev`). */
  pulumiStack: string;
  stack: string;
  logger: Logger;
}

const inFlight = new Map<string, Promise<void>>();

/** Moves the stack's state out of the shared backend into its own, once (see above). */
export function migrateSharedBackend(options: MigrationOptions): Promise<void> {
  if (options.backend !== join(options.dataDir, "pulumi", options.stack, "backend")) return Promise.resolve();
  if (!existsSync(join(sharedBackend(options.dataDir), ".pulumi"))) return Promise.resolve();
  const pending = inFlight.get(options.backend) ?? migrate(options).finally(() => inFlight.delete(options.backend));
  inFlight.set(options.backend, pending);
  return pending;
}

async function projectName(options: MigrationOptions): Promise<string | undefined> {
  for (const file of ["Pulumi.yaml", "Pulumi.yml"]) {
    if (!existsSync(join(options.folder.dir, file))) continue;
    const text = await readWorktreeFile(options.folder, { stack: options.stack, key: "Pulumi.yaml", path: file });
    const name = (parse(text) as { name?: unknown } | null)?.name;
    return typeof name === "string" ? name : undefined;
  }
  return undefined;
}

async function migrate(options: MigrationOptions): Promise<void> {
  const project = await projectName(options);
  if (!project) return;
  const stack = options.pulumiStack.split("/").at(-1)!;
  const from = join(sharedBackend(options.dataDir), ".pulumi");
  const to = join(options.backend, ".pulumi");
  // Project-scoped layout (meta.yaml version 1), and the older one without projects.
  const layouts = [
    { stacks: join("stacks", project), history: join("history", project, stack), backups: join("backups", project, stack) },
    { stacks: "stacks", history: join("history", stack), backups: join("backups", stack) },
  ];
  const layout = layouts.find((l) => existsSync(join(from, l.stacks, `${stack}.json`)));
  if (!layout || existsSync(join(to, layout.stacks, `${stack}.json`))) return;
  mkdirSync(join(to, layout.stacks), { recursive: true, mode: 0o700 });
  if (existsSync(join(from, "meta.yaml")) && !existsSync(join(to, "meta.yaml"))) copyFileSync(join(from, "meta.yaml"), join(to, "meta.yaml"));
  for (const dir of [layout.history, layout.backups]) {
    if (!existsSync(join(from, dir)) || existsSync(join(to, dir))) continue;
    mkdirSync(join(to, dir, ".."), { recursive: true, mode: 0o700 });
    renameSync(join(from, dir), join(to, dir));
  }
  // The checkpoint last: until it moves, the shared backend still has the whole stack.
  const files = readdirSync(join(from, layout.stacks)).filter((name) => name === `${stack}.json` || name.startsWith(`${stack}.json.`));
  for (const name of files.sort((a, b) => (a === `${stack}.json` ? 1 : b === `${stack}.json` ? -1 : 0))) renameSync(join(from, layout.stacks, name), join(to, layout.stacks, name));
  options.logger.info({ from: sharedBackend(options.dataDir), to: options.backend }, "moved the stack's Pulumi state into its own backend folder");
}
