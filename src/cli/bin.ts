#!/usr/bin/env node
// The installed `driftwatch` command (package.json `bin`, compiled to dist/cli/bin.js). An entry of its own, so it
// runs on every Node >= 22 whether or not that Node knows `import.meta.main`.
import { main } from "./main.ts";

await main();
