// Slack alerts end to end: real engines find the drift, the real @slack/web-api client posts it to a local
// Slack-compatible server that records every request and fails on demand. One thread per drift episode, nothing
// posted twice across runs (each CLI call is a fresh start), nothing lost through an outage, no secret sent.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunSummary } from "../src/store/api.ts";
import { driftwatch } from "./support/cli.ts";
import { commitFiles, createProgramRepo, git } from "./support/git.ts";
import { pulumiStackYaml } from "./support/pulumi.ts";
import { SlackServer } from "./support/slack-server.ts";
import { sharedCacheDir, tempDir } from "./support/tempdir.ts";

const TOKEN = "xoxb-alerts-test-7f3a9c";
const env = { SLACK_BOT_TOKEN: TOKEN };

const FILES_MODULE = `terraform {
  required_providers {
    local = { source = "hashicorp/local" }
  }
}
variable "dir" { type = string }
variable "names" {
  type    = list(string)
  default = ["a", "b", "c"]
}
variable "suffix" {
  type    = string
  default = ""
}
resource "local_file" "f" {
  for_each = toset(var.names)
  filename = "\${var.dir}/\${each.key}.txt"
  content  = "file \${each.key}\${var.suffix}\\n"
}
`;

let server: SlackServer;
beforeAll(async () => {
  server = await SlackServer.start(TOKEN);
});
afterAll(async () => {
  await server.close();
});

interface Setup {
  config: string;
  world: string;
  repo: string;
  check: (...stacks: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;
  converge: (stack: string) => Promise<void>;
}

/**
 * A repository with the files module, a config watching `stacks` of it with Slack alerts to `#<channel>`; `slack`
 * holds the client's request timeout and retries.
 */
function setup(channel: string, stacks: { name: string; vars?: string; alerts?: string }[], deliveryTimeoutSeconds = 20, slack = "retries: 1, timeoutSeconds: 2"): Setup {
  const root = tempDir();
  const repo = join(root, "repo");
  mkdirSync(repo, { recursive: true });
  git(repo, "init", "-q", "-b", "main");
  commitFiles(repo, { "files/main.tf": FILES_MODULE }, "files module");
  const world = join(root, "world");
  const config = join(root, "driftwatch.yaml");
  const lines = [
    `dataDir: ${join(root, "data")}`,
    "alerts:",
    `  deliveryTimeoutSeconds: ${deliveryTimeoutSeconds}`,
    `  slack: { channel: "#${channel}", apiUrl: "${server.url}", ${slack}, maxRateLimitWaitSeconds: 5 }`,
    "stacks:",
  ];
  for (const s of stacks) {
    lines.push(
      `  - name: ${s.name}`,
      "    engine: terraform",
      `    source: { repo: ${repo}, path: files }`,
      `    terraform: { vars: { dir: ${join(world, s.name)}${s.vars ?? ""} } }`,
      `    sandbox: { readWrite: [${join(world, s.name)}] }`,
      ...(s.alerts ? [`    alerts: ${s.alerts}`] : []),
    );
  }
  writeFileSync(config, `${lines.join("\n")}\n`);
  return {
    config,
    world,
    repo,
    check: (...names) => driftwatch(["--config", config, "check", "--json", ...names], env),
    converge: async (name) => {
      const run = await driftwatch(["--config", config, "converge", name, "--json"], env);
      expect(run.code, run.stderr).toBe(0);
    },
  };
}

const roots = (channel: string) => server.messages(`#${channel}`).filter((m) => !m.threadTs);
const replies = (channel: string) => server.messages(`#${channel}`).filter((m) => m.threadTs);

describe("Slack alerts", () => {
  it("keeps one thread per drift episode: opened, updated in place while unchanged, replies when it changes and resolves", async () => {
    const t = setup("episodes", [{ name: "files" }]);
    await t.converge("files");
    expect(server.messages("#episodes")).toEqual([]); // in sync from the start: nothing to say

    rmSync(join(t.world, "files", "a.txt"));
    expect((await t.check()).code).toBe(2);
    expect(roots("episodes")).toHaveLength(1);
    const root = roots("episodes")[0]!;
    expect(root.text).toContain("Drift in files (terraform): 1 drifted");
    expect(JSON.stringify(root.blocks)).toContain('*drift delete* `local_file.f[\\"a\\"]`');

    // Unchanged, twice, each a fresh start of Driftwatch: no new message, the root updated in place.
    await t.check();
    await t.check();
    expect(server.messages("#episodes")).toHaveLength(1);
    expect(root.edits).toBe(2);
    expect(JSON.stringify(root.blocks)).toContain("seen 3 times");

    rmSync(join(t.world, "files", "b.txt"));
    await t.check();
    expect(roots("episodes")).toHaveLength(1);
    expect(replies("episodes")).toHaveLength(1);
    expect(replies("episodes")[0]).toMatchObject({ threadTs: root.ts });
    expect(JSON.stringify(replies("episodes")[0]!.blocks)).toContain("*New in the divergence* (1)");
    expect(root.text).toContain("2 drifted");

    await t.converge("files");
    expect(replies("episodes")).toHaveLength(2);
    expect(replies("episodes")[1]!.text).toMatch(/^files is back in sync after \d+s$/);
    expect(root.text).toMatch(/^Resolved: files \(terraform\) is in sync again/);
    const edits = root.edits;

    await t.check(); // in sync, no episode: silence
    expect(server.messages("#episodes")).toHaveLength(3);
    expect(root.edits).toBe(edits);
  });

  it("waits out a 429 and posts exactly once", async () => {
    const t = setup("ratelimited", [{ name: "files" }]);
    await t.converge("files");
    rmSync(join(t.world, "files", "c.txt"));
    server.failNext(1, { kind: "ratelimit", retryAfterSeconds: 1 });
    const run = await t.check();
    expect(run.code).toBe(2);
    expect(roots("ratelimited")).toHaveLength(1);
    const attempts = server.requests.filter((r) => r.method === "chat.postMessage" && r.body.channel === "#ratelimited");
    expect(attempts.map((r) => r.status)).toEqual([429, 200]);
  });

  it("keeps alerts through a Slack outage without failing the check, then delivers them in order, once", async () => {
    const t = setup("outage", [{ name: "files" }]);
    await t.converge("files");
    server.setMode({ kind: "status", status: 503 });
    try {
      rmSync(join(t.world, "files", "a.txt"));
      const down = await t.check();
      expect(down.code).toBe(2); // the verdict is unaffected by Slack
      expect(down.stderr).toContain("alert not delivered yet; kept in the outbox for the next run");
      rmSync(join(t.world, "files", "b.txt"));
      await t.check(); // still down: the change joins the outbox behind the opening
      expect(server.messages("#outage")).toEqual([]);
    } finally {
      server.setMode(undefined);
    }
    await t.check(); // recovered: the outbox first, then this run's own alert
    expect(roots("outage")).toHaveLength(1);
    expect(replies("outage")).toHaveLength(1); // the change (a → a, b), replied in the thread of the root posted late
    const root = roots("outage")[0]!;
    expect(root.edits).toBe(2); // the change, then this run's "unchanged"
    expect(JSON.stringify(root.blocks)).toContain("seen 3 times");
    await t.check();
    expect(server.messages("#outage")).toHaveLength(2);
  });

  it("gives a Slack that never answers no more than deliveryTimeoutSeconds, and delivers once it answers again", async () => {
    // The client alone would wait 600 s for the answer, then retry: only the 3 s delivery budget ends the run.
    const t = setup("hanging", [{ name: "files" }], 3, "retries: 3, timeoutSeconds: 600");
    await t.converge("files");
    rmSync(join(t.world, "files", "a.txt"));
    server.setMode({ kind: "hang" });
    let hung: Awaited<ReturnType<Setup["check"]>>;
    const started = Date.now();
    try {
      hung = await t.check();
    } finally {
      server.setMode(undefined);
    }
    expect(hung.code).toBe(2);
    expect(hung.stderr).toContain("alerts left in the outbox for the next run");
    expect(Date.now() - started).toBeLessThan(120_000); // the check itself takes seconds; the request alone, 600 s
    expect(server.requests.filter((r) => r.method === "chat.postMessage" && r.body.channel === "#hanging")).toHaveLength(1); // abandoned, not retried
    await t.check();
    expect(roots("hanging")).toHaveLength(1);
    expect(roots("hanging")[0]!.edits).toBe(1);
  });

  it("reports a bad token once, on the run record, and never retries it", async () => {
    const t = setup("badtoken", [{ name: "files" }]);
    await t.converge("files");
    rmSync(join(t.world, "files", "a.txt"));
    const run = await driftwatch(["--config", t.config, "check", "--json"], { SLACK_BOT_TOKEN: "xoxb-revoked" });
    expect(run.code).toBe(2);
    const errors = run.stderr.split("\n").filter((l) => l.includes("alert cannot be delivered; not retrying it"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("invalid_auth");
    const history = await driftwatch(["--config", t.config, "history", "--json", "--limit", "1"], env);
    const [last] = (JSON.parse(history.stdout) as { runs: RunSummary[] }).runs;
    expect(last!.alertError).toMatch(/^slack: chat\.postMessage failed with invalid_auth/);
    const attempts = server.requests.filter((r) => r.token === "xoxb-revoked");
    expect(attempts).toHaveLength(1);
    // The next run with a good token does not resend the failed alert; the episode goes on from there.
    await t.check();
    expect(server.requests.filter((r) => r.token === "xoxb-revoked")).toHaveLength(1);
    expect(roots("badtoken")).toHaveLength(1);
  });

  it("keeps a very large divergence within Slack's limits, saying how much more there is", async () => {
    const names = Array.from({ length: 120 }, (_, i) => `"f${i}"`).join(", ");
    const t = setup("large", [{ name: "many", vars: `, names: '[${names}]'`, alerts: "{ pending: true }" }]);
    await t.converge("many");
    commitFiles(t.repo, { "files/main.tf": FILES_MODULE.replace('default = ""', `default = " ${"long text ".repeat(40)}"`) }, "every file changes");
    for (let i = 0; i < 60; i += 1) rmSync(join(t.world, "many", `f${i}.txt`));
    const run = await t.check();
    expect(run.code).toBe(2);
    const [root] = roots("large");
    expect(root).toBeDefined(); // the server enforces Slack's block limits: an oversized message would be rejected
    expect(root!.blocks.length).toBeLessThanOrEqual(50);
    expect(root!.text).toContain("60 drifted, 120 pending");
    expect(JSON.stringify(root!.blocks)).toMatch(/…and \d+ more resources/);
  });
});

describe("Slack alerts never carry secrets", () => {
  it("masks Pulumi secrets and credential-shaped values in every request", async () => {
    const root = tempDir();
    const repo = createProgramRepo(join(root, "repo"));
    const NOTE = "plaintext-note-5e9d";
    const KEY = "AKIAQWERTYUIOPASDFGH";
    commitFiles(
      repo,
      {
        "stacks/app/index.ts": [
          'import * as pulumi from "@pulumi/pulumi";',
          'import * as path from "node:path";',
          'import { LocalFile } from "./localFile";',
          "const dir = process.env.DEMO_FILES_DIR!;",
          'export const note = new LocalFile("note", { path: path.join(dir, "note.txt"), content: pulumi.secret(`note=${process.env.DEMO_NOTE}\\n`) }).path;',
          `export const keys = new LocalFile("keys", { path: path.join(dir, "keys.txt"), content: "key=${KEY}\\n" }).path;`,
          "",
        ].join("\n"),
      },
      "a secret and a key",
    );
    const world = join(root, "world");
    const config = join(root, "driftwatch.yaml");
    writeFileSync(
      config,
      [
        `dataDir: ${join(root, "data")}`,
        `cacheDir: ${sharedCacheDir}`,
        "alerts:",
        `  slack: { channel: "#secrets", apiUrl: "${server.url}" }`,
        "stacks:",
        ...pulumiStackYaml({ name: "app", repo, path: "stacks/app", stack: "dev", passphrase: "alerts-test", world, env: { DEMO_NOTE: NOTE } }),
        "",
      ].join("\n"),
    );
    const converged = await driftwatch(["--config", config, "converge", "app", "--json"], env);
    expect(converged.code, converged.stderr).toBe(0);
    writeFileSync(join(world, "note.txt"), `note=${NOTE} (edited)\n`);
    writeFileSync(join(world, "keys.txt"), `key=${KEY} rotated by hand\n`);
    const run = await driftwatch(["--config", config, "check", "--json"], env);
    expect(run.code).toBe(2);
    const message = roots("secrets")[0]!;
    expect(JSON.stringify(message.blocks)).toContain('content: \\"[secret]\\" → \\"[secret]\\"');
    expect(JSON.stringify(message.blocks)).toContain("key=[secret]");
    const everything = JSON.stringify(server.requests.map((r) => r.body)) + run.stderr + converged.stderr;
    expect(everything).not.toContain(NOTE);
    expect(everything).not.toContain(KEY);
    expect(run.stderr + converged.stderr).not.toContain(TOKEN);
  });
});
