#!/usr/bin/env node
// The installed `driftwatch` command (package.json `bin`, compiled to dist/cli/bin.js). It checks the Node.js
// version before importing anything else: on an older Node a static import (node:sqlite, node:module's
// enableCompileCache) fails before any code runs, with a stack trace that says nothing about the version. So an
// older Node gets one line saying what to install, and exit code 1; start.ts does the rest.
import { nodeVersionRefusal } from "./node-version.ts";

const refusal = nodeVersionRefusal(process.versions.node);
if (refusal) {
  process.stderr.write(`${refusal}\n`);
  process.exit(1);
}
await import("./start.ts");
