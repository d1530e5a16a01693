#!/usr/bin/env node
// The installed `driftwatch` command (package.json `bin`, compiled to dist/cli/bin.js). An entry of its own, so it
// runs on every Node >= 22 whether or not that Node knows `import.meta.main`.
import { main } from "./main.ts";
import { serviceRelaunch } from "./service-relaunch.ts";

const again = serviceRelaunch(process);
// process.execve: Node >= 22.15 on POSIX; elsewhere serve runs with Node's defaults.
if (again && typeof process.execve === "function") process.execve(again.file, again.args, again.env);
await main();
