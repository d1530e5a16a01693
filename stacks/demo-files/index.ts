import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { LocalFile } from "./localFile";

const config = new pulumi.Config();
const dir = config.require("dir");

export const motd = new LocalFile("motd", { path: path.join(dir, "motd.txt"), content: "Welcome. This file is watched by Driftwatch.\n" }).path;
export const settings = new LocalFile("settings", { path: path.join(dir, "settings.ini"), content: "[service]\nreplicas = 2\n" }).path;
