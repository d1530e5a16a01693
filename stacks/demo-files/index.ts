import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { LocalFile } from "./localFile";

// Where the files live: the stack's `dir` config, else DEMO_FILES_DIR (Driftwatch's demo sets it to a sandbox
// under its data directory).
const config = new pulumi.Config();
const dir = config.get("dir") ?? process.env.DEMO_FILES_DIR;
if (!dir) throw new Error("set the stack config 'dir' or the environment variable DEMO_FILES_DIR");

export const motd = new LocalFile("motd", { path: path.join(dir, "motd.txt"), content: "Welcome. This file is watched by Driftwatch.\n" }).path;
export const settings = new LocalFile("settings", { path: path.join(dir, "settings.ini"), content: "[service]\nreplicas = 2\n" }).path;
