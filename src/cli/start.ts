// The installed `driftwatch` command once bin.ts has checked the Node.js version (package.json `bin`, compiled to
// dist/cli/bin.js). An entry of its own, so it runs on every Node >= 22 whether or not that Node knows
// `import.meta.main`.
//
// A one-shot command (check, converge, report, ...) keeps Node's compiled code of Driftwatch and its dependencies in
// the user's tool cache (see compileCacheDir), so the next start does not compile the same modules again; main.ts is
// imported only after that, since a static import would load it first. serve relaunches itself with the service's
// settings instead, and runs as Node starts it.
import { enableCompileCache } from "node:module";
import { compileCacheDir } from "./compile-cache.ts";
import { serviceRelaunch, subcommandOf } from "./service-relaunch.ts";

const again = serviceRelaunch(process);
// process.execve: Node >= 22.15 on POSIX; elsewhere serve runs with Node's defaults.
if (again && typeof process.execve === "function") process.execve(again.file, again.args, again.env);
const cacheDir = compileCacheDir(process.env, subcommandOf(process.argv.slice(2)));
if (cacheDir) enableCompileCache(cacheDir);
const { main } = await import("./main.ts");
await main();
