// Driftwatch deployed on one host: the service configuration and the data directory's marker file.
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { LocalFile } from "../stacks/demo-files/localFile";

const config = new pulumi.Config();
const installDir = config.require("installDir");
const schedule = config.get("schedule") ?? "*/15 * * * *";

const serviceConfig = new LocalFile("service-config", {
  path: path.join(installDir, "driftwatch.yaml"),
  content: [
    "# Managed by Pulumi (driftwatch/deploy). Edits by hand are drift.",
    "dataDir: .driftwatch",
    `schedule: "${schedule}"`,
    "stacks: []",
    "",
  ].join("\n"),
});

const dataDirMarker = new LocalFile("data-dir", {
  path: path.join(installDir, ".driftwatch", "README"),
  content: "Driftwatch data directory: SQLite database, git mirrors, worktrees and caches.\n",
});

export const configFile = serviceConfig.path;
export const dataDir = dataDirMarker.path.apply((p) => path.dirname(p));
