// The sandbox attack suite (issue 32): a hostile committer with push access to one watched repository, against a
// Driftwatch watching it beside two neighbours (a Terraform stack with a credential in its `env` and a database
// password in its state; a Kubernetes stack whose kubeconfig holds a bearer token). Four kinds of probe, in the
// attacker's repository (test/fixtures/attack/attacker):
// - tf-builtins: Terraform built-in functions only (file, filebase64, fileset, fileexists, regex, yamldecode, try);
// - tf-shell: a committed shell script run at plan time by data "local_command" (hashicorp/local 2.9.0);
// - pulumi: a Pulumi program (fs, child_process), with a dynamic provider that keeps everything in its state;
// - npm: a Pulumi program's package.json `preinstall` script, which npm runs when Driftwatch installs the
//   program's dependencies; it prints what it read and fails, so npm's output comes back in the run's error.
// Each walks its ancestors to the Driftwatch process (/proc/<pid>/status) and reads their environ, finds the
// config file on that process's command line and reads it, the kubeconfig it names, every Terraform state under
// the data directory, the database, and the environ of the neighbour's engine while it runs; the scripts also start
// a process (setsid) meant to outlive the run. What they read comes back encoded (base64, reversed, rot13), one
// record a line (dwattack|<kind>|<attempt>|<field>|<value>), through the pending diff or the error message.
//
// Everything runs for real, twice: `driftwatch check --json` and `driftwatch serve` as processes of their own (so
// their environ and command line are what an attacker finds in production), with the service's API token, webhook
// secret, Slack token (the Slack stand-in) and Git token in their environment. Each `it` names one kind of thing:
// one secret that must appear in no form in anything Driftwatch shows (stdout, stderr, the API, the dashboard,
// Slack), or one path that each probe must have tried and been refused. On a Driftwatch without an OS sandbox
// (before issue 32) every one of them fails but the first, which checks that the probes ran to their end while
// the neighbour's engine ran: the probes read everything.
//
// The sibling's environ is tried while its engine really runs, without luck in the timing: each probe kind starts a
// beacon process (dwattack-probe-<kind>-<nonce> on its command line) that lives as long as the probe, then waits
// (at most 90 s) until it sees the neighbour's plan (wait.sh, dwattack-neighbour-<nonce>) and the neighbour's
// acknowledgement of its beacon (dwattack-ack-<kind>-<nonce>); the neighbour's plan waits (at most 120 s) until
// every kind's beacon was seen and is gone. Both sides look at /proc/<pid>/cmdline, which stays readable. Under a
// sandbox whose /proc hid other processes the probes would see neither the neighbour nor the service: the first
// `it` says so rather than letting the others pass for that reason. What the attacker knows beforehand (the
// nonce, the neighbour's name, and where the config, data directory, neighbour's state and kubeconfig are, as
// fallbacks for what a sandbox hides from the probes' own discovery) is committed as intel.json, so that every
// attempt is made whatever the sandbox hides.
import { randomBytes } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StackResult } from "../src/core/types.ts";
import type { RunSummary } from "../src/store/api.ts";
import { repoRoot } from "../src/toolchain/paths.ts";
import {
  htmlText,
  leakForms,
  type ProbeRecord,
  probeRecords,
  recordPlain,
  runCliProcess,
  searchable,
  type SearchSpace,
  searchSpace,
  serviceEnvironment,
} from "./support/attack.ts";
import { driftwatch } from "./support/cli.ts";
import { commitFiles, git } from "./support/git.ts";
import { killAll, processesWithMarker, until } from "./support/processes.ts";
import { startServeChild, stopServeChild } from "./support/serve-process.ts";
import { SlackServer } from "./support/slack-server.ts";
import { sharedCacheDir } from "./support/tempdir.ts";
import { engineTimeout } from "./support/timeouts.ts";

const FIXTURES = join(import.meta.dirname, "fixtures", "attack");
const KINDS = ["tf-builtins", "tf-shell", "pulumi", "npm"] as const;
/** The kinds that can start a process (built-in functions cannot). */
const SPAWNING_KINDS = ["tf-shell", "pulumi", "npm"] as const;
const STACKS = ["attacker-tf", "attacker-pulumi", "attacker-npm", "neighbour", "neighbour-k8s"];

const hex = (bytes: number) => randomBytes(bytes).toString("hex");

/** The seven secrets of the review: four of the service's, two of the neighbour's, the kubeconfig's token. */
const SECRET_LABELS = [
  "the service's API token (DRIFTWATCH_API_TOKEN)",
  "the service's webhook secret (DRIFTWATCH_WEBHOOK_SECRET)",
  "the service's Slack token (SLACK_BOT_TOKEN)",
  "the service's Git token (DRIFTWATCH_GIT_TOKEN)",
  "the neighbour's credential (its env)",
  "the neighbour's database password (its Terraform state)",
  "the kubeconfig's bearer token",
] as const;

/** Fresh values of the seven secrets: `env` for the service's environment, `list` in SECRET_LABELS' order. */
function makeSecrets() {
  const env = {
    DRIFTWATCH_API_TOKEN: `dw-api-token-${hex(10)}`,
    DRIFTWATCH_WEBHOOK_SECRET: `dw-webhook-secret-${hex(10)}`,
    SLACK_BOT_TOKEN: `xoxb-${Date.now()}-${hex(10)}`,
    DRIFTWATCH_GIT_TOKEN: `dw-git-token-${hex(10)}`,
    NEIGHBOUR_CREDENTIAL: `neighbour-credential-${hex(10)}`,
    NEIGHBOUR_DB_PASSWORD: `neighbour-db-password-${hex(10)}`,
  };
  const kubeToken = `kube-bearer-token-${hex(10)}`;
  const list = [
    env.DRIFTWATCH_API_TOKEN,
    env.DRIFTWATCH_WEBHOOK_SECRET,
    env.SLACK_BOT_TOKEN,
    env.DRIFTWATCH_GIT_TOKEN,
    env.NEIGHBOUR_CREDENTIAL,
    env.NEIGHBOUR_DB_PASSWORD,
    kubeToken,
  ];
  return { env, kubeToken, list };
}
type Secrets = ReturnType<typeof makeSecrets>;

/** A port nothing listens on (the neighbour's API server: only its kubeconfig file matters here). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Stage {
  root: string;
  nonce: string;
  config: string;
  dataDir: string;
  kubeconfig: string;
  neighbourState: string;
  secrets: Secrets;
  /** The service's process environment. */
  env: NodeJS.ProcessEnv;
}

/**
 * The neighbour's repository (converged, so its state holds the password), the kubeconfig, the attacker's
 * repository, and the attack's driftwatch.yaml (with a `service:` block for serve).
 */
async function stageAttack(prefix: string, secrets: Secrets, slackUrl: string, serviceBlock: string[]): Promise<Stage> {
  const root = mkdtempSync(join(tmpdir(), `driftwatch-attack-${prefix}-`));
  const nonce = hex(6);
  const dataDir = join(root, "data");
  const env = serviceEnvironment(secrets.env);

  // The neighbour's repository: a Terraform stack and a Kubernetes stack.
  const neighbourRepo = join(root, "neighbour-repo");
  mkdirSync(neighbourRepo, { recursive: true });
  git(neighbourRepo, "init", "-q", "-b", "main");
  cpSync(join(FIXTURES, "neighbour"), neighbourRepo, { recursive: true });
  git(neighbourRepo, "add", "-A");
  git(neighbourRepo, "commit", "-q", "-m", "the neighbour's stacks");

  const kubeconfig = join(root, "kube", "kubeconfig");
  mkdirSync(join(root, "kube"), { recursive: true });
  writeFileSync(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      `clusters: [{ name: neighbour, cluster: { server: "https://127.0.0.1:${await closedPort()}", insecure-skip-tls-verify: true } }]`,
      "users: [{ name: neighbour, user: { token: " + secrets.kubeToken + " } }]",
      "contexts: [{ name: neighbour, context: { cluster: neighbour, user: neighbour } }]",
      "current-context: neighbour",
      "",
    ].join("\n"),
    { mode: 0o600 },
  );

  const head = [`dataDir: ${dataDir}`, `cacheDir: ${sharedCacheDir}`];
  const neighbourStack = (rendezvous: string[]) => [
    "  - name: neighbour",
    "    engine: terraform",
    `    source: { repo: ${neighbourRepo}, path: tf }`,
    "    terraform:",
    "      vars:",
    "        db_password: ${env:NEIGHBOUR_DB_PASSWORD}",
    ...rendezvous,
    "    env:",
    "      NEIGHBOUR_CREDENTIAL: ${env:NEIGHBOUR_CREDENTIAL}",
  ];
  // The neighbour's state gets the password: converged before the attacker's first commit.
  const seed = join(root, "seed.yaml");
  writeFileSync(seed, [...head, "stacks:", ...neighbourStack([]), ""].join("\n"));
  const converged = await driftwatch(["--config", seed, "converge", "neighbour"], env);
  if (converged.code !== 0) throw new Error(`converging the neighbour failed (${converged.code}):\n${converged.stdout}\n${converged.stderr}`);
  // Wherever Driftwatch keeps it (<dataDir>/terraform/neighbour/terraform.tfstate before issue 32).
  const neighbourState = (readdirSync(dataDir, { recursive: true, encoding: "utf8" }) as string[])
    .filter((file) => file.endsWith(".tfstate"))
    .map((file) => join(dataDir, file))
    .find((file) => readFileSync(file, "utf8").includes(secrets.env.NEIGHBOUR_DB_PASSWORD));
  if (!neighbourState) throw new Error(`no Terraform state under ${dataDir} holds the neighbour's database password: the scenario's premise is gone\n${converged.stdout}`);

  const config = join(root, "driftwatch.yaml");
  // What the attacker knows beforehand (see attacker/tf/main.tf).
  const intel = { nonce, neighbour: "neighbour", config, dataDir, neighbourState, kubeconfig };
  const intelJson = `${JSON.stringify(intel, null, 2)}\n`;
  const attackerRepo = join(root, "attacker-repo");
  mkdirSync(attackerRepo, { recursive: true });
  git(attackerRepo, "init", "-q", "-b", "main");
  const probe = readFileSync(join(FIXTURES, "attacker", "probe.js"), "utf8");
  const demo = join(repoRoot, "stacks", "demo-files");
  cpSync(join(FIXTURES, "attacker", "tf"), join(attackerRepo, "tf"), { recursive: true });
  cpSync(join(FIXTURES, "attacker", "pulumi"), join(attackerRepo, "pulumi"), { recursive: true });
  cpSync(join(FIXTURES, "attacker", "npm"), join(attackerRepo, "npm"), { recursive: true });
  // The npm probe lives in package.json itself: Driftwatch installs from a folder holding only that file. The run's
  // error keeps the last 20,000 characters of npm's output: what was read goes first, what was tried (targets,
  // statuses, the end marker) last, so that a long read never pushes those out.
  const npmRun = [
    `const lines = module.exports.runProbe({ kind: "npm", beacon: "npm", intel: ${JSON.stringify(intel)}, blobs: false });`,
    "const read = (line) => /\\|(juicy\\.|blob\\.)/.test(line);",
    'console.log([...lines.filter(read), ...lines.filter((line) => !read(line))].join("\\n"));',
    "process.exitCode = 1;",
  ].join("\n");
  const npmProbe = `${probe}\n;{\n${npmRun}\n}\n`;
  commitFiles(
    attackerRepo,
    {
      "tf/intel.json": intelJson,
      "pulumi/intel.json": intelJson,
      "pulumi/probe.js": probe,
      // The demo program's dependencies (the tests' shared npm cache has them).
      "pulumi/package.json": readFileSync(join(demo, "package.json"), "utf8"),
      "pulumi/package-lock.json": readFileSync(join(demo, "package-lock.json"), "utf8"),
      "npm/package.json": `${JSON.stringify(
        { name: "attacker-npm", private: true, main: "index.ts", scripts: { preinstall: "node -e \"eval(require('./package.json').probe)\"" }, probe: npmProbe },
        null,
        2,
      )}\n`,
    },
    "probes",
  );

  const own = ["    pulumi: { stack: dev }", "    alerts: { pending: true }", "    env:", "      PULUMI_CONFIG_PASSPHRASE: attacker-own-passphrase"];
  writeFileSync(
    config,
    [
      ...head,
      "alerts:",
      `  slack: { channel: "#attack", apiUrl: "${slackUrl}" }`,
      ...serviceBlock,
      "stacks:",
      "  - name: attacker-tf",
      "    engine: terraform",
      `    source: { repo: ${attackerRepo}, path: tf }`,
      "    alerts: { pending: true }",
      "  - name: attacker-pulumi",
      "    engine: pulumi",
      `    source: { repo: ${attackerRepo}, path: pulumi }`,
      ...own,
      "  - name: attacker-npm",
      "    engine: pulumi",
      `    source: { repo: ${attackerRepo}, path: npm }`,
      ...own,
      ...neighbourStack(["        rendezvous: dwattack-neighbour-" + nonce + " 120 tf pulumi npm"]),
      "  - name: neighbour-k8s",
      "    engine: kubernetes",
      `    source: { repo: ${neighbourRepo}, path: k8s }`,
      "    kubernetes:",
      `      kubeconfig: ${kubeconfig}`,
      "",
    ].join("\n"),
  );
  return { root, nonce, config, dataDir, kubeconfig, neighbourState, secrets, env };
}

/** What one run of the attack left for the assertions. */
interface Phase {
  stage: Stage;
  /** Everything Driftwatch showed, by where it showed it. */
  channels: { name: string; space: SearchSpace }[];
  records: ProbeRecord[];
  /** The Driftwatch process. */
  servicePid: number;
  /** Processes of the probes still running after the runs were over: pid and command line. */
  lingering: string[];
  /** Each stack's verdict or error, for messages. */
  outcome: string;
}

function lingeringProcesses(nonce: string): string[] {
  return processesWithMarker(`-${nonce}`)
    .map((pid) => {
      try {
        return `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, "latin1").replaceAll("\0", " ").trim()}`;
      } catch {
        return "";
      }
    })
    .filter((line) => line.includes(`dwattack-linger-`));
}

/** Ends what the probes started (they carry this run's nonce), and removes the stage. */
function cleanUp(stage: Stage | undefined): void {
  if (!stage) return;
  killAll(processesWithMarker(`-${stage.nonce}`));
  rmSync(stage.root, { recursive: true, force: true });
}

function outcomeOf(results: StackResult[]): string {
  return results.map((r) => `${r.stack}: ${r.error ? `${r.error.kind}: ${r.error.message.slice(0, 300)}` : r.verdict}`).join("\n");
}

/**
 * With DRIFTWATCH_ATTACK_DUMP=<dir>, what the probes reported under each command (their records and each stack's
 * outcome) is written to <dir>/<command>.json, to see what a run found beyond what the assertions say.
 */
function dump(command: string, phase: Phase): void {
  const dir = process.env.DRIFTWATCH_ATTACK_DUMP;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${command}.json`), `${JSON.stringify({ servicePid: phase.servicePid, outcome: phase.outcome, lingering: phase.lingering, records: phase.records }, null, 2)}\n`);
}

/** The assertions, the same under check and under serve. */
function attackAssertions(phaseOf: () => Phase): void {
  const recordsOf = (kind: string, attempt?: string) => phaseOf().records.filter((r) => r.kind === kind && (attempt === undefined || r.attempt === attempt));
  const field = (kind: string, attempt: string, name: string) => recordsOf(kind, attempt).find((r) => r.field === name)?.value;
  /** Each attempt of `kind` whose id matches, with its target and status. */
  const attempts = (kind: string, id: RegExp) =>
    [...new Set(recordsOf(kind).filter((r) => id.test(r.attempt)).map((r) => r.attempt))].map((attempt) => ({
      attempt,
      target: field(kind, attempt, "target"),
      status: field(kind, attempt, "status"),
    }));
  const refused = (status: string | undefined) => status !== undefined && status !== "read";
  const context = () => `\nstacks:\n${phaseOf().outcome}`;

  /** Where the probes read `secret` (kind, attempt, target), from their own records. */
  const readThrough = (secret: string): string[] => {
    const phase = phaseOf();
    const places = new Set<string>();
    for (const record of phase.records) {
      if (!/(^|\.)(b64|rev|rot13|clear)$/.test(record.field) || !recordPlain(record).includes(secret)) continue;
      const target = field(record.kind, record.attempt, "target") ?? "?";
      const whose = target === `/proc/${phase.servicePid}/environ` ? " (the Driftwatch process)" : record.attempt.startsWith("sibling") ? " (the neighbour's running engine)" : "";
      places.add(`${record.kind} ${record.attempt}: ${target}${whose}`);
    }
    return [...places].sort();
  };

  it("runs every probe to its end, while the neighbour's engine runs (else the rest proves nothing)", () => {
    const problems: string[] = [];
    for (const kind of KINDS) {
      if (field(kind, "end", "marker") !== "PROBE-END") problems.push(`${kind}: no end marker${field(kind, "crash", "message") ? ` (crashed: ${field(kind, "crash", "message")})` : " (it never ran, or crashed)"}`);
      if (field(kind, "sibling", "status") !== "seen") problems.push(`${kind}: did not see the neighbour's engine running (${field(kind, "sibling", "status") ?? "no record"})`);
    }
    expect(problems, context()).toEqual([]);
  });

  SECRET_LABELS.forEach((label, i) => {
    it(`never shows ${label}, in any form`, () => {
      const phase = phaseOf();
      const value = phase.stage.secrets.list[i]!;
      const shown = phase.channels.flatMap((channel) => {
        const forms = leakForms(channel.space, value);
        return forms.length ? [`${channel.name}: ${forms.join("; ")}`] : [];
      });
      expect(shown, `read through: ${readThrough(value).join("; ") || "(no probe record holds it)"}`).toEqual([]);
    });
  });

  /** For each kind: `tried` says which of its attempts must exist, each refused. */
  const requireRefused = (kinds: readonly string[], tried: (kind: string) => { attempt: string; target: string | undefined; status: string | undefined }[], what: string) => {
    const problems: string[] = [];
    for (const kind of kinds) {
      const list = tried(kind);
      if (list.length === 0) problems.push(`${kind}: never tried ${what}`);
      for (const a of list) if (!refused(a.status)) problems.push(`${kind}: ${a.attempt} ${a.target ?? ""} → ${a.status ?? "no status"}`);
    }
    expect(problems, context()).toEqual([]);
  };

  it("refuses the Driftwatch process's environment (/proc/<pid>/environ)", () => {
    const service = `/proc/${phaseOf().servicePid}/environ`;
    requireRefused(KINDS, (kind) => attempts(kind, /environ$/).filter((a) => a.target === service), service);
  });

  it("refuses the environment of a sibling stack's running engine", () => {
    requireRefused(KINDS, (kind) => (field(kind, "sibling", "status") === "seen" ? attempts(kind, /^sibling.*\.environ$/) : []), "a sibling's environ while it ran");
  });

  it("refuses the configuration file", () => {
    const config = phaseOf().stage.config;
    requireRefused(KINDS, (kind) => attempts(kind, /^config$/).filter((a) => a.target === config), config);
  });

  it("refuses the database", () => {
    const database = join(phaseOf().stage.dataDir, "driftwatch.db");
    requireRefused(KINDS, (kind) => attempts(kind, /^database/).filter((a) => a.target?.startsWith(database)), database);
  });

  it("refuses another stack's Terraform state", () => {
    const state = phaseOf().stage.neighbourState;
    requireRefused(
      KINDS,
      (kind) => {
        const all = attempts(kind, /^state\./);
        return all.some((a) => a.target === state) ? all : [];
      },
      state,
    );
  });

  it("refuses the kubeconfig", () => {
    const kubeconfig = phaseOf().stage.kubeconfig;
    requireRefused(KINDS, (kind) => attempts(kind, /^kubeconfig$/).filter((a) => a.target === kubeconfig), kubeconfig);
  });

  it("leaves no process behind once the runs are over", () => {
    const notTried = SPAWNING_KINDS.filter((kind) => field(kind, "linger", "status") === undefined);
    expect(notTried, `probes that never tried to start a lasting process${context()}`).toEqual([]);
    expect(phaseOf().lingering).toEqual([]);
  });
}

const channel = (name: string, text: string) => ({ name, space: searchSpace(text) });
const slackChannel = (slack: SlackServer) => channel("the Slack stand-in's requests", searchable(JSON.stringify(slack.requests.map((r) => r.body))));

describe("sandbox attack: driftwatch check", () => {
  let slack: SlackServer | undefined;
  let stage: Stage | undefined;
  let phase: Phase | undefined;

  beforeAll(async () => {
    const secrets = makeSecrets();
    slack = await SlackServer.start(secrets.env.SLACK_BOT_TOKEN);
    stage = await stageAttack("check", secrets, slack.url, []);
    const run = await runCliProcess(["--config", stage.config, "check", "--json", "--concurrency", "8"], stage.env);
    const lingering = lingeringProcesses(stage.nonce);
    let results: StackResult[] = [];
    try {
      results = (JSON.parse(run.stdout) as { results: StackResult[] }).results;
    } catch {
      throw new Error(`check --json printed no JSON (exit ${run.code}):\n${run.stdout.slice(0, 2000)}\n${run.stderr.slice(-4000)}`);
    }
    phase = {
      stage,
      channels: [channel("check's stdout (--json)", searchable(run.stdout)), channel("check's stderr (the log)", searchable(run.stderr)), slackChannel(slack)],
      records: probeRecords(results),
      servicePid: run.pid,
      lingering,
      outcome: outcomeOf(results),
    };
    dump("check", phase);
  }, engineTimeout(90));

  afterAll(async () => {
    await slack?.close();
    cleanUp(stage);
  });

  attackAssertions(() => phase!);
});

describe("sandbox attack: driftwatch serve", () => {
  let slack: SlackServer | undefined;
  let stage: Stage | undefined;
  let phase: Phase | undefined;

  beforeAll(async () => {
    const secrets = makeSecrets();
    slack = await SlackServer.start(secrets.env.SLACK_BOT_TOKEN);
    const service = ["service:", '  schedule: "0 0 1 1 *"', "  jitterSeconds: 0", "  gitPollSeconds: 0", "  concurrency: 8", "  http: { port: 0 }"];
    stage = await stageAttack("serve", secrets, slack.url, service);
    const serve = await startServeChild(stage.config, stage.env);
    try {
      const get = async (path: string) => {
        const res = await fetch(new URL(path, serve.url));
        return res.text();
      };
      const runsOf = async (stack: string) => (JSON.parse(await get(`/api/runs?stack=${stack}&limit=50`)) as { runs: RunSummary[] }).runs;
      // The service's first round (runOnStart) recorded for every stack (the neighbour also has the seeding converge).
      const started = async () => (await Promise.all(STACKS.map(runsOf))).every((runs) => runs.some((run) => run.trigger === "start"));
      await until(started, engineTimeout(60), "a recorded run of every stack");
      const lingering = lingeringProcesses(stage.nonce);
      const api: string[] = [await get("/api/stacks")];
      const html: string[] = [await get("/")];
      const runs: StackResult[] = [];
      for (const stack of STACKS) {
        api.push(await get(`/api/runs?stack=${stack}&limit=50`), await get(`/api/stacks/${stack}`));
        html.push(await get(`/stacks/${stack}`));
        for (const summary of await runsOf(stack)) {
          const run = await get(`/api/runs/${summary.runId}`);
          api.push(run);
          runs.push(JSON.parse(run) as StackResult);
          html.push(await get(`/runs/${summary.runId}`));
        }
      }
      await stopServeChild(serve);
      phase = {
        stage,
        channels: [
          channel("the HTTP API's JSON", api.map(searchable).join("\n")),
          channel("the dashboard's HTML", html.map(htmlText).join("\n")),
          channel("serve's stderr (the log)", searchable(serve.log.join("\n"))),
          slackChannel(slack),
        ],
        records: probeRecords(runs),
        servicePid: serve.pid,
        lingering,
        outcome: outcomeOf(runs),
      };
      dump("serve", phase);
    } finally {
      await stopServeChild(serve);
    }
  }, engineTimeout(90));

  afterAll(async () => {
    await slack?.close();
    cleanUp(stage);
  });

  attackAssertions(() => phase!);
});
