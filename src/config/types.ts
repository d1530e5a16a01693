// The normalized configuration every other module consumes (after parsing, validation and interpolation).
import type { SandboxLevel, StackSandbox } from "../sandbox/types.ts";

export interface SourceSpec {
  /** An absolute local path, or a file://, https:// or ssh URL (as written: credentials are never put here). */
  repo: string;
  /** Branch, tag or full commit SHA. */
  ref: string;
  /** Folder inside the repository holding the project (Pulumi.yaml), relative, "/"-separated; "." for the root. */
  path: string;
}

export interface PulumiSettings {
  /** Stack name inside the project, e.g. "dev". */
  stack: string;
  /** PULUMI_BACKEND_URL; defaults to file://<dataDir>/pulumi/<stack>/backend (the stack's own). */
  backendUrl: string;
}

export interface TerraformSettings {
  /** "tofu", "terraform" or an absolute path; undefined: tofu when available, else terraform. */
  binary?: string;
  workspace?: string;
  /** -var-file arguments, relative to the root module folder. */
  varFiles: string[];
  /** Input variables, interpolated; they reach the CLI as TF_VAR_<name>. */
  vars: Record<string, string>;
  /** Partial backend configuration for init, interpolated. */
  backendConfig: Record<string, string>;
}

interface StackConfigBase {
  name: string;
  source: SourceSpec;
  /**
   * Passed to the engine process only, already interpolated. Values of credential-like names (containing PASS,
   * SECRET, TOKEN, KEY, CREDENTIAL, PRIVATE, AUTH, ...) are masked wherever a result is shown or stored.
   */
  env: Record<string, string>;
  /** Per-stack run timeout. */
  timeoutSeconds: number;
  alerts: StackAlerts;
  /** When `serve` checks this stack. */
  schedule: { expression: string; timezone: string };
  remediation: RemediationPolicy;
  /** Slack user and user group ids who may approve or reject plans from Slack (the stack's, else defaults'); empty: nobody. */
  approvers: string[];
  /** restrict: only `approvers` may re-check, snooze and acknowledge from Slack. */
  actions: { restrict: boolean };
  /** `defaults.ignore`, then the stack's own. */
  ignore: IgnoreRule[];
  flapping: FlappingPolicy;
  /** What its repository code may reach in the OS sandbox (src/sandbox/), its level resolved. */
  sandbox: StackSandbox;
}

/** When a resource that keeps drifting again is flagged as flapping. */
export interface FlappingPolicy {
  /** Drift onsets of one resource within the window that make it flapping; 0: never flagged. */
  threshold: number;
  windowMs: number;
}

/** Properties that are never drift, never pending, and never reverted. */
export interface IgnoreRule {
  /** Only resources of this type; undefined: every type. */
  type?: string;
  paths: string[];
}

export type Weekday = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";

/** A stack's remediation policy: built-in defaults, then `defaults.remediation`, then the stack's own. */
export interface RemediationPolicy {
  mode: "off" | "auto" | "approve";
  /** How long a requested approval stays valid. */
  approvalTtlMs: number;
  /** After failed remediations: initialMs, doubled each time up to maxMs; after `attempts` failures in a row, stop. */
  backoff: { initialMs: number; maxMs: number; attempts: number };
  allow: { deletes: boolean; replaces: boolean };
  maxChanges: number;
  /** Resource types (engine type tokens) never touched automatically. */
  protect: string[];
  /** When remediation may run; empty: any time. */
  windows: { days: Weekday[]; from: string; to: string; tz: string }[];
  /** Inclusive YYYY-MM-DD ranges in `tz`. */
  freeze: { from: string; to: string; tz: string }[];
  /**
   * Commits must carry a signature by a key of `trustedKeys`, verified before any engine runs their code (`check`)
   * or only before remediating from them (`remediate`); false: not required.
   */
  requireSignedCommit: false | { before: "check" | "remediate" };
  /** Absolute path of an SSH allowed-signers file or of ASCII-armored OpenPGP public keys. */
  trustedKeys?: string;
  on: "drift" | "pending" | "both";
}

export interface StackAlerts {
  /** Slack channel for this stack; undefined: the default one. */
  channel?: string;
  /** Pending changes open episodes too (not only drift). */
  pending: boolean;
  mute: boolean;
}

export interface SlackSettings {
  /** The bot token, read from the environment variable `tokenEnv` at load time. Never shown anywhere. */
  token: string;
  tokenEnv: string;
  channel: string;
  mentionUserGroup?: string;
  apiUrl?: string;
  timeoutMs: number;
  retries: number;
  maxRateLimitWaitMs: number;
  /** The app's signing secret, from `signingSecretEnv`; undefined: no buttons, the interactivity endpoint is off. */
  signingSecret?: string;
  signingSecretEnv: string;
}

export interface ServiceConfig {
  jitterMs: number;
  runOnStart: boolean;
  concurrency?: number;
  /** 0: no polling. */
  gitPollMs: number;
  stopGraceMs: number;
  http: {
    host: string;
    port: number;
    publicRead: boolean;
    /** Host names (lower case; ".example.com": it and its subdomains) the server answers to besides IPs and localhost. */
    allowedHosts: string[];
    /** From the environment variable the config names; undefined: triggering through the API is off. */
    apiToken?: string;
    apiTokenEnv: string;
    /** From the environment; undefined: the webhook is off. */
    webhookSecret?: string;
    webhookSecretEnv: string;
  };
}

export interface AlertsConfig {
  log: boolean;
  slack?: SlackSettings;
  dashboardUrl?: string;
  failureRepeatMs: number;
  deliveryTimeoutMs: number;
  redact: { patterns: string[]; showValuesOf?: string[] };
}

export interface PulumiStackConfig extends StackConfigBase {
  engine: "pulumi";
  pulumi: PulumiSettings;
}

export interface TerraformStackConfig extends StackConfigBase {
  engine: "terraform";
  terraform: TerraformSettings;
}

export interface CloudFormationSettings {
  stackName: string;
  region: string;
  /** The template, relative to the project folder (source.path). */
  template: string;
  /** Interpolated parameters (absent with parametersFile). */
  parameters?: Record<string, string>;
  /** A JSON parameters file, relative to the project folder. */
  parametersFile?: string;
  capabilities: ("CAPABILITY_IAM" | "CAPABILITY_NAMED_IAM" | "CAPABILITY_AUTO_EXPAND")[];
  roleArn?: string;
  /** For emulators; default AWS's endpoint. */
  endpoint?: string;
}

export interface CloudFormationStackConfig extends StackConfigBase {
  engine: "cloudformation";
  cloudformation: CloudFormationSettings;
}

export interface KubernetesSettings {
  /** Absolute path of the kubeconfig; undefined: the in-cluster service account. */
  kubeconfig?: string;
  context?: string;
  /** The namespace of namespaced objects whose manifests name none. */
  namespace: string;
  render: "auto" | "kustomize" | "plain";
  fieldManager: string;
  /** Managers whose fields are never drift. */
  trustedManagers: string[];
  /** Objects that left Git are pending deletes. */
  prune: boolean;
}

export interface KubernetesStackConfig extends StackConfigBase {
  engine: "kubernetes";
  kubernetes: KubernetesSettings;
}

export type StackConfig = PulumiStackConfig | TerraformStackConfig | CloudFormationStackConfig | KubernetesStackConfig;

export type EngineId = StackConfig["engine"];

export interface GitConfig {
  /** Lower-case hosts (`host`, `host:port`, `*.domain`) DRIFTWATCH_GIT_TOKEN is sent to over https. */
  tokenHosts: string[];
  /** The most one git command may take. */
  timeoutMs: number;
}

/** A report `serve` produces on a schedule. */
export interface ReportConfig {
  name: string;
  schedule: { expression: string; timezone: string };
  /** The period each report covers, up to its tick. */
  sinceMs: number;
  /** Stack names or globs. */
  stacks: string[];
  /** Post a digest to Slack; `channel` defaults to alerts.slack.channel. */
  slack?: { channel?: string };
  /** Reports of this name kept under <dataDir>/reports. */
  keep: number;
}

/** Where the run history is kept: a SQLite file (one machine), or PostgreSQL (shared by replicas). */
export type DatabaseConfig =
  | { kind: "sqlite"; file: string }
  | {
      kind: "postgres";
      /** The connection URL, password included: never shown (see `location`). */
      url: string;
      poolSize: number;
      /** How soon the check of a replica that died is run again by another, in seconds. */
      heartbeatSeconds: number;
      /** The URL without its password, for messages. */
      location: string;
    };

/** engines.<name>.path, absolute: the installed engines the configuration names. */
export type EnginePaths = Partial<Record<"pulumi" | "tofu" | "terraform" | "kustomize", string>>;

export interface DriftwatchConfig {
  /** Absolute path of the file the configuration came from. */
  file: string;
  /** Absolute data directory: database, git mirrors, worktrees. */
  dataDir: string;
  /** Absolute cache directory (npm dependencies, provider plugins); <dataDir>/cache unless configured. */
  cacheDir: string;
  /** The installed engines it names (engines.<name>.path); the others are looked for on PATH. */
  engines: EnginePaths;
  stacks: StackConfig[];
  /**
   * Every value `${env:NAME}` put into the stacks' settings (env, vars, backendConfig, parameters), whatever the
   * name: masked wherever Driftwatch writes, like the service's own tokens.
   */
  environmentValues: string[];
  /** Stacks left out because none of their `requiresEnv` variables is set, with why. */
  skipped: { name: string; reason: string }[];
  alerts: AlertsConfig;
  service: ServiceConfig;
  git: GitConfig;
  reports: ReportConfig[];
  database: DatabaseConfig;
  /** The sandbox level of stacks that set none of their own. */
  sandbox: { level: SandboxLevel };
}
