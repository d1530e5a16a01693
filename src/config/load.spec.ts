import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../test/support/tempdir.ts";
import { ConfigError } from "../core/errors.ts";
import { repoRoot } from "../toolchain/paths.ts";
import { interpolate, loadConfig, parseConfig } from "./load.ts";
import { DEFAULT_REMEDIATION } from "./remediation.ts";
import { knownSecrets, secretMaskerFor } from "./secrets.ts";
import type { PulumiSettings, StackConfig } from "./types.ts";

const FILE = "/srv/watch/driftwatch.yaml";

const minimalStack = `
  - name: demo-files
    engine: pulumi
    source:
      repo: .
    pulumi:
      stack: dev
`;

/** The Pulumi settings of a loaded stack (failing the test when it is another engine's). */
function pulumiOf(stack: StackConfig | undefined): PulumiSettings {
  if (stack?.engine !== "pulumi") throw new Error(`not a pulumi stack: ${stack?.name}`);
  return stack.pulumi;
}

/** The ConfigError parseConfig throws for `text`. */
function configError(text: string, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    parseConfig(text, FILE, { env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig: defaults and paths", () => {
  it("applies every default and resolves paths against the file's folder", () => {
    const config = parseConfig(`stacks:${minimalStack}`, FILE, { env: {} });
    expect(config).toEqual({
      file: FILE,
      skipped: [],
      environmentValues: [],
      dataDir: "/srv/watch/.driftwatch",
      cacheDir: "/srv/watch/.driftwatch/cache",
      engines: {},
      database: { kind: "sqlite", file: "/srv/watch/.driftwatch/driftwatch.db" },
      stacks: [
        {
          name: "demo-files",
          engine: "pulumi",
          source: { repo: "/srv/watch", ref: "main", path: "." },
          // Each stack's own backend folder, so its program (in its sandbox) reaches its own state only.
          pulumi: { stack: "dev", backendUrl: "file:///srv/watch/.driftwatch/pulumi/demo-files/backend" },
          env: {},
          timeoutSeconds: 600,
          alerts: { pending: false, mute: false },
          schedule: { expression: "*/15 * * * *", timezone: "UTC" },
          remediation: DEFAULT_REMEDIATION,
          approvers: [],
          actions: { restrict: false },
          ignore: [],
          flapping: { threshold: 3, windowMs: 86_400_000 },
          // Strict by default, nothing granted; the CPU-time limit is the stack's timeout (at least 60 s).
          sandbox: { level: "strict", readOnly: [], readWrite: [], connectPorts: [], memoryBytes: 4096 * 1024 * 1024, cpuSeconds: 600 },
        },
      ],
      alerts: { log: true, failureRepeatMs: 3_600_000, deliveryTimeoutMs: 30_000, redact: { patterns: [] } },
      service: {
        jitterMs: 30_000,
        runOnStart: true,
        gitPollMs: 60_000,
        stopGraceMs: 30_000,
        http: { host: "127.0.0.1", port: 8080, publicRead: true, allowedHosts: [], apiTokenEnv: "DRIFTWATCH_API_TOKEN", webhookSecretEnv: "DRIFTWATCH_WEBHOOK_SECRET" },
      },
      git: { tokenHosts: [], timeoutMs: 300_000 },
      reports: [],
      sandbox: { level: "strict" },
    });
  });

  it("keeps the caches where cacheDir says, relative to the file's folder", () => {
    const config = parseConfig(`cacheDir: ../shared-cache\nstacks:${minimalStack}`, FILE, { env: {} });
    expect(config.cacheDir).toBe("/srv/shared-cache");
    expect(config.dataDir).toBe("/srv/watch/.driftwatch");
  });

  it("takes installed engines from engines.<name>.path, relative to the file's folder; an unknown engine is an error", () => {
    const config = parseConfig(`engines:\n  tofu: { path: /usr/local/bin/tofu }\n  pulumi: { path: tools/pulumi/bin/pulumi }\nstacks:${minimalStack}`, FILE, { env: {} });
    expect(config.engines).toEqual({ tofu: "/usr/local/bin/tofu", pulumi: "/srv/watch/tools/pulumi/bin/pulumi" });
    expect(configError(`engines:\n  helm: { path: /usr/bin/helm }\nstacks:${minimalStack}`).issues).toEqual([
      "engines.helm: unknown key (allowed: pulumi, tofu, terraform, kustomize) (line 2)",
    ]);
  });

  it("keeps the history in SQLite under dataDir unless database.url names PostgreSQL, whose password is masked", () => {
    expect(parseConfig(`stacks:${minimalStack}`, FILE, { env: {} }).database).toEqual({ kind: "sqlite", file: "/srv/watch/.driftwatch/driftwatch.db" });
    const url = "postgres://watcher:p%40ss-w0rd-long@db.internal:5432/driftwatch?sslmode=require";
    const config = parseConfig(`database:\n  url: \${env:DATABASE_URL}\nstacks:${minimalStack}`, FILE, { env: { DATABASE_URL: url } });
    expect(config.database).toEqual({ kind: "postgres", url, poolSize: 10, heartbeatSeconds: 30, location: "postgres://watcher:***@db.internal:5432/driftwatch?sslmode=require" });
    const masker = secretMaskerFor(config, {});
    expect(masker.text(`url ${url} password p@ss-w0rd-long`)).toBe("url [secret] password [secret]");
    const literal = parseConfig(`database: { url: "postgresql://u:literal-secret-9@h/d", poolSize: 3 }\nstacks: []`, FILE, { env: {} });
    expect(literal.database).toMatchObject({ kind: "postgres", poolSize: 3, location: "postgresql://u:***@h/d" });
    expect(secretMaskerFor(literal, {}).text("literal-secret-9")).toBe("[secret]");
    expect(configError(`database: { url: "mysql://u:hunter2-x@h/d" }`).message).toMatch(/database\.url: must be a PostgreSQL URL(?![^]*hunter2)/);
    expect(configError(`database: { url: "postgres://h/d", poolSize: 1 }`).message).toContain("database.poolSize");
  });

  it("reads the service section, per-stack schedules and the tokens from the environment", () => {
    const config = parseConfig(
      `service:
  schedule: "0 * * * *"
  timezone: Europe/Berlin
  jitterSeconds: 5
  gitPollSeconds: 0
  http: { port: 0, publicRead: false, allowedHosts: [Driftwatch.Example.com, .corp.example] }
stacks:
  - { name: a, engine: terraform, source: { repo: . }, schedule: "*/5 * * * *", timezone: UTC }
  - { name: b, engine: terraform, source: { repo: . } }
`,
      FILE,
      { env: { DRIFTWATCH_API_TOKEN: "api-token", DRIFTWATCH_WEBHOOK_SECRET: "hook-secret" } },
    );
    expect(config.service).toMatchObject({ jitterMs: 5000, gitPollMs: 0, http: { port: 0, publicRead: false, allowedHosts: ["driftwatch.example.com", ".corp.example"], apiToken: "api-token", webhookSecret: "hook-secret" } });
    expect(config.stacks.map((s) => s.schedule)).toEqual([
      { expression: "*/5 * * * *", timezone: "UTC" },
      { expression: "0 * * * *", timezone: "Europe/Berlin" },
    ]);
  });

  it("refuses schedules more often than once a minute, invalid cron and unknown time zones", () => {
    const error = configError(`service: { schedule: "*/10 * * * * *", timezone: Mars/Olympus }
stacks:
  - { name: a, engine: terraform, source: { repo: . }, schedule: "61 * * * *" }
`);
    expect(error.issues).toEqual([
      expect.stringMatching(/^service\.schedule: must be a cron expression with five fields .*minimum interval is one minute \(line 1\)$/),
      "service.timezone: must be an IANA time zone such as UTC or Europe/Berlin (line 1)",
      "stacks[0] (a).schedule: is not a valid cron expression (line 3)",
    ]);
  });

  it("refuses allowed hosts that are not bare host names", () => {
    const error = configError(`service: { http: { allowedHosts: ["https://driftwatch.example.com", "driftwatch.example.com:8080"] } }\nstacks: []\n`);
    expect(error.issues).toEqual([
      "service.http.allowedHosts[0]: must be a host name such as driftwatch.example.com, or .example.com for it and its subdomains (no scheme, no port) (line 1)",
      "service.http.allowedHosts[1]: must be a host name such as driftwatch.example.com, or .example.com for it and its subdomains (no scheme, no port) (line 1)",
    ]);
  });

  it("reads alerts: Slack with the token from the environment, per-stack channel, redaction", () => {
    const config = parseConfig(
      `alerts:
  slack: { channel: "#drift", mentionUserGroup: S0123ABCD, timeoutSeconds: 5 }
  dashboardUrl: https://driftwatch.example.com/
  redact: { patterns: ["corp-[0-9]+"], showValuesOf: ["tags.*"] }
stacks:
  - { name: a, engine: terraform, source: { repo: . }, alerts: { channel: C0TEAMNET, pending: true } }
`,
      FILE,
      { env: { SLACK_BOT_TOKEN: "xoxb-test" } },
    );
    expect(config.alerts).toEqual({
      log: true,
      slack: { token: "xoxb-test", tokenEnv: "SLACK_BOT_TOKEN", channel: "#drift", mentionUserGroup: "S0123ABCD", timeoutMs: 5000, retries: 3, maxRateLimitWaitMs: 30_000, signingSecretEnv: "SLACK_SIGNING_SECRET" },
      dashboardUrl: "https://driftwatch.example.com/",
      failureRepeatMs: 3_600_000,
      deliveryTimeoutMs: 30_000,
      redact: { patterns: ["corp-[0-9]+"], showValuesOf: ["tags.*"] },
    });
    expect(config.stacks[0]?.alerts).toEqual({ channel: "C0TEAMNET", pending: true, mute: false });
  });

  it("reads who may act from Slack: the signing secret from the environment, approvers and actions per stack over the defaults", () => {
    const config = parseConfig(
      `alerts:
  slack: { channel: "#drift", signingSecretEnv: DW_SIGNING }
defaults:
  approvers: [U0PLATFORM, S0PLATFORM]
  actions: { restrict: true }
stacks:
  - { name: a, engine: terraform, source: { repo: . } }
  - { name: b, engine: terraform, source: { repo: . }, approvers: [W0ENTERPRISE], actions: { restrict: false } }
`,
      FILE,
      { env: { SLACK_BOT_TOKEN: "xoxb-test", DW_SIGNING: "signing-secret-value" } },
    );
    expect(config.alerts.slack).toMatchObject({ signingSecretEnv: "DW_SIGNING", signingSecret: "signing-secret-value" });
    expect(config.stacks.map((s) => [s.name, s.approvers, s.actions])).toEqual([
      ["a", ["U0PLATFORM", "S0PLATFORM"], { restrict: true }],
      ["b", ["W0ENTERPRISE"], { restrict: false }],
    ]);
    expect(knownSecrets(config, {})).toContain("signing-secret-value");
    const unset = parseConfig('alerts: { slack: { channel: "#drift" } }\n', FILE, { env: { SLACK_BOT_TOKEN: "xoxb-test" } });
    expect(unset.alerts.slack).not.toHaveProperty("signingSecret");

    expect(() => parseConfig("stacks:\n  - { name: a, engine: terraform, source: { repo: . }, approvers: [alice, C0CHANNEL1] }\n", FILE, { env: {} })).toThrow(
      /stacks\[0\] \(a\)\.approvers\[0\]: must be a Slack user id \(U0123ABCD\) or user group id \(S0123ABCD\); names change, ids do not[\s\S]*approvers\[1\]/,
    );
  });

  it("rejects alert settings that cannot work: missing token, bad channel, bad pattern", () => {
    const error = configError(`alerts:
  slack: { channel: "not a channel", tokenEnv: MY_SLACK }
  redact: { patterns: ["(unclosed"] }
`);
    expect(error.issues).toEqual([
      "alerts.slack.channel: must be a Slack channel name (#drift) or id (C0123ABCD) (line 2)",
      "alerts.slack: environment variable MY_SLACK is not set (it holds the Slack bot token, xoxb-…) (line 2)",
      expect.stringMatching(/^alerts\.redact\.patterns\[0\]: not a valid regular expression: .* \(line 3\)$/),
    ]);
  });

  it("makes the file path absolute", () => {
    const config = parseConfig("stacks: []", "conf/driftwatch.yaml", { env: {} });
    expect(config.file).toBe(join(process.cwd(), "conf/driftwatch.yaml"));
    expect(config.dataDir).toBe(join(process.cwd(), "conf/.driftwatch"));
  });

  it("accepts an empty file and an empty stack list", () => {
    expect(parseConfig("", FILE).stacks).toEqual([]);
    expect(parseConfig("# nothing yet\n", FILE).stacks).toEqual([]);
    expect(parseConfig("stacks: []\n", FILE).stacks).toEqual([]);
  });

  it("honours dataDir, defaults.timeoutSeconds and per-stack overrides", () => {
    const config = parseConfig(
      `dataDir: ../state
defaults:
  timeoutSeconds: 120
stacks:
  - name: a
    engine: pulumi
    source: { repo: ../infra, ref: v1.2.3, path: ./stacks//app/ }
    pulumi: { stack: prod }
  - name: b.2_x-y
    engine: pulumi
    source: { repo: /abs/repo, path: "." }
    pulumi: { stack: org/project/dev }
    timeoutSeconds: 30
`,
      FILE,
      { env: {} },
    );
    expect(config.dataDir).toBe("/srv/state");
    const [a, b] = config.stacks;
    expect(a?.source).toEqual({ repo: "/srv/infra", ref: "v1.2.3", path: "stacks/app" });
    expect(a?.timeoutSeconds).toBe(120);
    expect(pulumiOf(a).backendUrl).toBe("file:///srv/state/pulumi/a/backend");
    expect(pulumiOf(b).backendUrl).toBe("file:///srv/state/pulumi/b.2_x-y/backend");
    expect(b?.source).toEqual({ repo: "/abs/repo", ref: "main", path: "." });
    expect(b?.timeoutSeconds).toBe(30);
    expect(pulumiOf(b).stack).toBe("org/project/dev");
  });

  it("reads terraform stacks: defaults, binary paths, vars and backend config interpolated", () => {
    const config = parseConfig(
      `stacks:
  - { name: plain, engine: terraform, source: { repo: ., path: infra/net } }
  - name: full
    engine: terraform
    source: { repo: . }
    terraform:
      binary: ./bin/tofu
      workspace: prod
      varFiles: [prod.tfvars, ../shared/common.tfvars]
      vars: { region: eu-west-1, replicas: 3, enabled: true, db_password: "\${env:DB_PASSWORD}" }
      backendConfig: { bucket: "state-\${env:TEAM:-core}", key: net.tfstate }
  - { name: named, engine: terraform, source: { repo: . }, terraform: { binary: terraform } }
`,
      FILE,
      { env: { DB_PASSWORD: "hunter2" } },
    );
    const [plain, full, named] = config.stacks;
    expect(plain).toEqual({
      name: "plain",
      engine: "terraform",
      source: { repo: "/srv/watch", ref: "main", path: "infra/net" },
      terraform: { varFiles: [], vars: {}, backendConfig: {} },
      env: {},
      timeoutSeconds: 600,
      alerts: { pending: false, mute: false },
      schedule: { expression: "*/15 * * * *", timezone: "UTC" },
      remediation: DEFAULT_REMEDIATION,
      approvers: [],
      actions: { restrict: false },
      ignore: [],
      flapping: { threshold: 3, windowMs: 86_400_000 },
      sandbox: { level: "strict", readOnly: [], readWrite: [], connectPorts: [], memoryBytes: 4096 * 1024 * 1024, cpuSeconds: 600 },
    });
    expect(full?.engine === "terraform" && full.terraform).toEqual({
      binary: "/srv/watch/bin/tofu",
      workspace: "prod",
      varFiles: ["prod.tfvars", "../shared/common.tfvars"],
      vars: { region: "eu-west-1", replicas: "3", enabled: "true", db_password: "hunter2" },
      backendConfig: { bucket: "state-core", key: "net.tfstate" },
    });
    expect(named?.engine === "terraform" && named.terraform.binary).toBe("terraform");
  });

  it("rejects terraform settings that are wrong, naming the key and the stack", () => {
    const error = configError(`stacks:
  - name: tf
    engine: terraform
    source: { repo: . }
    pulumi: { stack: dev }
    terraform:
      binary: -tofu
      workspace: "has space"
      varFiles: [/etc/x.tfvars]
      vars: { ok: "\${env:MISSING}", list: [a] }
      backend: {}
`);
    expect(error.issues).toEqual([
      "stacks[0] (tf).pulumi: unknown key (allowed: name, source, env, timeoutSeconds, alerts, schedule, timezone, remediation, approvers, actions, ignore, flapping, sandbox, requiresEnv, engine, terraform) (line 5)",
      "stacks[0] (tf).terraform.binary: must be tofu, terraform or the path of a binary (line 7)",
      expect.stringMatching(/^stacks\[0\] \(tf\)\.terraform\.workspace: must be a workspace name .* \(line 8\)$/),
      "stacks[0] (tf).terraform.varFiles[0]: must be a path relative to the root module (source.path) (line 9)",
      expect.stringMatching(/^stacks\[0\] \(tf\)\.terraform\.vars\.list: must be a string, number or boolean .* \(line 10\)$/),
      expect.stringMatching(/^stacks\[0\] \(tf\)\.terraform\.vars\.ok: environment variable MISSING is not set .* \(line 10\)$/),
      "stacks[0] (tf).terraform.backend: unknown key (allowed: binary, workspace, varFiles, vars, backendConfig) (line 11)",
    ]);
  });

  it("keeps remote repositories as written and resolves relative file:// URLs", () => {
    const repos = [
      ["https://github.com/acme/infra.git", "https://github.com/acme/infra.git"],
      ["ssh://git@github.com/acme/infra.git", "ssh://git@github.com/acme/infra.git"],
      ["git@github.com:acme/infra.git", "git@github.com:acme/infra.git"],
      ["file:///opt/repos/infra", "file:///opt/repos/infra"],
      ["file://./repos/infra", "file:///srv/watch/repos/infra"],
    ];
    const stacks = repos
      .map(([repo], i) => `  - { name: s${i}, engine: pulumi, source: { repo: "${repo}" }, pulumi: { stack: dev } }\n`)
      .join("");
    const config = parseConfig(`stacks:\n${stacks}`, FILE, { env: {} });
    expect(config.stacks.map((s) => s.source.repo)).toEqual(repos.map(([, expected]) => expected));
  });

  it("refuses git's transport::address form (ext::, fd::), which runs commands, naming the stack and key", () => {
    const repos = ["ext::/tmp/run-me", "fd::3", "ext::sh -c touch% /tmp/pwned", "Custom+helper::https://example.com/x"];
    const stacks = repos.map((repo, i) => `  - { name: s${i}, engine: pulumi, source: { repo: "${repo}" }, pulumi: { stack: dev } }\n`).join("");
    expect(configError(`stacks:\n${stacks}`).issues).toEqual(
      repos.map((_, i) => `stacks[${i}] (s${i}).source.repo: must not use git's <transport>::<address> form (ext::, fd::, …): it runs a command; use a local path, a file:// or https:// URL, or an ssh URL (line ${i + 2})`),
    );
  });

  it("sends the git token only to the hosts of the https repositories unless git.tokenHosts names them", () => {
    const stacks = [
      "https://github.com/acme/infra.git",
      "https://GitLab.example.com:8443/team/app.git",
      "https://github.com/acme/other.git",
      "git@bitbucket.org:acme/x.git",
      "/srv/local",
    ]
      .map((repo, i) => `  - { name: s${i}, engine: pulumi, source: { repo: "${repo}" }, pulumi: { stack: dev } }\n`)
      .join("");
    const derived = parseConfig(`stacks:\n${stacks}`, FILE, { env: {} });
    expect(derived.git).toEqual({ tokenHosts: ["github.com", "gitlab.example.com:8443"], timeoutMs: 300_000 });
    const explicit = parseConfig(`git: { tokenHosts: [GitHub.com, "*.corp.example", "[::1]:8443"], timeoutSeconds: 20 }\nstacks:\n${stacks}`, FILE, { env: {} });
    expect(explicit.git).toEqual({ tokenHosts: ["github.com", "*.corp.example", "[::1]:8443"], timeoutMs: 20_000 });
    expect(parseConfig(`git: { tokenHosts: [] }\nstacks:\n${stacks}`, FILE, { env: {} }).git.tokenHosts).toEqual([]);
    expect(configError(`git: { tokenHosts: ["https://github.com/", "github.com/acme"], timeoutSeconds: 0 }\n`).issues).toEqual([
      "git.tokenHosts[0]: must be a host name, optionally with a port (github.com, git.example.com:8443) or a leading *. for its subdomains; no scheme or path (line 1)",
      "git.tokenHosts[1]: must be a host name, optionally with a port (github.com, git.example.com:8443) or a leading *. for its subdomains; no scheme or path (line 1)",
      "git.timeoutSeconds: must be a positive whole number of seconds (line 1)",
    ]);
  });

  it("resolves a relative file:// backend against the file's folder and keeps other backends", () => {
    const backends = [
      ["file://./state", "file:///srv/watch/state"],
      ["file://state/x", "file:///srv/watch/state/x"],
      ["file:///var/lib/pulumi", "file:///var/lib/pulumi"],
      ["file://~/.pulumi", "file://~/.pulumi"],
      ["s3://bucket/prefix?region=eu-west-1", "s3://bucket/prefix?region=eu-west-1"],
      ["https://api.pulumi.com", "https://api.pulumi.com"],
    ];
    const stacks = backends
      .map(([url], i) => `  - { name: s${i}, engine: pulumi, source: { repo: . }, pulumi: { stack: dev, backendUrl: "${url}" } }\n`)
      .join("");
    const config = parseConfig(`stacks:\n${stacks}`, FILE, { env: {} });
    expect(config.stacks.map((s) => pulumiOf(s).backendUrl)).toEqual(backends.map(([, expected]) => expected));
  });

  it("loads the repository's own driftwatch.yaml", () => {
    const config = loadConfig(join(repoRoot, "driftwatch.yaml"), { env: {} });
    expect(config.dataDir).toBe(join(repoRoot, ".driftwatch"));
    expect(config.stacks.map((s) => s.name)).toContain("demo-files");
  });
});

describe("parseConfig: the sandbox", () => {
  it("gives every stack the top-level level unless it names its own, its grants made absolute and interpolated", () => {
    const config = parseConfig(
      `dataDir: /var/lib/dw
sandbox: files
defaults: { timeoutSeconds: 30 }
stacks:
  - name: world
    engine: terraform
    source: { repo: . }
    timeoutSeconds: 900
    sandbox:
      readOnly: [ca/bundle.pem, "\${env:SHARED}/models"]
      readWrite:
        - \${dataDir}/world/demo
        - ../outside
      connectPorts: [5432, 8443]
      memoryMB: 512
      cpuSeconds: 120
  - { name: plain, engine: terraform, source: { repo: . } }
  - { name: open, engine: terraform, source: { repo: . }, sandbox: { level: off } }
`,
      FILE,
      { env: { SHARED: "/opt/shared" } },
    );
    expect(config.sandbox).toEqual({ level: "files" });
    const [world, plain, open] = config.stacks;
    expect(world?.sandbox).toEqual({
      level: "files",
      readOnly: ["/srv/watch/ca/bundle.pem", "/opt/shared/models"],
      readWrite: ["/var/lib/dw/world/demo", "/srv/outside"],
      connectPorts: [5432, 8443],
      memoryBytes: 512 * 1024 * 1024,
      cpuSeconds: 120,
    });
    // The CPU-time limit follows the stack's timeout, never under a minute.
    expect(plain?.sandbox).toEqual({ level: "files", readOnly: [], readWrite: [], connectPorts: [], memoryBytes: 4096 * 1024 * 1024, cpuSeconds: 60 });
    expect(open?.sandbox.level).toBe("off");
    expect(parseConfig(`sandbox: { level: off }\nstacks:${minimalStack}`, FILE, { env: {} }).stacks[0]?.sandbox.level).toBe("off");
  });

  it("refuses unknown levels and keys, bad ports, empty paths and unset variables, naming the key", () => {
    const error = configError(`sandbox: loose
stacks:
  - name: a
    engine: terraform
    source: { repo: . }
    sandbox:
      level: none
      readWrite: ["", "\${env:NOWHERE}"]
      connectPorts: [0, 70000]
      network: any
`);
    expect(error.issues).toEqual([
      expect.stringMatching(/^sandbox: .* \(line 1\)$/),
      'stacks[0] (a).sandbox.level: must be one of "strict", "files", "off" (got "none") (line 7)',
      "stacks[0] (a).sandbox.readWrite[0]: must not be empty (line 8)",
      expect.stringMatching(/^stacks\[0\] \(a\)\.sandbox\.readWrite\[1\]: environment variable NOWHERE is not set .* \(line 8\)$/),
      expect.stringMatching(/^stacks\[0\] \(a\)\.sandbox\.connectPorts\[0\]: .* \(line 9\)$/),
      expect.stringMatching(/^stacks\[0\] \(a\)\.sandbox\.connectPorts\[1\]: .* \(line 9\)$/),
      "stacks[0] (a).sandbox.network: unknown key (allowed: level, readOnly, readWrite, connectPorts, memoryMB, cpuSeconds) (line 10)",
    ]);
  });

  it("grants the repository's demo stacks their world folders", () => {
    const config = loadConfig(join(repoRoot, "driftwatch.yaml"), { env: {} });
    const demo = (name: string) => config.stacks.find((stack) => stack.name === name);
    expect(demo("demo-files")?.sandbox).toMatchObject({ level: "strict", readWrite: [join(repoRoot, ".driftwatch", "world", "demo-files")] });
    expect(demo("demo-files")?.env.DEMO_FILES_DIR).toBe(join(repoRoot, ".driftwatch", "world", "demo-files"));
    expect(demo("demo-files-tf")?.sandbox).toMatchObject({ level: "strict", readWrite: [join(repoRoot, ".driftwatch", "world", "demo-files-tf")] });
  });
});

describe("parseConfig: env interpolation", () => {
  const withEnv = (values: string) => `stacks:${minimalStack}    env:\n${values}`;

  it("reads ${env:NAME}, uses fallbacks for unset or empty names, expands ${dataDir} and $${", () => {
    const config = parseConfig(
      withEnv(`      PASS: \${env:DEMO_PASSPHRASE}
      SET: \${env:PRESENT:-unused}
      UNSET: \${env:ABSENT:-fallback value}
      EMPTY: \${env:BLANK:-was-empty}
      EMPTY_NO_FALLBACK: "[\${env:BLANK}]"
      DIR: \${dataDir}/world
      LITERAL: "$\${env:NOT_EXPANDED} and $5 and \${env:PRESENT}"
      PLAIN: just text
`),
      FILE,
      { env: { DEMO_PASSPHRASE: "s3cret", PRESENT: "here", BLANK: "" } },
    );
    expect(config.stacks[0]?.env).toEqual({
      PASS: "s3cret",
      SET: "here",
      UNSET: "fallback value",
      EMPTY: "was-empty",
      EMPTY_NO_FALLBACK: "[]",
      DIR: "/srv/watch/.driftwatch/world",
      LITERAL: "${env:NOT_EXPANDED} and $5 and here",
      PLAIN: "just text",
    });
    // What came from the environment is masked like a secret, whatever its name; fallbacks are the file's own text.
    expect([...config.environmentValues].sort()).toEqual(["here", "s3cret"]);
  });

  it("uses process.env when no env is given", () => {
    const name = "DRIFTWATCH_CONFIG_SPEC_VAR";
    process.env[name] = "from-process";
    try {
      const config = parseConfig(withEnv(`      X: \${env:${name}}\n`), FILE);
      expect(config.stacks[0]?.env.X).toBe("from-process");
    } finally {
      delete process.env[name];
    }
  });

  it("interpolates only env values", () => {
    const config = parseConfig(
      `dataDir: "\${dataDir}"\nstacks:\n  - { name: a, engine: pulumi, source: { repo: "./\${env:X}" }, pulumi: { stack: dev } }\n`,
      FILE,
      { env: { X: "y" } },
    );
    expect(config.dataDir).toBe("/srv/watch/${dataDir}");
    expect(config.stacks[0]?.source.repo).toBe("/srv/watch/${env:X}");
  });

  it("names the stack and key of a missing variable, and reports unknown forms", () => {
    const error = configError(
      withEnv(`      PULUMI_CONFIG_PASSPHRASE: \${env:DEMO_PASSPHRASE}
      OTHER: \${secret:foo}
      OPEN: "\${env:UNTERMINATED"
`),
    );
    expect(error.file).toBe(FILE);
    expect(error.issues).toEqual([
      expect.stringMatching(/^stacks\[0\] \(demo-files\)\.env\.PULUMI_CONFIG_PASSPHRASE: environment variable DEMO_PASSPHRASE is not set/),
      expect.stringMatching(/^stacks\[0\] \(demo-files\)\.env\.OTHER: unknown interpolation "\$\{secret:foo\}"/),
      expect.stringMatching(/^stacks\[0\] \(demo-files\)\.env\.OPEN: unterminated "\$\{"/),
    ]);
    expect(error.message).toContain(FILE);
  });

  it("interpolate() reports every problem of one value", () => {
    expect(interpolate("${env:A}-${env:B}-${nope}", { env: {}, dataDir: "/d" })).toEqual({
      errors: [
        expect.stringContaining("environment variable A is not set"),
        expect.stringContaining("environment variable B is not set"),
        expect.stringContaining('unknown interpolation "${nope}"'),
      ],
    });
    expect(interpolate("${env:A:-${dataDir}}", { env: {}, dataDir: "/d" })).toEqual({ errors: [expect.stringContaining("nested")] });
    expect(interpolate("a$${b}${dataDir}", { env: {}, dataDir: "/d" })).toEqual({ value: "a${b}/d" });
    expect(interpolate("$a $$b$ ${dataDir}/c$", { env: {}, dataDir: "/d" })).toEqual({ value: "$a $$b$ /d/c$" });
  });
});

describe("parseConfig: validation", () => {
  it("rejects unknown keys at the top level and inside a stack, with key path, stack name and allowed keys", () => {
    const error = configError(`stacks:${minimalStack}    enviroment: {}
stack: []
`);
    expect(error.issues).toEqual([
      "stacks[0] (demo-files).enviroment: unknown key (allowed: name, source, env, timeoutSeconds, alerts, schedule, timezone, remediation, approvers, actions, ignore, flapping, sandbox, requiresEnv, engine, pulumi) (line 8)",
      "stack: unknown key (allowed: dataDir, cacheDir, defaults, git, engines, database, service, alerts, sandbox, stacks, reports) (line 9)",
    ]);
  });

  it("rejects unknown keys nested deeper in a stack", () => {
    const error = configError(`stacks:
  - name: ok
    engine: pulumi
    source: { repo: ., branch: main }
    pulumi: { stack: dev, backend: x }
`);
    expect(error.issues).toEqual([
      "stacks[0] (ok).source.branch: unknown key (allowed: repo, ref, path) (line 4)",
      "stacks[0] (ok).pulumi.backend: unknown key (allowed: stack, backendUrl) (line 5)",
    ]);
  });

  it("names missing keys as Required, with the stack's name", () => {
    const error = configError(`stacks:
  - name: a
    engine: pulumi
    source: { ref: main }
    pulumi: {}
  - name: demo-files
    source: { repo: . }
`);
    expect(error.issues).toEqual([
      "stacks[0] (a).source.repo: Required (line 4)",
      "stacks[0] (a).pulumi.stack: Required (line 5)",
      // Without an engine the stack's other keys cannot be judged yet: the engine comes first.
      "stacks[1] (demo-files).engine: Required (line 6)",
    ]);
  });

  it("rejects wrong types in the file's terms", () => {
    const error = configError(`dataDir: 5
defaults: { timeoutSeconds: "600" }
stacks:
  - name: a
    engine: pulumi
    source: { repo: ., ref: 1 }
    pulumi: { stack: dev }
    env: { A: 1, B: [x] }
    timeoutSeconds: 1.5
`);
    expect(error.issues).toEqual([
      "dataDir: expected a string, got a number (put it in quotes) (line 1)",
      "defaults.timeoutSeconds: expected a number, got a string (line 2)",
      "stacks[0] (a).source.ref: expected a string, got a number (put it in quotes) (line 6)",
      "stacks[0] (a).env.A: expected a string, got a number (put it in quotes) (line 8)",
      "stacks[0] (a).env.B: expected a string, got a list (line 8)",
      "stacks[0] (a).timeoutSeconds: must be a whole number of seconds (line 9)",
    ]);
  });

  it("requires stacks to be a list and the file to be a mapping", () => {
    expect(configError("stacks: {}\n").issues).toEqual(["stacks: expected a list, got a mapping (line 1)"]);
    expect(configError("stacks:\n").issues).toEqual(["stacks: expected a list, got an empty value (line 1)"]);
    expect(configError("- a\n").issues).toEqual(["(top level): expected a mapping, got a list (line 1)"]);
  });

  it("rejects bad stack names, engines, refs, timeouts and env names", () => {
    expect(configError(`stacks:\n  - { name: a, engine: cdk, source: { repo: . } }\n`).issues).toEqual([
      'stacks[0] (a).engine: must be one of "pulumi", "terraform", "cloudformation", "kubernetes" (got "cdk") (line 2)',
    ]);
    const error = configError(`stacks:
  - name: Demo Files
    engine: pulumi
    source: { repo: ., ref: --upload-pack=x }
    pulumi: { stack: dev }
    env: { bad-name: x }
    timeoutSeconds: 0
  - { name: -x, engine: pulumi, source: { repo: . }, pulumi: { stack: dev } }
`);
    expect(error.issues).toEqual([
      expect.stringMatching(/^stacks\[0\] \("Demo Files"\)\.name: must start with a lowercase letter or digit/),
      expect.stringMatching(/^stacks\[0\] \("Demo Files"\)\.source\.ref: must be a branch, tag or commit/),
      expect.stringMatching(/^stacks\[0\] \("Demo Files"\)\.env\.bad-name: not a valid environment variable name/),
      "stacks[0] (\"Demo Files\").timeoutSeconds: must be a positive whole number of seconds (line 7)",
      expect.stringMatching(/^stacks\[1\] \("-x"\)\.name: must start with a lowercase letter or digit/),
    ]);
  });

  it("rejects duplicate stack names, naming both indexes", () => {
    const error = configError(`stacks:${minimalStack}${minimalStack.replace("demo-files", "other")}${minimalStack}`);
    expect(error.issues).toEqual(['stacks[2] (demo-files).name: duplicate stack name "demo-files" (also stacks[0]) (line 16)']);
  });

  it("rejects source paths that leave the repository or are absolute", () => {
    for (const path of ["../other", "stacks/../../x", "..", "/etc", "C:/x", "a\\\\b", ""]) {
      const error = configError(`stacks:\n  - { name: a, engine: pulumi, source: { repo: ., path: "${path}" }, pulumi: { stack: dev } }\n`);
      expect(error.issues, path).toEqual([expect.stringMatching(/^stacks\[0\] \(a\)\.source\.path: must be a relative path inside the repository/)]);
    }
    const ok = parseConfig(`stacks:\n  - { name: a, engine: pulumi, source: { repo: ., path: "./a..b/./c/" }, pulumi: { stack: dev } }\n`, FILE);
    expect(ok.stacks[0]?.source.path).toBe("a..b/c");
  });

  it("rejects repositories in forms Git cannot fetch from here", () => {
    for (const repo of ["http://example.com/x.git", "git://example.com/x.git", "https://", ""]) {
      const error = configError(`stacks:\n  - { name: a, engine: pulumi, source: { repo: "${repo}" }, pulumi: { stack: dev } }\n`);
      expect(error.issues, repo).toEqual([expect.stringMatching(/^stacks\[0\] \(a\)\.source\.repo: must (be a local path|not be empty)/)]);
    }
  });

  it("collects every problem of the file into one error", () => {
    const error = configError(`extra: 1
stacks:
  - name: a
    engine: pulumi
    source: { repo: . }
    pulumi: { stack: dev }
    env: { P: "\${env:MISSING}" }
  - name: a
    engine: pulumi
    source: { repo: ., path: ../x }
`);
    expect(error.issues).toEqual([
      expect.stringMatching(/^extra: unknown key/),
      expect.stringMatching(/^stacks\[0\] \(a\)\.env\.P: environment variable MISSING is not set/),
      expect.stringMatching(/^stacks\[1\] \(a\)\.pulumi: Required/),
      expect.stringMatching(/^stacks\[1\] \(a\)\.name: duplicate stack name "a" \(also stacks\[0\]\)/),
      expect.stringMatching(/^stacks\[1\] \(a\)\.source\.path: must be a relative path/),
    ]);
    expect(error.message).toMatch(/^\/srv\/watch\/driftwatch\.yaml: invalid configuration:\n {2}- extra: unknown key/);
  });
});

describe("parseConfig: YAML errors", () => {
  it("reports syntax errors with line and column", () => {
    const error = configError("stacks:\n  - name: a\n    source: { repo: .\n  - name: b\n");
    expect(error.file).toBe(FILE);
    expect(error.issues.length).toBeGreaterThan(0);
    expect(error.issues[0]).toMatch(/^YAML syntax error at line \d+, column \d+: /);
  });

  it("reports the line of a duplicate key", () => {
    const error = configError("dataDir: a\nstacks: []\ndataDir: b\n");
    expect(error.issues).toEqual([expect.stringMatching(/^YAML syntax error at line 3, column 1: Map keys must be unique/)]);
  });
});

describe("loadConfig", () => {
  it("reads a file and resolves paths against its folder", () => {
    const dir = tempDir();
    mkdirSync(join(dir, "conf"));
    const file = join(dir, "conf", "driftwatch.yaml");
    writeFileSync(file, `dataDir: state\nstacks:${minimalStack}`);
    const config = loadConfig(file, { env: {} });
    expect(config.file).toBe(file);
    expect(config.dataDir).toBe(join(dir, "conf", "state"));
    expect(config.stacks[0]?.source.repo).toBe(join(dir, "conf"));
  });

  it("says the file was not found", () => {
    const file = join(tempDir(), "missing.yaml");
    expect(() => loadConfig(file)).toThrow(ConfigError);
    try {
      loadConfig(file);
    } catch (error) {
      expect((error as ConfigError).file).toBe(file);
      expect((error as ConfigError).issues).toEqual(["file not found (give another with --config, or write a starter one with `driftwatch init`)"]);
      expect((error as ConfigError).message).toContain(file);
    }
  });

  it("names the file in errors", () => {
    const file = join(tempDir(), "driftwatch.yaml");
    writeFileSync(file, "stacks: 3\n");
    expect(() => loadConfig(file)).toThrow(`${file}: invalid configuration:\n  - stacks: expected a list, got a number (line 1)`);
  });
});

describe("parseConfig: remediation policies", () => {
  it("merges the built-in defaults, defaults.remediation and the stack's own, field by field", () => {
    const dir = tempDir();
    mkdirSync(join(dir, "keys"));
    writeFileSync(join(dir, "keys", "allowed_signers"), "dev@example.com ssh-ed25519 AAAA\n");
    const file = join(dir, "driftwatch.yaml");
    writeFileSync(
      file,
      `defaults:
  remediation: { mode: auto, maxChanges: 3, allow: { deletes: true }, protect: [aws_db_instance] }
stacks:${minimalStack}    remediation:
      allow: { replaces: true }
      on: both
      windows: [{ days: [mon, fri], from: "22:00", to: "06:00", tz: Europe/Berlin }]
      freeze: [{ from: 2026-12-20, to: 2027-01-04 }]
      requireSignedCommit: true
      trustedKeys: keys/allowed_signers
`,
    );
    const config = loadConfig(file, { env: {} });
    expect(config.stacks[0]?.remediation).toEqual({
      mode: "auto",
      approvalTtlMs: 86_400_000,
      backoff: { initialMs: 300_000, maxMs: 21_600_000, attempts: 5 },
      allow: { deletes: true, replaces: true },
      maxChanges: 3,
      protect: ["aws_db_instance"],
      windows: [{ days: ["mon", "fri"], from: "22:00", to: "06:00", tz: "Europe/Berlin" }],
      freeze: [{ from: "2026-12-20", to: "2027-01-04", tz: "UTC" }],
      requireSignedCommit: { before: "remediate" },
      trustedKeys: join(dir, "keys", "allowed_signers"),
      on: "both",
    });
  });

  it("reads when a commit's signature is verified: true is before remediating (as ever), the object form before the check", () => {
    const keys = join(tempDir(), "allowed_signers");
    writeFileSync(keys, "dev@example.com ssh-ed25519 AAAA\n");
    const requirement = (value: string, defaults = "") =>
      parseConfig(`${defaults}stacks:${minimalStack}    remediation: { requireSignedCommit: ${value}, trustedKeys: ${keys} }\n`, FILE, { env: {} }).stacks[0]?.remediation.requireSignedCommit;
    expect(requirement("true")).toEqual({ before: "remediate" });
    expect(requirement("false")).toBe(false);
    expect(requirement("{}")).toEqual({ before: "check" });
    expect(requirement("{ before: check }")).toEqual({ before: "check" });
    expect(requirement("{ before: remediate }")).toEqual({ before: "remediate" });
    // The stack's own replaces the defaults' as a whole.
    expect(requirement("{ before: remediate }", "defaults:\n  remediation: { requireSignedCommit: { before: check } }\n")).toEqual({ before: "remediate" });
    expect(parseConfig(`defaults:\n  remediation: { requireSignedCommit: {}, trustedKeys: ${keys} }\nstacks:${minimalStack}`, FILE, { env: {} }).stacks[0]?.remediation).toMatchObject({
      mode: "off",
      requireSignedCommit: { before: "check" },
    });
    expect(configError(`stacks:${minimalStack}    remediation: { requireSignedCommit: { before: apply }, trustedKeys: ${keys} }\n`).issues).toEqual([
      "stacks[0] (demo-files).remediation.requireSignedCommit: must be true, false, { before: check } or { before: remediate } (line 8)",
    ]);
    expect(configError(`stacks:${minimalStack}    remediation: { requireSignedCommit: { before: check } }\n`).issues).toEqual([
      "stacks[0] (demo-files).remediation.requireSignedCommit: requires trustedKeys: an SSH allowed-signers file or OpenPGP public keys to verify commits with (line 8)",
    ]);
  });

  it("reads ignore rules: the defaults' first, then the stack's; a bad glob is an error", () => {
    const config = parseConfig(`defaults:\n  ignore: [{ paths: ["tags.LastScanned"] }]\nstacks:${minimalStack}    ignore: [{ type: aws_instance, paths: ["**.port"] }]\n`, FILE, { env: {} });
    expect(config.stacks[0]?.ignore).toEqual([{ paths: ["tags.LastScanned"] }, { type: "aws_instance", paths: ["**.port"] }]);
    const error = configError(`stacks:${minimalStack}    ignore: [{ paths: ["tags..x"] }, { paths: [] }]\n`);
    expect(error.issues).toEqual([
      'stacks[0] (demo-files).ignore[0].paths[0]: is not a valid path glob (e.g. tags.*, ingress[*].port, **.port, tags["a.b"]) (line 8)',
      "stacks[0] (demo-files).ignore[1].paths: must name at least one property path glob (line 8)",
    ]);
  });

  it("reads a CloudFormation stack, its parameters interpolated, and names what is wrong in one", () => {
    const config = parseConfig(
      `stacks:
  - name: web
    engine: cloudformation
    source: { repo: ., path: cfn }
    cloudformation: { stackName: web-prod, region: eu-west-1, template: template.yaml, parameters: { Env: prod, DbPassword: "\${env:DB_PASSWORD}" }, capabilities: [CAPABILITY_IAM] }
`,
      FILE,
      { env: { DB_PASSWORD: "s3cret-value" } },
    );
    expect(config.stacks[0]).toMatchObject({
      engine: "cloudformation",
      cloudformation: { stackName: "web-prod", region: "eu-west-1", template: "template.yaml", parameters: { Env: "prod", DbPassword: "s3cret-value" }, capabilities: ["CAPABILITY_IAM"] },
    });
    const error = configError(`stacks:
  - name: web
    engine: cloudformation
    source: { repo: . }
    cloudformation: { stackName: 9lives, region: europe, template: /abs.yaml, parameters: { A: b }, parametersFile: p.json, endpoint: "ftp://x" }
`);
    expect(error.issues).toEqual([
      "stacks[0] (web).cloudformation.stackName: must be a CloudFormation stack name: a letter, then letters, digits and '-' (at most 128) (line 5)",
      "stacks[0] (web).cloudformation.region: must be an AWS region such as eu-west-1 (line 5)",
      "stacks[0] (web).cloudformation.template: must be a path relative to the project folder (source.path) (line 5)",
      "stacks[0] (web).cloudformation.endpoint: Invalid URL (line 5)",
      "stacks[0] (web).cloudformation.parametersFile: give parameters or parametersFile, not both (line 5)",
    ]);
  });

  it("skips a stack none of whose requiresEnv variables is set, saying why", () => {
    const yaml = `stacks:${minimalStack}    requiresEnv: [AWS_PROFILE, AWS_ACCESS_KEY_ID]
`;
    const without = parseConfig(yaml, FILE, { env: {} });
    expect(without.stacks).toEqual([]);
    expect(without.skipped).toEqual([{ name: "demo-files", reason: "stack demo-files is skipped: none of AWS_PROFILE, AWS_ACCESS_KEY_ID is set (requiresEnv)" }]);
    const withOne = parseConfig(yaml, FILE, { env: { AWS_ACCESS_KEY_ID: "AKIA" } });
    expect(withOne.stacks.map((s) => s.name)).toEqual(["demo-files"]);
    expect(withOne.skipped).toEqual([]);
  });

  it("reads flapping settings field by field: the stack's, then the defaults', then 3 times in 24 hours", () => {
    const config = parseConfig(`defaults:\n  flapping: { windowHours: 6 }\nstacks:${minimalStack}    flapping: { threshold: 5 }\n`, FILE, { env: {} });
    expect(config.stacks[0]?.flapping).toEqual({ threshold: 5, windowMs: 6 * 3_600_000 });
    expect(parseConfig(`stacks:${minimalStack}`, FILE, { env: {} }).stacks[0]?.flapping).toEqual({ threshold: 3, windowMs: 86_400_000 });
    expect(configError(`stacks:${minimalStack}    flapping: { threshold: -1, windowHours: 0 }\n`).issues).toEqual([
      "stacks[0] (demo-files).flapping.threshold: Too small: expected number to be >=0 (line 8)",
      "stacks[0] (demo-files).flapping.windowHours: Too small: expected number to be >0 (line 8)",
    ]);
  });

  it("names what is wrong in a policy: mode, clock, date, range, and a signature requirement without keys", () => {
    const error = configError(`stacks:${minimalStack}    remediation:
      mode: approve-later
      windows: [{ days: [someday], from: "9:00", to: "17:00" }]
      freeze: [{ from: 2026-02-30, to: 2026-01-01 }, { from: 2026-03-02, to: 2026-03-01 }]
      requireSignedCommit: true
`);
    expect(error.issues).toEqual([
      'stacks[0] (demo-files).remediation.mode: must be one of "off", "auto", "approve" (got "approve-later") (line 9)',
      'stacks[0] (demo-files).remediation.windows[0].days[0]: must be one of "mon", "tue", "wed", "thu", "fri", "sat", "sun" (got "someday") (line 10)',
      "stacks[0] (demo-files).remediation.windows[0].from: must be a time of day as HH:MM (24-hour), e.g. 09:00 (line 10)",
      "stacks[0] (demo-files).remediation.freeze[0].from: must be a date as YYYY-MM-DD, e.g. 2026-12-20 (line 11)",
      "stacks[0] (demo-files).remediation.freeze[0]: from must not be after to (line 11)",
      "stacks[0] (demo-files).remediation.freeze[1]: from must not be after to (line 11)",
    ]);
    const keys = configError(`stacks:${minimalStack}    remediation: { mode: auto, requireSignedCommit: true }\n`);
    expect(keys.issues).toEqual(["stacks[0] (demo-files).remediation.requireSignedCommit: requires trustedKeys: an SSH allowed-signers file or OpenPGP public keys to verify commits with (line 8)"]);
    const missing = configError(`stacks:${minimalStack}    remediation: { requireSignedCommit: true, trustedKeys: /nowhere/keys }\n`);
    expect(missing.issues).toEqual(["stacks[0] (demo-files).remediation.trustedKeys: no such file: /nowhere/keys (line 8)"]);
  });
});

describe("parseConfig: scheduled reports", () => {
  it("reads a report with its defaults: the service's time zone, 7 days, every stack, 12 kept", () => {
    const config = parseConfig(`service: { timezone: Europe/Berlin }\nstacks:${minimalStack}\nreports:\n  - { name: weekly, schedule: "0 9 * * mon" }\n`, FILE, { env: {} });
    expect(config.reports).toEqual([{ name: "weekly", schedule: { expression: "0 9 * * mon", timezone: "Europe/Berlin" }, sinceMs: 7 * 86_400_000, stacks: ["*"], keep: 12 }]);
  });

  it("refuses a bad name, schedule or period, a name used twice, and a digest with no Slack to go to", () => {
    const error = configError(
      [
        "reports:",
        '  - { name: "../weekly", schedule: "0 9 * * mon" }',
        '  - { name: daily, schedule: "every day", since: "7 days" }',
        '  - { name: daily, schedule: "0 9 * * *", slack: { channel: "#drift" } }',
        "",
      ].join("\n"),
    );
    expect(error.issues).toEqual([
      "reports[0].name: must be 1–64 letters, digits, - or _ (it names the report's files and URLs) (line 2)",
      "reports[1].schedule: must be a cron expression with five fields (minute hour day-of-month month day-of-week); the minimum interval is one minute (line 3)",
      "reports[1].since: must be a whole number and a unit (m, h, d or w), e.g. 12h, 7d, 4w (line 3)",
      "reports[2].name: another report is named daily already (line 4)",
    ]);
    const noSlack = configError(`stacks:${minimalStack}\nreports:\n  - { name: weekly, schedule: "0 9 * * mon", slack: {} }\n`);
    expect(noSlack.issues).toEqual([expect.stringMatching(/^reports\[0\]\.slack: posts a digest to Slack, but alerts.slack is not configured/)]);
  });
});
