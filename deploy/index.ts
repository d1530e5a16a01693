// Driftwatch deployed on one host: the service configuration and the data directory's marker file.
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { LocalFile } from "../stacks/demo-files/localFile";

const config = new pulumi.Config();
const installDir = config.require("installDir");
const schedule = config.get("schedule") ?? "*/15 * * * *";
// A Node >= 22.19 (type stripping): the one `npm run provision` installs when the host's is older.
const node = config.get("nodeBinary") ?? "/usr/bin/node"; // Pulumi.yaml's default

const serviceConfig = new LocalFile("service-config", {
  path: path.join(installDir, "driftwatch.yaml"),
  content: [
    "# Managed by Pulumi (driftwatch/deploy). Edits by hand are drift.",
    "dataDir: .driftwatch",
    "service:",
    `  schedule: "${schedule}"`,
    "stacks: []",
    "",
  ].join("\n"),
});

// The service as a systemd unit, with the runtime settings it is measured with (src/service/runtime.ts: keep the
// flags and environment the same; test/smoke/pulumi-project.test.ts checks that they are), run as a dedicated
// unprivileged user (create it first: useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin driftwatch)
// with the usual sandboxing: the whole file system read-only but the data directory, no home directories, a
// private /tmp, no new privileges. The engines Driftwatch starts inherit all of it.
const serviceUser = config.get("serviceUser") ?? "driftwatch";
const dataDirPath = path.join(installDir, ".driftwatch"); // the config's dataDir
// The provisioned engines, read-only at run time (`DRIFTWATCH_TOOLS_DIR=<this> npm run provision` fills it).
const toolsDir = config.get("toolsDir") ?? path.join(installDir, ".tools");
const unit = new LocalFile("systemd-unit", {
  path: path.join(installDir, "driftwatch.service"),
  content: [
    "[Unit]",
    "Description=Driftwatch: GitOps drift monitor",
    "After=network-online.target",
    "",
    "[Service]",
    `User=${serviceUser}`,
    `Group=${serviceUser}`,
    `WorkingDirectory=${installDir}`,
    "Environment=MALLOC_ARENA_MAX=2",
    "Environment=MALLOC_TRIM_THRESHOLD_=131072",
    `Environment=DRIFTWATCH_TOOLS_DIR=${toolsDir}`,
    // Tokens (DRIFTWATCH_API_TOKEN, SLACK_BOT_TOKEN, ...) and stack credentials: a root-owned 0600 file.
    "EnvironmentFile=-/etc/driftwatch/env",
    `ExecStart=${node} --max-semi-space-size=2 --optimize-for-size ${path.join(installDir, "src", "cli", "main.ts")} serve --config ${path.join(installDir, "driftwatch.yaml")}`,
    "KillSignal=SIGTERM",
    "TimeoutStopSec=120",
    "Restart=on-failure",
    "UMask=0077",
    "NoNewPrivileges=true",
    "ProtectSystem=strict",
    `ReadWritePaths=${dataDirPath}`,
    "ProtectHome=true",
    "PrivateTmp=true",
    "PrivateDevices=true",
    "ProtectKernelTunables=true",
    "ProtectKernelModules=true",
    "ProtectKernelLogs=true",
    "ProtectControlGroups=true",
    "ProtectClock=true",
    "ProtectHostname=true",
    "RestrictSUIDSGID=true",
    "RestrictRealtime=true",
    "LockPersonality=true",
    // The sandbox launcher gives each engine run a user, PID (and, for rendering, network) namespace of its own.
    "RestrictNamespaces=user pid net",
    // Other users' processes are invisible in /proc.
    "ProtectProc=invisible",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    "CapabilityBoundingSet=",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n"),
});

const dataDirMarker = new LocalFile("data-dir", {
  path: path.join(dataDirPath, "README"),
  content: "Driftwatch data directory: SQLite database, git mirrors, worktrees and caches.\n",
});

export const configFile = serviceConfig.path;
export const systemdUnit = unit.path;
export const dataDir = dataDirMarker.path.apply((p) => path.dirname(p));
