// Reads driftwatch.yaml into the normalized DriftwatchConfig: YAML → schema validation → paths resolved against the
// file's folder, defaults applied, `env` values interpolated. Every problem found is collected and thrown as one
// ConfigError naming the file, the key path, the stack and (when known) the line.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { ConfigError } from "../core/errors.ts";
import { joinPath } from "../core/property-diff.ts";
import { remediationPolicy, remediationProblems } from "./remediation.ts";
import { parseSince } from "../reports/period.ts";
import { gitConfig } from "./git.ts";
import { classifyRepo, configFileSchema, ENGINES, STACK_NAME_PATTERN } from "./schema.ts";
import type { ConfigFile } from "./schema.ts";
import type { AlertsConfig, DatabaseConfig, DriftwatchConfig, ServiceConfig, StackConfig } from "./types.ts";
import { isPostgresUrl, redactDatabaseUrl } from "../store/postgres/url.ts";
import type { SandboxLevel, StackSandbox } from "../sandbox/types.ts";

export interface LoadConfigOptions {
  /** Where `${env:NAME}` looks names up; process.env by default. */
  env?: NodeJS.ProcessEnv;
}

type Path = readonly PropertyKey[];

interface Problem {
  path: Path;
  message: string;
}

const DEFAULT_DATA_DIR = ".driftwatch";

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads and parses a configuration file. A relative `file` is relative to the working directory. */
export function loadConfig(file: string, options: LoadConfigOptions = {}): DriftwatchConfig {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "file not found (give another with --config, or write a starter one with `driftwatch init`)" : code === "EISDIR" ? "is a directory, not a file" : `cannot read the file: ${(error as Error).message}`;
    throw new ConfigError(path, [reason]);
  }
  return parseConfig(text, path, options);
}

/** Parses configuration text as if read from `file` (which anchors relative paths and names the file in errors). */
export function parseConfig(text: string, file: string, options: LoadConfigOptions = {}): DriftwatchConfig {
  const path = resolve(file);
  const baseDir = dirname(path);
  const env = options.env ?? process.env;

  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      path,
      doc.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return `YAML syntax error at line ${line}, column ${col}: ${error.message}`;
      }),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS() ?? {}; // an empty file (or only comments) is an empty configuration
  } catch (error) {
    throw new ConfigError(path, [`cannot read the YAML: ${(error as Error).message}`]);
  }

  const problems: Problem[] = [];
  const result = configFileSchema.safeParse(raw, { error: messageFor });
  if (!result.success) problems.push(...result.error.issues.flatMap((issue) => problemsOf(issue, raw)));

  const rawDataDir = isPlainObject(raw) && typeof raw.dataDir === "string" && raw.dataDir !== "" ? raw.dataDir : DEFAULT_DATA_DIR;
  const dataDir = resolve(baseDir, rawDataDir);
  const rawStacks = isPlainObject(raw) && Array.isArray(raw.stacks) ? (raw.stacks as unknown[]) : [];
  problems.push(...duplicateNames(rawStacks));
  const environmentValues = new Set<string>();
  const context: InterpolationContext = { env, dataDir, fromEnvironment: environmentValues };
  const interpolated = rawStacks.map((stack, index) => {
    // A stack skipped for want of its requiresEnv variables is not held to the variables it would read.
    const found = isSkipped(stack, env) ? [] : problems;
    return {
      env: interpolateRecord(stack, ["stacks", index, "env"], context, found),
      vars: interpolateRecord(stack, ["stacks", index, "terraform", "vars"], context, found),
      backendConfig: interpolateRecord(stack, ["stacks", index, "terraform", "backendConfig"], context, found),
      parameters: interpolateRecord(stack, ["stacks", index, "cloudformation", "parameters"], context, found),
      kubernetes: interpolateRecord(stack, ["stacks", index, "kubernetes"], context, found),
      sandboxReadOnly: interpolateList(stack, ["stacks", index, "sandbox", "readOnly"], context, found),
      sandboxReadWrite: interpolateList(stack, ["stacks", index, "sandbox", "readWrite"], context, found),
    };
  });

  const databaseUrl = databaseUrlOf(raw, context, problems);
  problems.push(...slackTokenProblems(raw, env), ...patternProblems(raw));
  if (result.success) problems.push(...policyProblems(result.data, baseDir), ...reportProblems(result.data));

  if (problems.length > 0 || !result.success) {
    const located = problems.map((problem) => ({ problem, line: lineOf(doc, lineCounter, problem.path) }));
    located.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    throw new ConfigError(
      path,
      located.map(({ problem, line }) => `${formatPath(problem.path, rawStacks)}: ${problem.message}${line === undefined ? "" : ` (line ${line})`}`),
    );
  }

  const data = result.data;
  const sandboxLevel = typeof data.sandbox === "string" ? data.sandbox : data.sandbox.level;
  const skipped = data.stacks
    .filter((stack) => stack.requiresEnv && !stack.requiresEnv.some((name) => env[name]))
    .map((stack) => ({ name: stack.name, reason: `stack ${stack.name} is skipped: none of ${stack.requiresEnv!.join(", ")} is set (requiresEnv)` }));
  const stacks = data.stacks.map((stack, index): StackConfig => {
    const values = interpolated[index] ?? { env: {}, vars: {}, backendConfig: {}, parameters: {}, kubernetes: {}, sandboxReadOnly: [], sandboxReadWrite: [] };
    const timeoutSeconds = stack.timeoutSeconds ?? data.defaults.timeoutSeconds;
    const common = {
      name: stack.name,
      source: { repo: normalizeRepo(stack.source.repo, baseDir), ref: stack.source.ref, path: normalizeSourcePath(stack.source.path) },
      env: values.env,
      timeoutSeconds,
      alerts: { ...(stack.alerts.channel === undefined ? {} : { channel: stack.alerts.channel }), pending: stack.alerts.pending, mute: stack.alerts.mute },
      schedule: { expression: stack.schedule ?? data.service.schedule, timezone: stack.timezone ?? data.service.timezone },
      remediation: remediationPolicy(data.defaults.remediation, stack.remediation, baseDir),
      approvers: [...(stack.approvers ?? data.defaults.approvers ?? [])],
      actions: { restrict: stack.actions?.restrict ?? data.defaults.actions?.restrict ?? false },
      ignore: [...(data.defaults.ignore ?? []), ...(stack.ignore ?? [])].map((rule) => ({ ...(rule.type === undefined ? {} : { type: rule.type }), paths: rule.paths })),
      flapping: {
        threshold: stack.flapping?.threshold ?? data.defaults.flapping?.threshold ?? 3,
        windowMs: (stack.flapping?.windowHours ?? data.defaults.flapping?.windowHours ?? 24) * 3_600_000,
      },
      sandbox: stackSandbox(stack.sandbox, sandboxLevel, timeoutSeconds, { readOnly: values.sandboxReadOnly, readWrite: values.sandboxReadWrite }, baseDir),
    };
    if (stack.engine === "pulumi") {
      const backendUrl = stack.pulumi.backendUrl === undefined ? `file://${defaultPulumiBackend(dataDir, stack.name)}` : resolveFileUrl(stack.pulumi.backendUrl, baseDir);
      return { ...common, engine: "pulumi", pulumi: { stack: stack.pulumi.stack, backendUrl } };
    }
    if (stack.engine === "cloudformation") {
      const { parameters, ...rest } = stack.cloudformation;
      return { ...common, engine: "cloudformation", cloudformation: { ...rest, ...(parameters === undefined ? {} : { parameters: values.parameters }) } };
    }
    if (stack.engine === "kubernetes") {
      const { kubeconfig: _template, ...rest } = stack.kubernetes;
      const kubeconfig = values.kubernetes.kubeconfig;
      return { ...common, engine: "kubernetes", kubernetes: { ...rest, ...(kubeconfig ? { kubeconfig: resolve(baseDir, kubeconfig) } : {}) } };
    }
    return { ...common, engine: "terraform", terraform: terraformSettings(stack.terraform, values, baseDir) };
  });
  const watched = stacks.filter((stack) => !skipped.some((s) => s.name === stack.name));
  const cacheDir = data.cacheDir === undefined ? join(dataDir, "cache") : resolve(baseDir, data.cacheDir);
  return {
    file: path,
    dataDir,
    cacheDir,
    engines: Object.fromEntries(Object.entries(data.engines).flatMap(([name, engine]) => (engine ? [[name, resolve(baseDir, engine.path)]] : []))),
    stacks: watched,
    skipped,
    alerts: alertsConfig(data.alerts, env),
    service: serviceConfig(data.service, env),
    git: gitConfig(data.git, watched.map((stack) => stack.source.repo)),
    environmentValues: [...environmentValues],
    database: databaseConfig(data.database, databaseUrl, dataDir),
    sandbox: { level: sandboxLevel },
    reports: data.reports.map((report) => ({
      name: report.name,
      schedule: { expression: report.schedule, timezone: report.timezone ?? data.service.timezone },
      sinceMs: parseSince(report.since)!,
      stacks: report.stacks,
      ...(report.slack ? { slack: { ...(report.slack.channel === undefined ? {} : { channel: report.slack.channel }) } } : {}),
      keep: report.keep,
    })),
  };
}

/** `database.url` interpolated and checked; undefined when absent or wrong (the problem is recorded). */
function databaseUrlOf(raw: unknown, context: InterpolationContext, problems: Problem[]): string | undefined {
  const template = valueAt(raw, ["database", "url"]);
  if (typeof template !== "string" || template === "") return undefined;
  const result = interpolate(template, context);
  if ("errors" in result) {
    for (const message of result.errors) problems.push({ path: ["database", "url"], message });
    return undefined;
  }
  if (result.value === "") {
    problems.push({ path: ["database", "url"], message: "is empty: set the variable it names, or leave database out for SQLite" });
    return undefined;
  }
  if (!isPostgresUrl(result.value)) {
    // Never the value itself: it may hold a password.
    problems.push({ path: ["database", "url"], message: "must be a PostgreSQL URL: postgres://user:password@host:5432/database (leave database out for SQLite)" });
    return undefined;
  }
  return result.value;
}

function databaseConfig(raw: ConfigFile["database"], url: string | undefined, dataDir: string): DatabaseConfig {
  if (!raw || url === undefined) return { kind: "sqlite", file: join(dataDir, "driftwatch.db") };
  return { kind: "postgres", url, poolSize: raw.poolSize, heartbeatSeconds: raw.heartbeatSeconds, location: redactDatabaseUrl(url) };
}

function serviceConfig(raw: ConfigFile["service"], env: NodeJS.ProcessEnv): ServiceConfig {
  const apiToken = env[raw.http.apiTokenEnv];
  const webhookSecret = env[raw.http.webhookSecretEnv];
  return {
    jitterMs: raw.jitterSeconds * 1000,
    runOnStart: raw.runOnStart,
    ...(raw.concurrency === undefined ? {} : { concurrency: raw.concurrency }),
    gitPollMs: raw.gitPollSeconds * 1000,
    stopGraceMs: raw.stopGraceSeconds * 1000,
    http: {
      host: raw.http.host,
      port: raw.http.port,
      publicRead: raw.http.publicRead,
      allowedHosts: raw.http.allowedHosts.map((name) => name.toLowerCase()),
      apiTokenEnv: raw.http.apiTokenEnv,
      webhookSecretEnv: raw.http.webhookSecretEnv,
      ...(apiToken ? { apiToken } : {}),
      ...(webhookSecret ? { webhookSecret } : {}),
    },
  };
}

function alertsConfig(raw: ConfigFile["alerts"], env: NodeJS.ProcessEnv): AlertsConfig {
  const slack = raw.slack;
  return {
    log: raw.log,
    ...(slack
      ? {
          slack: {
            token: env[slack.tokenEnv] ?? "",
            tokenEnv: slack.tokenEnv,
            channel: slack.channel,
            ...(slack.mentionUserGroup === undefined ? {} : { mentionUserGroup: slack.mentionUserGroup }),
            ...(slack.apiUrl === undefined ? {} : { apiUrl: slack.apiUrl }),
            timeoutMs: slack.timeoutSeconds * 1000,
            retries: slack.retries,
            maxRateLimitWaitMs: slack.maxRateLimitWaitSeconds * 1000,
            signingSecretEnv: slack.signingSecretEnv,
            ...(env[slack.signingSecretEnv] ? { signingSecret: env[slack.signingSecretEnv] } : {}),
          },
        }
      : {}),
    ...(raw.dashboardUrl === undefined ? {} : { dashboardUrl: raw.dashboardUrl }),
    failureRepeatMs: raw.failureRepeatMinutes * 60_000,
    deliveryTimeoutMs: raw.deliveryTimeoutSeconds * 1000,
    redact: { patterns: raw.redact.patterns, ...(raw.redact.showValuesOf === undefined ? {} : { showValuesOf: raw.redact.showValuesOf }) },
  };
}

/** Slack configured but its token missing from the environment: say which variable. */
function slackTokenProblems(raw: unknown, env: NodeJS.ProcessEnv): Problem[] {
  const slack = valueAt(raw, ["alerts", "slack"]);
  if (!isPlainObject(slack)) return [];
  const tokenEnv = typeof slack.tokenEnv === "string" ? slack.tokenEnv : "SLACK_BOT_TOKEN";
  if (env[tokenEnv]) return [];
  return [{ path: ["alerts", "slack"], message: `environment variable ${tokenEnv} is not set (it holds the Slack bot token, xoxb-…)` }];
}

/** Redaction patterns must be valid regular expressions. */
/** Remediation policies that only go wrong once merged, reported where the stack (or the defaults) set them. */
function policyProblems(data: ConfigFile, baseDir: string): Problem[] {
  return data.stacks.flatMap((stack, index) =>
    remediationProblems(remediationPolicy(data.defaults.remediation, stack.remediation, baseDir)).map(({ field, message }) => ({
      path: stack.remediation?.[field] !== undefined || !data.defaults.remediation ? ["stacks", index, "remediation", field] : ["defaults", "remediation", field],
      message,
    })),
  );
}

/** A digest needs somewhere to go. */
function reportProblems(data: ConfigFile): Problem[] {
  return data.reports.flatMap((report, index) =>
    report.slack && !data.alerts.slack ? [{ path: ["reports", index, "slack"], message: "posts a digest to Slack, but alerts.slack is not configured" }] : [],
  );
}

function patternProblems(raw: unknown): Problem[] {
  const patterns = valueAt(raw, ["alerts", "redact", "patterns"]);
  if (!Array.isArray(patterns)) return [];
  return patterns.flatMap((pattern, index) => {
    if (typeof pattern !== "string") return [];
    try {
      new RegExp(pattern, "u");
      return [];
    } catch (error) {
      return [{ path: ["alerts", "redact", "patterns", index], message: `not a valid regular expression: ${(error as Error).message}` }];
    }
  });
}

/** Each Pulumi stack's own file backend (one folder per stack: a program can reach its own stack's state only). */
export function defaultPulumiBackend(dataDir: string, stack: string): string {
  return join(dataDir, "pulumi", stack, "backend");
}

type RawStackSandbox = ConfigFile["stacks"][number]["sandbox"];

/** The stack's sandbox: its level (else the service's), its grants made absolute, its limits. */
function stackSandbox(raw: RawStackSandbox, serviceLevel: SandboxLevel, timeoutSeconds: number, paths: { readOnly: string[]; readWrite: string[] }, baseDir: string): StackSandbox {
  return {
    level: raw?.level ?? serviceLevel,
    readOnly: paths.readOnly.map((path) => resolve(baseDir, path)),
    readWrite: paths.readWrite.map((path) => resolve(baseDir, path)),
    connectPorts: raw?.connectPorts ?? [],
    memoryBytes: (raw?.memoryMB ?? 4096) * 1024 * 1024,
    cpuSeconds: raw?.cpuSeconds ?? Math.max(60, timeoutSeconds),
  };
}

type RawTerraformSettings = Extract<ConfigFile["stacks"][number], { engine: "terraform" }>["terraform"];

function terraformSettings(raw: RawTerraformSettings, values: { vars: Record<string, string>; backendConfig: Record<string, string> }, baseDir: string) {
  const binary = raw.binary === undefined || raw.binary === "tofu" || raw.binary === "terraform" ? raw.binary : resolve(baseDir, raw.binary);
  return {
    ...(binary === undefined ? {} : { binary }),
    ...(raw.workspace === undefined ? {} : { workspace: raw.workspace }),
    varFiles: raw.varFiles,
    vars: values.vars,
    backendConfig: values.backendConfig,
  };
}

// --- messages ---------------------------------------------------------------------------------------------------

function kindOf(value: unknown): string {
  if (value === null) return "an empty value";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return "a string";
  if (typeof value === "number") return "a number";
  if (typeof value === "boolean") return "a boolean";
  return typeof value;
}

const EXPECTED: Record<string, string> = { object: "a mapping", array: "a list", string: "a string", number: "a number", int: "a whole number" };

/** Messages in the file's terms (mapping, list) for the issues the schema does not word itself. */
const messageFor: z.core.$ZodErrorMap = (issue) => {
  if (issue.input === undefined && issue.code !== "unrecognized_keys") return "Required";
  if (issue.code === "invalid_value") return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")} (got ${JSON.stringify(issue.input)})`;
  if (issue.code !== "invalid_type") return undefined;
  const quote = issue.expected === "string" && (typeof issue.input === "number" || typeof issue.input === "boolean");
  return `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${kindOf(issue.input)}${quote ? " (put it in quotes)" : ""}`;
};

function problemsOf(issue: z.core.$ZodIssue, raw: unknown): Problem[] {
  if (issue.code === "invalid_union" && issue.path.length === 1 && issue.path[0] === "sandbox") {
    return [{ path: issue.path, message: `must be strict, files or off, or { level: strict | files | off } (got ${JSON.stringify(valueAt(raw, issue.path))})` }];
  }
  if (issue.code === "invalid_union" && "discriminator" in issue && issue.discriminator === "engine") {
    const given = valueAt(raw, issue.path);
    const message = given === undefined ? "Required" : `must be one of ${ENGINES.map((e) => `"${e}"`).join(", ")} (got ${JSON.stringify(given)})`;
    return [{ path: issue.path, message }];
  }
  if (issue.code === "unrecognized_keys") {
    const allowed = allowedKeysAt(issue.path, raw);
    const hint = allowed ? ` (allowed: ${allowed.join(", ")})` : "";
    return issue.keys.map((key) => ({ path: [...issue.path, key], message: `unknown key${hint}` }));
  }
  if (issue.code === "invalid_key") {
    return [{ path: issue.path, message: "not a valid environment variable name (letters, digits and '_', not starting with a digit)" }];
  }
  return [{ path: issue.path, message: issue.message }];
}

/** The raw value at `path`, undefined when the path leads nowhere. */
function valueAt(raw: unknown, path: Path): unknown {
  let value = raw;
  for (const segment of path) {
    if (Array.isArray(value) && typeof segment === "number") value = value[segment];
    else if (isPlainObject(value) && typeof segment === "string") value = value[segment];
    else return undefined;
  }
  return value;
}

type SchemaDef = {
  type: string;
  innerType?: z.core.$ZodType;
  discriminator?: string;
  options?: z.core.$ZodType[];
  element?: z.core.$ZodType;
  shape?: Record<string, z.core.$ZodType>;
};

/** The object/array schema behind optional/default wrappers; for a discriminated union, the option `value` names. */
function concreteSchema(schema: z.core.$ZodType, value: unknown): z.core.$ZodType | undefined {
  for (;;) {
    const def = schema._zod.def as SchemaDef;
    if ((def.type === "optional" || def.type === "default") && def.innerType) schema = def.innerType;
    else if (def.type === "union" && def.discriminator && def.options) {
      const key = def.discriminator;
      const tag = isPlainObject(value) ? value[key] : undefined;
      const option = def.options.find((o) => (o._zod.def as SchemaDef).shape?.[key]?._zod.values?.has(tag as string));
      if (!option) return undefined;
      schema = option;
    } else return schema;
  }
}

/** The keys the schema accepts for the object at `path` (for "unknown key" hints). */
function allowedKeysAt(path: Path, raw: unknown): string[] | undefined {
  let schema = concreteSchema(configFileSchema, raw);
  for (const [depth, segment] of path.entries()) {
    const def = schema?._zod.def as SchemaDef | undefined;
    let child: z.core.$ZodType | undefined;
    if (def?.type === "array" && typeof segment === "number") child = def.element;
    else if (def?.type === "object" && typeof segment === "string") child = def.shape?.[segment];
    schema = child && concreteSchema(child, valueAt(raw, path.slice(0, depth + 1)));
  }
  const def = schema?._zod.def as SchemaDef | undefined;
  return def?.type === "object" && def.shape ? Object.keys(def.shape) : undefined;
}

/** `stacks[1] (demo-files).pulumi.stack`: the key path, with the stack's name when the problem is inside a stack. */
function formatPath(path: Path, rawStacks: unknown[]): string {
  let text = "";
  path.forEach((segment, i) => {
    text = joinPath(text, typeof segment === "number" ? segment : String(segment));
    if (i === 1 && path[0] === "stacks" && typeof segment === "number") {
      const stack = rawStacks[segment];
      const name = isPlainObject(stack) ? stack.name : undefined;
      if (typeof name === "string" && name !== "") text += ` (${STACK_NAME_PATTERN.test(name) ? name : JSON.stringify(name)})`;
    }
  });
  return text || "(top level)";
}

/** The line of the deepest YAML node along `path` that exists (the key's line for mapping entries). */
function lineOf(doc: Document, lineCounter: LineCounter, path: Path): number | undefined {
  let node: unknown = doc.contents;
  let offset = isNode(node) ? node.range?.[0] : undefined;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((item) => String(isScalar(item.key) ? item.key.value : item.key) === String(segment));
      if (!pair) break;
      if (isNode(pair.key) && pair.key.range) offset = pair.key.range[0];
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      node = node.items[segment];
      if (!isNode(node)) break;
      if (node.range) offset = node.range[0];
    } else {
      break;
    }
  }
  return offset === undefined ? undefined : lineCounter.linePos(offset).line;
}

// --- checks beyond the schema ---------------------------------------------------------------------------------------

function duplicateNames(rawStacks: unknown[]): Problem[] {
  const problems: Problem[] = [];
  const first = new Map<string, number>();
  rawStacks.forEach((stack, index) => {
    if (!isPlainObject(stack) || typeof stack.name !== "string") return;
    const earlier = first.get(stack.name);
    if (earlier === undefined) first.set(stack.name, index);
    else problems.push({ path: ["stacks", index, "name"], message: `duplicate stack name "${stack.name}" (also stacks[${earlier}])` });
  });
  return problems;
}

export interface InterpolationContext {
  env: NodeJS.ProcessEnv;
  /** The absolute data directory, for `${dataDir}`. */
  dataDir: string;
  /** Collects every value `${env:NAME}` put in (not fallbacks): Driftwatch masks them like secrets. */
  fromEnvironment?: Set<string>;
}

/**
 * Interpolates every value of the raw mapping at `path` (a stack's `env`, `terraform.vars`, ...); numbers and
 * booleans become strings. Problems go to `problems`; values the schema rejects are left to it.
 */
function isSkipped(rawStack: unknown, env: NodeJS.ProcessEnv): boolean {
  const required = isPlainObject(rawStack) ? rawStack.requiresEnv : undefined;
  return Array.isArray(required) && required.length > 0 && !required.some((name) => typeof name === "string" && env[name]);
}

function interpolateRecord(rawStack: unknown, path: readonly [string, number, ...string[]], context: InterpolationContext, problems: Problem[]): Record<string, string> {
  const record = valueAt(rawStack, path.slice(2));
  if (!isPlainObject(record)) return {};
  const entries: [string, string][] = [];
  for (const [key, template] of Object.entries(record)) {
    if (typeof template === "number" || typeof template === "boolean") entries.push([key, String(template)]);
    if (typeof template !== "string") continue;
    const result = interpolate(template, context);
    if ("errors" in result) for (const message of result.errors) problems.push({ path: [...path, key], message });
    else entries.push([key, result.value]);
  }
  return Object.fromEntries(entries);
}

/** Interpolates every string of the raw list at `path` (a stack's sandbox paths); problems go to `problems`. */
function interpolateList(rawStack: unknown, path: readonly [string, number, ...string[]], context: InterpolationContext, problems: Problem[]): string[] {
  const list = valueAt(rawStack, path.slice(2));
  if (!Array.isArray(list)) return [];
  const values: string[] = [];
  list.forEach((template, index) => {
    if (typeof template !== "string") return;
    const result = interpolate(template, context);
    if ("errors" in result) for (const message of result.errors) problems.push({ path: [...path, index], message });
    else values.push(result.value);
  });
  return values;
}

const NESTED = 'nested "${" is not supported (a fallback is plain text up to the first "}")';
const HOW = "use ${env:NAME}, ${env:NAME:-fallback} or ${dataDir}; write $${ for a literal ${";

/**
 * Expands `${env:NAME}`, `${env:NAME:-fallback}` (fallback when NAME is unset or empty) and `${dataDir}`;
 * `$${` is a literal `${`. A fallback is literal text up to the first `}`.
 */
export function interpolate(template: string, context: InterpolationContext): { value: string } | { errors: string[] } {
  let value = "";
  const errors: string[] = [];
  let i = 0;
  while (i < template.length) {
    if (template.startsWith("$${", i)) {
      value += "${";
      i += 3;
      continue;
    }
    if (!template.startsWith("${", i)) {
      // The text up to the next "$" in one piece: a string grown a character at a time is a chain of one-character
      // pieces (about 1 KB for a 40-character path), which the configuration would keep for the service's life.
      const next = template.indexOf("$", i + 1);
      const end = next === -1 ? template.length : next;
      value += template.slice(i, end);
      i = end;
      continue;
    }
    const end = template.indexOf("}", i + 2);
    if (end === -1) {
      errors.push(`unterminated "\${" (${HOW})`);
      break;
    }
    const expression = template.slice(i + 2, end);
    i = end + 1;
    if (expression === "dataDir") {
      value += context.dataDir;
      continue;
    }
    const match = /^env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^]*))?$/.exec(expression);
    if (!match) {
      errors.push(expression.includes("${") ? NESTED : `unknown interpolation "\${${expression}}" (${HOW})`);
      continue;
    }
    const name = match[1]!;
    const fallback = match[2];
    const found = context.env[name];
    if (fallback !== undefined) {
      if (fallback.includes("${")) errors.push(NESTED);
      if (found === undefined || found === "") value += fallback;
      else value += fromEnvironment(found, context);
    } else if (found === undefined) {
      errors.push(`environment variable ${name} is not set (set it, or give a fallback: \${env:${name}:-fallback})`);
    } else {
      value += fromEnvironment(found, context);
    }
  }
  return errors.length > 0 ? { errors } : { value };
}

function fromEnvironment(value: string, context: InterpolationContext): string {
  if (value !== "") context.fromEnvironment?.add(value);
  return value;
}

// --- normalization ----------------------------------------------------------------------------------------------

/** A relative `file://` URL (`file://./x`, `file://x`) made absolute against `baseDir`; anything else unchanged. */
function resolveFileUrl(url: string, baseDir: string): string {
  const match = /^file:\/\/([^?#]*)(.*)$/is.exec(url);
  if (!match) return url;
  const [, location = "", suffix = ""] = match;
  if (location.startsWith("/") || location.startsWith("~")) return url; // absolute, or Pulumi's home-relative form
  return `file://${resolve(baseDir, location)}${suffix}`;
}

function normalizeRepo(repo: string, baseDir: string): string {
  const kind = classifyRepo(repo);
  if (kind === "local") return resolve(baseDir, repo);
  if (kind === "file-url") return resolveFileUrl(repo, baseDir);
  return repo;
}

/** `./stacks//app/` → `stacks/app`; the root is `.`. The schema already refused absolute paths and `..`. */
function normalizeSourcePath(path: string): string {
  return (
    path
      .split("/")
      .filter((segment) => segment !== "" && segment !== ".")
      .join("/") || "."
  );
}
