// A stack whose engine state stays under this process's dataDir, when replicas on other hosts share the history:
// each replica then checks (and converges) against a state of its own. Said once per stack and process.
import { isAbsolute, relative } from "node:path";
import type { Logger } from "pino";
import type { EngineDependencies } from "./api.ts";

export type LocalStateWarning = (stack: string, logger: Logger, remedy: string) => void;

export function localStateWarning(deps: Pick<EngineDependencies, "sharedHistory">): LocalStateWarning {
  const warned = new Set<string>();
  return (stack, logger, remedy) => {
    if (!deps.sharedHistory || warned.has(stack)) return;
    warned.add(stack);
    logger.warn({ stack }, `the stack's state is kept under this replica's dataDir, so every replica keeps a state of its own: ${remedy}`);
  };
}

/** Whether `path` is `dir` or inside it. */
export function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}
