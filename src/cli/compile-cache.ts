// Where the installed CLI keeps Node's compile cache (node:module enableCompileCache): V8's compiled code of the
// modules a command loads, about a fifth of a one-shot command's start (commander, zod, the Kubernetes client, ...).
// Node checks each entry against its module's source and its own version, so an upgraded package or Node compiles
// afresh, and a cache it cannot create or write is skipped. The cache is code that runs, so it lives in the user's
// own cache directory, never in a shared temporary one.
import { homedir } from "node:os";
import { join } from "node:path";

/**
 * $XDG_CACHE_HOME/driftwatch/node-compile-cache (else ~/.cache/…) for `subcommand`, or undefined for none: serve (a
 * long-lived process, relaunched with the service's own settings), and whenever the user chose themselves
 * (NODE_COMPILE_CACHE, which Node reads on its own, or NODE_DISABLE_COMPILE_CACHE).
 */
export function compileCacheDir(env: NodeJS.ProcessEnv, subcommand: string | undefined): string | undefined {
  if (subcommand === "serve" || env.NODE_COMPILE_CACHE || env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "driftwatch", "node-compile-cache");
}
