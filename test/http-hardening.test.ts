// The HTTP side against a hostile web: the real service on a real port. A request naming a Host the server does not
// answer to (DNS rebinding) is refused on every route, while its own names, localhost and IP literals are answered;
// /readyz with a broken store says so without the store's details, which go to the log; and a webhook delivery
// that comes again (replayed, or redelivered) starts no second check.
import { createHmac } from "node:crypto";
import { request as httpRequest } from "node:http";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load.ts";
import { startService, type Service } from "../src/service/serve.ts";
import { databaseLocation } from "../src/store/open.ts";
import { readToolchainManifest } from "../src/toolchain/manifest.ts";
import { manifestPath } from "../src/toolchain/paths.ts";
import { commitFiles, git } from "./support/git.ts";
import { until } from "./support/processes.ts";
import { tempDir } from "./support/tempdir.ts";
import { localFilesModule, terraformStackYaml } from "./support/terraform-modules.ts";
import { engineTimeout } from "./support/timeouts.ts";

const toolchain = readToolchainManifest(process.env.DRIFTWATCH_TOOLCHAIN ?? manifestPath());
const HOOK_SECRET = "webhook-secret-for-hardening-tests";
const env = { ...process.env, DRIFTWATCH_WEBHOOK_SECRET: HOOK_SECRET };

const services: Service[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.stop()));
});

/** Starts the service with `yaml` (dataDir and the quiet service settings are added) and records its log lines. */
async function start(root: string, yaml: string[]) {
  const file = join(root, "driftwatch.yaml");
  const settings = '  runOnStart: false\n  schedule: "0 0 1 1 *"\n  gitPollSeconds: 0\n  stopGraceSeconds: 1';
  writeFileSync(file, [`dataDir: ${join(root, "data")}`, "service:", settings, ...yaml].join("\n") + "\n");
  const config = loadConfig(file, { env });
  const log: string[] = [];
  const service = await startService({ config, toolchain, logger: pino({ level: "info" }, { write: (line: string) => void log.push(line) }), env });
  services.push(service);
  return { config, service, log, port: Number(new URL(service.url).port) };
}

interface Answer {
  status: number;
  body: string;
}

/** One request to the service with exactly these headers (fetch would not let a test choose Host). */
function send(port: number, path: string, headers: Record<string, string>, init: { method?: string; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, method: init.method ?? "GET", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

describe("HTTP hardening", () => {
  it("answers only for its own host names: a foreign Host is refused on every route, its names, localhost and IP literals are served", async () => {
    const root = tempDir();
    const t = await start(root, [
      "  http: { port: 0, allowedHosts: [driftwatch.internal, .corp.example] }",
      "alerts: { dashboardUrl: https://drift.example.com/driftwatch/ }",
      "stacks: []",
    ]);
    const get = (path: string, host: string) => send(t.port, path, { host });
    const routes = ["/", "/stacks/nope", "/api/stacks", "/api/runs", "/metrics", "/healthz", "/readyz", "/no-such-route"];

    // A page on a name the attacker controls, rebound to this address: the browser sends that name.
    for (const host of [`attacker.example:${t.port}`, "attacker.example", "driftwatch.internal.attacker.example", "localhost.attacker.example", "corp.example.attacker.example"]) {
      for (const path of routes) {
        const answer = await get(path, host);
        expect({ path, host, status: answer.status }).toEqual({ path, host, status: 421 });
        expect(JSON.parse(answer.body)).toEqual({ error: "this server does not answer to the host name in the request; its operator can add it to service.http.allowedHosts" });
      }
    }
    const hook = await send(t.port, "/api/hooks/git", { host: "attacker.example", "content-type": "application/json" }, { method: "POST", body: "{}" });
    expect(hook.status).toBe(421);
    expect(t.log.join("")).toContain('"host":"attacker.example"');

    // Its own names (any case, any port), localhost, and IP literals (which no DNS answer can rebind): served.
    const own = [`127.0.0.1:${t.port}`, `localhost:${t.port}`, `[::1]:${t.port}`, "10.1.2.3:8080", "driftwatch.internal", `DriftWatch.Internal:${t.port}`];
    for (const host of [...own, "corp.example", "ci.corp.example", "drift.example.com:443", "app.localhost"]) {
      const dashboard = await get("/", host);
      expect({ host, status: dashboard.status }).toEqual({ host, status: 200 });
      expect(dashboard.body).toContain("<!doctype html>");
      expect(JSON.parse((await get("/api/stacks", host)).body)).toEqual({ stacks: [] });
      expect((await get("/healthz", host)).status).toBe(200);
    }
  });

  it("answers /readyz for a broken store without the store's details, and logs them", async () => {
    const root = tempDir();
    const t = await start(root, ["  http: { port: 0 }", "stacks: []"]);
    expect(JSON.parse((await send(t.port, "/readyz", { host: "localhost" })).body)).toEqual({ status: "ready" });

    // Break the store for real: its runs table becomes a view of a table that does not exist, named after the
    // database file, so SQLite's own error message carries the path.
    const file = databaseLocation(t.config.database);
    const db = new DatabaseSync(file, { timeout: 30_000 }); // waits out a write of the service's, if any
    db.exec(`ALTER TABLE runs RENAME TO runs_gone; CREATE VIEW runs AS SELECT * FROM "${file}"`);
    db.close();

    const answer = await send(t.port, "/readyz", { host: "localhost" });
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body)).toEqual({ status: "not ready", problems: ["store: cannot be read"] });
    expect(answer.body).not.toContain(root);
    expect(answer.body).not.toContain("no such table");
    const logged = t.log.find((line) => line.includes("readiness"));
    expect(logged).toContain(file);
  });

  it("ignores a webhook delivery that comes again: redelivered, replayed with a fresh id, or a GitLab event twice", async () => {
    const root = tempDir();
    const repo = join(root, "repo");
    mkdirSync(repo, { recursive: true });
    git(repo, "init", "-q", "-b", "main");
    commitFiles(repo, { "files/main.tf": localFilesModule({ a: "alpha\n" }) }, "module");
    const world = join(root, "world");
    mkdirSync(world);
    const t = await start(root, ["  http: { port: 0 }", "stacks:", ...terraformStackYaml({ name: "files", path: "files", repo, dir: world })]);
    const runs = async () => (await t.service.runner.store.listRuns({ stack: "files" })).length;
    const deliver = (body: string, headers: Record<string, string>) =>
      send(t.port, "/api/hooks/git", { host: "localhost", "content-type": "application/json", ...headers }, { method: "POST", body });
    const settled = async (count: number) => {
      await until(async () => (await runs()) === count && t.service.scheduler.phases().files === "idle", 120_000, `${count} runs of files, and the stack idle`);
    };

    const push = JSON.stringify({ ref: "refs/heads/main", after: "1".repeat(40), repository: { clone_url: repo } });
    const signed = { "x-hub-signature-256": `sha256=${createHmac("sha256", HOOK_SECRET).update(push).digest("hex")}` };
    const first = await deliver(push, { ...signed, "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958" });
    expect(first.status).toBe(202);
    expect(JSON.parse(first.body)).toEqual({ stacks: ["files"] });
    await settled(1);

    // GitHub's "Redeliver" (same id, same body), then a replay of the captured body under a fresh id.
    for (const id of ["72d3162e-cc78-11e3-81ab-4c9367dc0958", "a-fresh-id-the-attacker-made-up"]) {
      const again = await deliver(push, { ...signed, "x-github-delivery": id });
      expect({ id, status: again.status, body: JSON.parse(again.body) }).toEqual({ id, status: 200, body: { stacks: [], duplicate: true } });
      expect(t.service.scheduler.phases().files).toBe("idle"); // a trigger would have queued the stack at once
    }

    // GitLab (its token does not sign the body): the same event is known by its UUID.
    const gitlab = JSON.stringify({ ref: "refs/heads/main", project: { git_http_url: repo } });
    const event = { "x-gitlab-token": HOOK_SECRET, "x-gitlab-event-uuid": "13792a34-cac6-4fda-95a8-c58e00a3954e" };
    expect((await deliver(gitlab, event)).status).toBe(202);
    await settled(2);
    const twice = await deliver(gitlab, event);
    expect({ status: twice.status, body: JSON.parse(twice.body) }).toEqual({ status: 200, body: { stacks: [], duplicate: true } });
    expect(t.service.scheduler.phases().files).toBe("idle");
    expect(await runs()).toBe(2);
  }, engineTimeout(6));
});
