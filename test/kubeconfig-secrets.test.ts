// The cluster credentials a Kubernetes stack's kubeconfig holds (a token, a token file, an exec plugin's env, a
// revoked token, another user's token) go nowhere Driftwatch writes: not the data directory (the SQLite database
// and its WAL, engine state, homes, caches, worktrees), not the output or the logs, not Slack, not the API, the
// dashboard or the metrics. Every kind of run against a real API server (in sync, drifted, pending, converge,
// remediation with approval, broken kubeconfigs, an unreachable server, a refused token, RBAC refusals, exec
// plugins that fail) and then `serve`, then a byte search of everything for each credential, plain and base64.
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { loadConfig } from "../src/config/load.ts";
import { secretMaskerFor } from "../src/config/secrets.ts";
import { createLogger } from "../src/core/logger.ts";
import type { StackResult } from "../src/core/types.ts";
import { startService } from "../src/service/serve.ts";
import type { RunSummary } from "../src/store/api.ts";
import { freeLoopbackPort } from "../src/toolchain/ports.ts";
import { driftwatch, type CliRun } from "./support/cli.ts";
import { commitFiles, git } from "./support/git.ts";
import { apiRequest, startKubeCluster, type LocalCluster } from "./support/kube-cluster.ts";
import { until } from "./support/processes.ts";
import { SlackServer } from "./support/slack-server.ts";
import { testToolchain } from "./support/toolchain.ts";

const namespaceAndSettings = (ns: string, greeting: string) =>
  `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: ${ns}\ndata:\n  greeting: ${greeting}\n`;

/** Every file under `dir`, recursively (links not followed). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return entry.isFile() ? [path] : [];
  });
}

/** An ExecCredential printed by `sh`, with the token taken from the plugin's env (kubeconfig `exec.env`). */
const EXEC_CREDENTIAL = `printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "$DW_CLUSTER_TOKEN"`;

describe("kubeconfig credentials", () => {
  const root = mkdtempSync(join(tmpdir(), "driftwatch-kubeconfig-secrets-"));
  const repo = join(root, "repo");
  const dataDir = join(root, "data");
  const kubeconfigs = join(root, "kubeconfigs");
  const config = join(root, "driftwatch.yaml");
  const revoked = randomBytes(24).toString("hex");
  let cluster: LocalCluster;
  let slack: SlackServer;
  let env: NodeJS.ProcessEnv;
  /** What every run printed, every page and answer of the service, and the data directory's files, with where it came from. */
  const outputs: { where: string; text: string }[] = [];
  /** The data directory's files as they are now (the database, its WAL while a process has it open, state, homes, caches). */
  const snapshotDataDir = (when: string) => {
    const files = filesUnder(dataDir);
    outputs.push(...files.map((file) => ({ where: `${file.slice(dataDir.length + 1)} (${when})`, text: readFileSync(file).toString("latin1") })));
    return files;
  };
  const cli = async (what: string, args: string[]): Promise<CliRun> => {
    const run = await driftwatch(["--config", config, ...args], env);
    outputs.push({ where: `${what}: stdout`, text: run.stdout }, { where: `${what}: stderr`, text: run.stderr });
    return run;
  };
  const byStack = (run: CliRun) => Object.fromEntries((JSON.parse(run.stdout) as { results: StackResult[] }).results.map((r) => [r.stack, r]));
  const edit = async (path: string, patch: unknown) => {
    const res = await apiRequest(cluster, cluster.token, "PATCH", `${path}?fieldManager=kubectl-edit`, { body: JSON.stringify(patch), contentType: "application/strategic-merge-patch+json" });
    expect(res.status, res.body).toBe(200);
  };
  const kubeconfig = (name: string, content: string) => {
    writeFileSync(join(kubeconfigs, name), content, { mode: 0o600 });
    return join(kubeconfigs, name);
  };
  /** The admin kubeconfig with its user replaced. */
  const withUser = (name: string, user: Record<string, unknown>) => {
    const copy = parse(readFileSync(cluster.kubeconfig, "utf8")) as { users: { user: unknown }[] };
    copy.users[0]!.user = user;
    return kubeconfig(name, stringify(copy));
  };
  const execUser = (script: string) => ({ exec: { apiVersion: "client.authentication.k8s.io/v1", command: "sh", args: ["-c", script], env: [{ name: "DW_CLUSTER_TOKEN", value: cluster.token }], interactiveMode: "Never" } });

  beforeAll(async () => {
    cluster = await startKubeCluster({ users: [{ name: "reader", rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["get", "list", "watch"] }] }] });
    slack = await SlackServer.start();
    env = { TEST_KUBECONFIG: cluster.kubeconfig, SLACK_BOT_TOKEN: slack.token, DRIFTWATCH_LOG_LEVEL: "debug" };
    mkdirSync(repo);
    mkdirSync(kubeconfigs);
    git(repo, "init", "-q", "-b", "main");
    commitFiles(
      repo,
      Object.fromEntries(["insync", "drifted", "pending", "approve"].map((n) => [`clusters/${n}/all.yaml`, namespaceAndSettings(`dw-ks-${n}`, "hello")])),
      "manifests",
    );
    git(repo, "checkout", "-q", "-b", "next");
    commitFiles(repo, { "clusters/pending/all.yaml": namespaceAndSettings("dw-ks-pending", "hi there") }, "a changed greeting");
    git(repo, "checkout", "-q", "main");

    const closedPort = await freeLoopbackPort();
    writeFileSync(join(kubeconfigs, "token"), cluster.token, { mode: 0o600 });
    writeFileSync(join(kubeconfigs, "token-newline"), `${cluster.token}\n`, { mode: 0o600 });
    const files = {
      tokenFile: withUser("token-file", { "token-file": join(kubeconfigs, "token") }),
      // The client sends a token file as it is: a newline makes a header Node refuses to send.
      tokenFileNewline: withUser("token-file-newline", { "token-file": join(kubeconfigs, "token-newline") }),
      exec: withUser("exec", execUser(EXEC_CREDENTIAL)),
      execFails: withUser("exec-fails", execUser('echo "error: the token $DW_CLUSTER_TOKEN was refused" >&2; exit 1')),
      execGarbage: withUser("exec-garbage", execUser('echo "token: $DW_CLUSTER_TOKEN"')),
      // A kubeconfig broken right after its token: a YAML parser's error quotes the lines around it.
      garbage: kubeconfig("garbage", `users:\n- name: a\n  user:\n    token: ${cluster.token}\n  bad: [\n`),
      // A token YAML reads as an alias: the parser's error names it.
      alias: kubeconfig("alias", `users:\n- name: a\n  user:\n    token: *${cluster.token}\n`),
      unreachable: kubeconfig("unreachable", readFileSync(cluster.kubeconfig, "utf8").replace(cluster.server, `https://127.0.0.1:${closedPort}`)),
      expired: kubeconfig("expired", readFileSync(cluster.kubeconfig, "utf8").replace(cluster.token, revoked)),
      forbidden: cluster.writeKubeconfig("reader", join(kubeconfigs, "reader")),
    };
    const stack = (name: string, path: string, kubeconfigFile = "${env:TEST_KUBECONFIG}", extra: string[] = [], ref = "main") => [
      `  - name: ${name}`,
      "    engine: kubernetes",
      `    source: { repo: ${repo}, ref: ${ref}, path: clusters/${path} }`,
      "    timeoutSeconds: 120",
      ...extra,
      "    kubernetes:",
      `      kubeconfig: ${kubeconfigFile}`,
    ];
    const write = (file: string, pendingRef: string) =>
      writeFileSync(
        file,
        [
          `dataDir: ${dataDir}`,
          "service:",
          '  schedule: "0 0 1 1 *"', // once a year: the check at start is the service's only one
          "  jitterSeconds: 0",
          "  http: { port: 0 }",
          "alerts:",
          `  slack: { channel: "#k8s", apiUrl: "${slack.url}", retries: 0, timeoutSeconds: 5 }`,
          "stacks:",
          ...stack("insync", "insync"),
          ...stack("drifted", "drifted"),
          ...stack("pending", "pending", undefined, [], pendingRef),
          ...stack("approve", "approve", undefined, ["    remediation: { mode: approve, approvalHours: 1 }"]),
          ...stack("token-file", "insync", files.tokenFile),
          ...stack("token-file-newline", "insync", files.tokenFileNewline),
          ...stack("exec", "insync", files.exec),
          ...stack("exec-fails", "insync", files.execFails),
          ...stack("exec-garbage", "insync", files.execGarbage),
          ...stack("garbage", "insync", files.garbage),
          ...stack("alias", "insync", files.alias),
          ...stack("unreachable", "insync", files.unreachable),
          ...stack("expired", "insync", files.expired),
          ...stack("forbidden", "insync", files.forbidden),
          "",
        ].join("\n"),
      );
    // The pending stack is converged at main, then watched at next.
    write(config, "main");
    for (const name of ["insync", "drifted", "pending", "approve"]) {
      const run = await cli(`converge ${name}`, ["converge", name, "--json"]);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(byStack(run)[name]!.verdict).toBe("in-sync");
    }
    write(config, "next");
  }, 600_000);

  afterAll(async () => {
    await cluster?.stop();
    await slack?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("are written nowhere, whatever the run: check, converge, approve, serve, and every kind of failure", async () => {
    // Someone pastes the token into a ConfigMap: the drift shows the value, which the service's masker knows.
    await edit("/api/v1/namespaces/dw-ks-drifted/configmaps/settings", { data: { greeting: `pasted ${cluster.token}` } });
    await edit("/api/v1/namespaces/dw-ks-approve/configmaps/settings", { data: { greeting: "edited by hand" } });

    const checked = await cli("check --json", ["check", "--json"]);
    const r = byStack(checked);
    const outcome = (name: string) => [r[name]!.verdict, r[name]!.error?.kind ?? r[name]!.remediation?.decision ?? ""];
    expect(
      Object.fromEntries(Object.keys(r).map((name) => [name, outcome(name)])),
      checked.stdout,
    ).toEqual({
      insync: ["in-sync", ""],
      drifted: ["drifted", ""],
      pending: ["pending", ""],
      approve: ["drifted", "approval-requested"],
      "token-file": ["in-sync", ""],
      "token-file-newline": ["error", "KubeconfigError"],
      exec: ["in-sync", ""],
      "exec-fails": ["error", "KubeconfigError"],
      "exec-garbage": ["error", "KubeconfigError"],
      garbage: ["error", "KubeconfigError"],
      alias: ["error", "KubeconfigError"],
      unreachable: ["error", "ClusterUnreachableError"],
      expired: ["error", "ClusterUnauthorizedError"],
      forbidden: ["error", "ClusterForbiddenError"],
    });
    expect(r.drifted!.changes[0]!.properties).toEqual([expect.objectContaining({ path: "data.greeting", desired: "hello", actual: "pasted [secret]" })]);
    // Each broken kubeconfig still says what is wrong with it, without quoting it.
    expect(r["exec-fails"]!.error!.message).toMatch(/exec plugin .*failed.*: error: the token \[secret\] was refused/);
    expect(r["exec-garbage"]!.error!.message).toMatch(/exec plugin .* not .*JSON/);
    expect(r.garbage!.error!.message).toMatch(/kubernetes\.kubeconfig '.*garbage' is not valid YAML .*line 6, column 1/);
    expect(r.alias!.error!.message).toMatch(/kubernetes\.kubeconfig '.*alias' is not valid YAML .*line 4/);
    await cli("check (table)", ["check"]);

    const approval = /driftwatch approve ([0-9a-f]+)/.exec(r.approve!.remediation!.reason ?? "")?.[1];
    expect(approval, r.approve!.remediation!.reason).toBeDefined();
    const approved = await cli("approve", ["approve", approval!, "--as", "tester", "--json"]);
    expect(byStack(approved).approve, approved.stdout).toMatchObject({ verdict: "in-sync", remediation: { decision: "applied" } });
    for (const command of [["history", "--json"], ["audit", "approve", "--json"], ["approvals", "--json"]]) await cli(command.join(" "), command);

    // serve: its first round checks every stack; then the dashboard, the API and the metrics are read.
    const loaded = loadConfig(config, { env: { ...process.env, ...env } });
    const masker = secretMaskerFor(loaded, { ...process.env, ...env });
    const logs = new PassThrough();
    const logged: Buffer[] = [];
    logs.on("data", (chunk: Buffer) => logged.push(chunk));
    const service = await startService({ config: loaded, toolchain: testToolchain().manifest, logger: createLogger({ level: "debug", pretty: false, destination: logs, masker }), masker, env: { ...process.env, ...env } });
    try {
      const get = async (path: string) => {
        const res = await fetch(new URL(path, service.url));
        const text = await res.text();
        outputs.push({ where: `serve GET ${path}`, text });
        return text;
      };
      const served = (runs: RunSummary[]) => runs.filter((run) => run.trigger === "start");
      await until(async () => served((JSON.parse(await get("/api/runs?limit=200")) as { runs: RunSummary[] }).runs).length === Object.keys(r).length, 240_000, "the service's first round");
      const runs = (JSON.parse(await get("/api/runs?limit=200")) as { runs: RunSummary[] }).runs;
      expect(served(runs).find((run) => run.stack === "exec")?.verdict).toBe("in-sync");
      for (const path of ["/", "/approvals", "/audit", "/api/stacks", "/api/audit", "/api/approvals", "/metrics", "/readyz"]) await get(path);
      for (const name of Object.keys(r)) {
        await get(`/stacks/${name}`);
        await get(`/api/stacks/${name}`);
      }
      for (const run of runs) {
        await get(`/runs/${run.runId}`);
        await get(`/api/runs/${run.runId}`);
      }
      const whileServing = snapshotDataDir("while serving");
      expect(whileServing.map((file) => file.slice(dataDir.length + 1))).toEqual(expect.arrayContaining(["driftwatch.db", "driftwatch.db-wal"]));
    } finally {
      await service.stop();
    }
    outputs.push({ where: "serve: logs", text: Buffer.concat(logged).toString("utf8") });
    outputs.push(...slack.requests.map((request) => ({ where: `Slack ${request.method}`, text: JSON.stringify(request.body) })));

    const credentials = { "the admin token": cluster.token, "the reader's token": cluster.tokenOf("reader"), "a revoked token": revoked };
    const forms = Object.entries(credentials).flatMap(([name, value]) => [
      { name, value },
      { name: `${name} (base64)`, value: Buffer.from(value).toString("base64") },
    ]);
    const found = (where: string, text: string) => forms.filter((form) => text.includes(form.value)).map((form) => `${form.name} in ${where}`);
    // The search itself finds what is there: every credential is in the kubeconfigs, read the same way.
    const inKubeconfigs = filesUnder(kubeconfigs).flatMap((file) => found(file, readFileSync(file).toString("latin1")));
    for (const name of Object.keys(credentials)) expect(inKubeconfigs.some((hit) => hit.startsWith(name))).toBe(true);

    const dataFiles = snapshotDataDir("at the end");
    expect(dataFiles.some((file) => file.endsWith("driftwatch.db"))).toBe(true);
    expect(dataFiles.filter((file) => statSync(file).size > 0).length).toBeGreaterThan(1);
    expect(slack.requests.length).toBeGreaterThan(0);
    expect(outputs.flatMap((output) => found(output.where, output.text))).toEqual([]);
  }, 600_000);
});
