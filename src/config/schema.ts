// The schema of driftwatch.yaml as written by people: what the file may contain, nothing about defaults that depend
// on where it lives. load.ts validates with it, then resolves paths, applies defaults and interpolates env values.
// The descriptions end up in driftwatch.schema.json (json-schema.ts), which editors use for completion and hints.
import cron from "node-cron";
import { z } from "zod";
import { parseGlob } from "../core/path-glob.ts";
import { parseSince, SINCE_HINT } from "../reports/period.ts";
import { SANDBOX_LEVELS } from "../sandbox/types.ts";
import { gitSchema, isRemoteHelperUrl } from "./git.ts";

/** Stack names end up in file names, database rows and Slack messages. */
export const STACK_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;

/** Names an engine process can receive as environment variables. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A folder inside the repository: relative, "/"-separated, never leaving the repository. Rejects absolute paths
 * (`/x`, `C:/x`), any `..` segment and backslashes; load.ts then drops `.` segments, doubled and trailing slashes.
 */
export const SOURCE_PATH_PATTERN = /^(?!\/)(?![A-Za-z]:)(?!(?:.*\/)?\.\.(?:\/|$))[^\\]+$/;

/** A branch, tag or commit: no whitespace or characters Git forbids in ref names, no `..`, not an option (`-x`). */
export const GIT_REF_PATTERN = /^(?!-)(?!.*\.\.)(?!.*@\{)[^\s~^:?*\[\\\x00-\x1f\x7f]+$/;

/** A Pulumi stack name, optionally fully qualified (`org/project/stack`); never an option (`-x`). */
export const PULUMI_STACK_PATTERN = /^(?!-)[A-Za-z0-9._/-]+$/;

/** Any URL-like backend: file://, s3://, azblob://, gs://, https://app.pulumi.com, ... */
const BACKEND_URL_PATTERN = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/.*$/;

/** The message for a value that is present but unacceptable; a missing value keeps the usual "Required". */
function unless(message: string) {
  return { error: (issue: { input?: unknown }) => (issue.input === undefined ? undefined : message) };
}

const timeoutSeconds = z
  .number()
  .int(unless("must be a whole number of seconds"))
  .positive(unless("must be a positive whole number of seconds"));

/** What kind of thing `source.repo` names; undefined when it is none of the accepted forms. */
export function classifyRepo(repo: string): "local" | "file-url" | "https" | "ssh" | "scp" | undefined {
  if (isRemoteHelperUrl(repo)) return undefined;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(repo)?.[1]?.toLowerCase();
  if (scheme === "file") return "file-url";
  if (scheme === "https") return URL.canParse(repo) && new URL(repo).hostname !== "" ? "https" : undefined;
  if (scheme === "ssh") return URL.canParse(repo) && new URL(repo).hostname !== "" ? "ssh" : undefined;
  if (scheme !== undefined) return undefined;
  // Git's own rule: `host:path` (no "/" before the first ":") is scp-like ssh; `C:\x` is a Windows drive.
  const colon = repo.indexOf(":");
  const slash = repo.indexOf("/");
  if (colon > 1 && (slash === -1 || colon < slash)) return /^(?:[^@\s/:]+@)?[^@\s/:]+:\S+$/.test(repo) ? "scp" : undefined;
  return "local";
}

const sourceSchema = z
  .strictObject({
    repo: z
      .string()
      .min(1, unless("must not be empty"))
      .refine((repo) => classifyRepo(repo) !== undefined, {
        error: (issue) =>
          typeof issue.input === "string" && isRemoteHelperUrl(issue.input)
            ? "must not use git's <transport>::<address> form (ext::, fd::, …): it runs a command; use a local path, a file:// or https:// URL, or an ssh URL"
            : "must be a local path, a file:// or https:// URL, or an ssh URL (ssh://host/org/repo.git or git@host:org/repo.git)",
      })
      .describe(
        "The Git repository: a local path (relative to this file's folder), a file:// or https:// URL, or an ssh URL " +
          "(ssh://git@host/org/repo.git or scp-like git@host:org/repo.git). Put no credentials here.",
      ).meta({ examples: ["https://github.com/acme/infra.git"] }),
    ref: z
      .string()
      .regex(GIT_REF_PATTERN, unless("must be a branch, tag or commit (no spaces, '..', '~', '^', ':', '?', '*', '[', '\\', not starting with '-')"))
      .default("main")
      .describe("The branch, tag or full commit SHA to check."),
    path: z
      .string()
      .regex(SOURCE_PATH_PATTERN, unless("must be a relative path inside the repository (not absolute, no '..', '/' as separator)"))
      .default(".")
      .describe(
        "The folder inside the repository holding the project (Pulumi.yaml) or the Terraform root module, relative, " +
          "e.g. stacks/app; '.' for the root.",
      ),
  })
  .describe("Where the stack's program comes from.");

const pulumiSchema = z
  .strictObject({
    stack: z
      .string()
      .regex(PULUMI_STACK_PATTERN, unless("must be a Pulumi stack name (letters, digits, '.', '_', '-', or org/project/stack)"))
      .describe("The Pulumi stack to check, e.g. dev (or org/project/stack).").meta({ examples: ["dev"] }),
    backendUrl: z
      .string()
      .regex(BACKEND_URL_PATTERN, unless("must be a backend URL such as file://./state, s3://bucket or https://api.pulumi.com"))
      .optional()
      .describe(
        "PULUMI_BACKEND_URL for this stack. Default: file://<dataDir>/pulumi/<stack>/backend, a folder of the stack's own. A relative file:// path " +
          "(file://./state or file://state) is relative to this file's folder.",
      ).meta({ examples: ["s3://acme-pulumi-state"] }),
  })
  .describe("Settings for engine: pulumi.");

/** A Terraform/OpenTofu workspace name. */
export const TERRAFORM_WORKSPACE_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** A Terraform input variable name. */
export const TERRAFORM_VARIABLE_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** A file relative to the root module: not absolute, no backslashes, never an option (`-x`). */
const RELATIVE_FILE_PATTERN = /^(?![-/])(?![A-Za-z]:)[^\\]+$/;

const terraformSchema = z
  .strictObject({
    binary: z
      .string()
      .min(1, unless("must not be empty"))
      .regex(/^(?!-)/, unless("must be tofu, terraform or the path of a binary"))
      .optional()
      .describe(
        "Which CLI runs the stack: tofu, terraform, or the path of a binary (relative to this file's folder). " +
          "Default: tofu when it is available, else terraform.",
      ).meta({ examples: ["terraform"] }),
    workspace: z
      .string()
      .regex(TERRAFORM_WORKSPACE_PATTERN, unless("must be a workspace name (letters, digits, '_', '-', '.')"))
      .optional()
      .describe("The workspace to select (TF_WORKSPACE). Default: the backend's default workspace.").meta({ examples: ["prod"] }),
    varFiles: z
      .array(z.string().regex(RELATIVE_FILE_PATTERN, unless("must be a path relative to the root module (source.path)")))
      .default([])
      .describe("Variable files (-var-file), relative to the root module folder (source.path), applied in order.").meta({ examples: [["prod.tfvars"]] }),
    vars: z
      .record(
        z.string().regex(TERRAFORM_VARIABLE_PATTERN),
        z.union([z.string(), z.number(), z.boolean()], unless("must be a string, number or boolean (write lists and maps in HCL syntax, as a string)")),
      )
      .default({})
      .describe(
        "Input variables, passed as TF_VAR_<name> in the engine's environment (never on a command line). String " +
          "values may use ${env:NAME}, ${env:NAME:-fallback} and ${dataDir}; values of credential-like names are masked in all output.",
      ).meta({ examples: [{ region: "eu-west-1", db_password: "${env:DB_PASSWORD}" }] }),
    backendConfig: z
      .record(z.string().regex(TERRAFORM_VARIABLE_PATTERN), z.string())
      .default({})
      .describe(
        "Partial backend configuration for init (-backend-config), written to a private file rather than a command " +
          "line. Values may use ${env:NAME} like env; values of credential-like names are masked in all output.",
      ).meta({ examples: [{ bucket: "acme-tf-state" }] }),
  })
  .describe("Settings for engine: terraform (OpenTofu or HashiCorp Terraform).");

/** A CloudFormation stack name. */
export const CFN_STACK_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

const cloudformationSchema = z
  .strictObject({
    stackName: z
      .string()
      .regex(CFN_STACK_NAME_PATTERN, unless("must be a CloudFormation stack name: a letter, then letters, digits and '-' (at most 128)"))
      .describe("The deployed stack's name.").meta({ examples: ["network-prod"] }),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, unless("must be an AWS region such as eu-west-1"))
      .describe("The stack's region.").meta({ examples: ["eu-west-1"] }),
    template: z
      .string()
      .regex(RELATIVE_FILE_PATTERN, unless("must be a path relative to the project folder (source.path)"))
      .describe("The template in the repository (YAML or JSON), relative to source.path.").meta({ examples: ["template.yaml"] }),
    parameters: z
      .record(z.string().regex(/^[A-Za-z0-9]+$/, unless("must be a template parameter name (letters and digits)")), z.string())
      .optional()
      .describe("Template parameters. Values may use ${env:NAME} like env; NoEcho parameters and credential-like names are masked in all output.")
      .meta({ examples: [{ Environment: "prod", DbPassword: "${env:DB_PASSWORD}" }] }),
    parametersFile: z
      .string()
      .regex(RELATIVE_FILE_PATTERN, unless("must be a path relative to the project folder (source.path)"))
      .optional()
      .describe('A JSON file of parameters in the repository, relative to source.path: {"Name": "value"} or [{"ParameterKey", "ParameterValue"}].').meta({ examples: ["parameters.json"] }),
    capabilities: z
      .array(z.enum(["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]))
      .default([])
      .describe("Capabilities the change sets acknowledge.").meta({ examples: [["CAPABILITY_IAM"]] }),
    roleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, unless("must be an IAM role ARN"))
      .optional()
      .describe("The service role CloudFormation assumes for change sets.").meta({ examples: ["arn:aws:iam::123456789012:role/cfn-driftwatch"] }),
    endpoint: z.url({ protocol: /^https?$/ }).optional().describe("The CloudFormation endpoint, for emulators (e.g. http://127.0.0.1:5000); default AWS's.").meta({ examples: ["http://127.0.0.1:5000"] }),
  })
  .refine((c) => c.parameters === undefined || c.parametersFile === undefined, { error: "give parameters or parametersFile, not both", path: ["parametersFile"] })
  .describe("Settings for engine: cloudformation. Credentials come from the standard AWS chain in the stack's environment.");

/** A Kubernetes name (an RFC 1123 label, as namespaces are). */
const KUBE_NAME_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A field manager name: what managedFields records (kubectl-edit, kube-controller-manager, …). */
const FIELD_MANAGER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

const kubernetesSchema = z
  .strictObject({
    kubeconfig: z
      .string()
      .min(1, unless("must not be empty"))
      .optional()
      .describe(
        "The kubeconfig file (relative to this file's folder), e.g. ${env:KUBECONFIG}. Absent: the in-cluster service " +
          "account Driftwatch runs as. Driftwatch itself uses its credentials; no process the repository controls gets them.",
      ).meta({ examples: ["${env:KUBECONFIG}"] }),
    context: z.string().min(1, unless("must not be empty")).optional().describe("The kubeconfig context to use; default its current context.").meta({ examples: ["prod-eu"] }),
    namespace: z
      .string()
      .regex(KUBE_NAME_PATTERN, unless("must be a namespace name (lower-case letters, digits and '-')"))
      .default("default")
      .describe("The namespace of namespaced objects whose manifests name none; the ApplySet parent Secret lives here too."),
    render: z
      .enum(["auto", "kustomize", "plain"])
      .default("auto")
      .describe(
        "How the folder becomes objects. auto: `kustomize build` when it holds a kustomization.yaml, else plain. " +
          "plain: every *.yaml, *.yml and *.json below it (recursive, in path order; multi-document YAML and `kind: List` allowed).",
      ),
    fieldManager: z
      .string()
      .regex(FIELD_MANAGER_PATTERN, unless("must be a field manager name (letters, digits, '.', '_', ':', '/', '-')"))
      .default("driftwatch")
      .describe("The field manager Driftwatch applies as (server-side apply); the fields it owns are what drift is judged on."),
    trustedManagers: z
      .array(z.string().regex(FIELD_MANAGER_PATTERN, unless("must be a field manager name")))
      .default(["kube-controller-manager", "horizontal-pod-autoscaler"])
      .describe("Field managers whose fields are never drift and never applied over (an autoscaler owning spec.replicas, a controller adding a label)."),
    prune: z
      .boolean()
      .default(true)
      .describe("Objects that left Git are pending deletes (judged by the remediation guards like any delete). false: they are left alone."),
  })
  .describe("Settings for engine: kubernetes (a folder of manifests applied with server-side apply).");

/** A Slack channel: a name (#drift or drift) or an id (C0123ABC). */
const SLACK_CHANNEL_PATTERN = /^#?[a-z0-9][a-z0-9._-]{0,79}$|^[CGD][A-Z0-9]{6,}$/;

/** A Slack user group id (S0123ABCD), mentioned as <!subteam^ID>. */
const SLACK_USER_GROUP_PATTERN = /^S[A-Z0-9]{6,}$/;

const slackChannel = z
  .string()
  .regex(SLACK_CHANNEL_PATTERN, unless("must be a Slack channel name (#drift) or id (C0123ABCD)"));

const slackUserGroup = z
  .string()
  .regex(SLACK_USER_GROUP_PATTERN, unless("must be a Slack user group id such as S0123ABCD (find it in the group's URL)"));

/** A Slack user id (U0123ABCD, or W… in Enterprise Grid) or user group id (S0123ABCD). */
export const SLACK_PRINCIPAL_PATTERN = /^[UWS][A-Z0-9]{6,}$/;

const approversSchema = z
  .array(z.string().regex(SLACK_PRINCIPAL_PATTERN, unless("must be a Slack user id (U0123ABCD) or user group id (S0123ABCD); names change, ids do not")))
  .describe(
    "Who may approve or reject this stack's remediation plans from Slack: user ids and user group ids (a group's members at the time of the press). " +
      "None: approving from Slack is off for the stack (driftwatch approve and the API still work).",
  );

const actionsSchema = z
  .strictObject({
    restrict: z
      .boolean()
      .optional()
      .describe("Only `approvers` may re-check, snooze and acknowledge from Slack (default false: anyone in the channel may).").meta({ examples: [true] }),
  })
  .describe("Who may use the Slack buttons that do not change infrastructure (re-check, snooze, acknowledge).");

const seconds = (what: string) =>
  z
    .number()
    .positive(unless(`must be a positive number of seconds (${what})`))
    .max(3600, unless(`must be at most 3600 seconds (${what})`));

const slackSchema = z
  .strictObject({
    tokenEnv: z
      .string()
      .regex(ENV_NAME_PATTERN, unless("must be an environment variable name"))
      .default("SLACK_BOT_TOKEN")
      .describe("The environment variable holding the bot token (xoxb-…); never put the token in this file."),
    channel: slackChannel.describe("The default channel for alerts (#name or id); stacks may name their own.").meta({ examples: ["#drift"] }),
    mentionUserGroup: slackUserGroup.optional().describe("A user group to mention when a new drift episode opens.").meta({ examples: ["S0123PLAT"] }),
    apiUrl: z
      .url({ protocol: /^https?$/, ...unless("must be an http(s) URL") })
      .optional()
      .describe("The Slack Web API base URL (default https://slack.com/api/); for proxies and tests.").meta({ examples: ["https://slack-proxy.internal/api/"] }),
    timeoutSeconds: seconds("per request").default(10).describe("Per-request timeout in seconds."),
    retries: z.number().int().min(0).max(10).default(3).describe("Retries of a failed request (5xx, timeout, network), with exponential backoff."),
    maxRateLimitWaitSeconds: seconds("waiting out a rate limit")
      .default(30)
      .describe("How long one delivery may wait out a Slack rate limit (Retry-After) before leaving the alert in the outbox."),
    signingSecretEnv: z
      .string()
      .regex(ENV_NAME_PATTERN, unless("must be an environment variable name"))
      .default("SLACK_SIGNING_SECRET")
      .describe(
        "The environment variable holding the Slack app's signing secret. When it is set, alerts carry buttons (approve, reject, re-check, snooze, " +
          "acknowledge) and driftwatch serve takes their presses at POST /api/slack/interactions; unset, messages have no buttons and the endpoint is off.",
      ),
  })
  .describe(
    "Alerts in Slack through a bot (scopes chat:write, optionally chat:write.public; channels:read and channels:history, groups:read and groups:history for private channels, let a delivery cut off mid-post check the channel before posting again).",
  );

const alertsSchema = z
  .strictObject({
    log: z.boolean().default(true).describe("Also write every alert to the log (the log notifier)."),
    slack: slackSchema.optional(),
    dashboardUrl: z
      .url({ protocol: /^https?$/, ...unless("must be an http(s) URL") })
      .optional()
      .describe("The dashboard's public URL; alerts link to the run there.").meta({ examples: ["https://driftwatch.example.com"] }),
    failureRepeatMinutes: z
      .number()
      .positive(unless("must be a positive number of minutes"))
      .default(60)
      .describe("A stack that keeps failing is alerted again at most this often (a different kind of error is alerted at once)."),
    deliveryTimeoutSeconds: seconds("delivery at the end of a run")
      .default(30)
      .describe("How long a run waits at its end for alerts to be delivered; what is left stays in the outbox for the next run."),
    redact: z
      .strictObject({
        patterns: z
          .array(z.string().min(1))
          .default([])
          .describe("Extra regular expressions whose matches are masked in alerts (built in: AWS key ids, Slack and GitHub tokens, private keys).").meta({ examples: [["acme-[0-9a-f]{32}"]] }),
        showValuesOf: z
          .array(z.string().min(1))
          .optional()
          .describe("When set, only property values at these paths (globs: * one segment, ** any depth) appear in alerts; others show as hidden.").meta({ examples: [["tags.*", "spec.replicas"]] }),
      })
      .default({ patterns: [] })
      .describe("Masking for alerts on top of the secrets engines already mask."),
  })
  .describe("Where alerts go and how they look. Without this section, alerts go to the log only.");

const stackAlertsSchema = z
  .strictObject({
    channel: slackChannel.optional().describe("This stack's Slack channel (default: alerts.slack.channel).").meta({ examples: ["#team-network"] }),
    pending: z.boolean().default(false).describe("Also open episodes for pending changes (Git ahead of the world), not only drift."),
    mute: z.boolean().default(false).describe("No alerts for this stack (it is still checked and recorded)."),
  })
  .describe("This stack's alerts.");

/** A cron expression Driftwatch accepts: five fields (minute precision), so never more often than once a minute. */
export function cronProblem(expression: string): string | undefined {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) return "must be a cron expression with five fields (minute hour day-of-month month day-of-week); the minimum interval is one minute";
  if (!cron.validate(expression)) return "is not a valid cron expression";
  return undefined;
}

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const cronExpression = z.string().superRefine((value, ctx) => {
  const problem = cronProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

const timeZone = z.string().refine(isTimeZone, { error: "must be an IANA time zone such as UTC or Europe/Berlin" });

/** A host name for service.http.allowedHosts, optionally with a leading dot (the name and its subdomains). */
const ALLOWED_HOST_PATTERN = /^\.?[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/;

const httpSchema = z
  .strictObject({
    host: z.string().min(1).default("127.0.0.1").describe("The address to listen on (0.0.0.0 for every interface)."),
    port: z.number().int().min(0).max(65535).default(8080).describe("The port (0: any free port)."),
    publicRead: z.boolean().default(true).describe("Read-only endpoints (dashboard, /api GETs, /metrics) without a token; false requires the API token."),
    allowedHosts: z
      .array(z.string().regex(ALLOWED_HOST_PATTERN, unless("must be a host name such as driftwatch.example.com, or .example.com for it and its subdomains (no scheme, no port)")))
      .default([])
      .describe(
        "The host names the server answers to (the Host header), besides IP addresses, localhost, the name it listens on and the host of alerts.dashboardUrl; " +
          "a leading dot allows every subdomain. Other names get 421: a defence against DNS rebinding.",
      ).meta({ examples: [["driftwatch.example.com"]] }),
    apiTokenEnv: z
      .string()
      .regex(ENV_NAME_PATTERN)
      .default("DRIFTWATCH_API_TOKEN")
      .describe("The environment variable holding the API token (Authorization: Bearer …) for triggering checks."),
    webhookSecretEnv: z
      .string()
      .regex(ENV_NAME_PATTERN)
      .default("DRIFTWATCH_WEBHOOK_SECRET")
      .describe("The environment variable holding the shared secret of POST /api/hooks/git (HMAC-SHA256, as GitHub/GitLab send)."),
  })
  .describe("The HTTP server: health, metrics, API, dashboard.");

const serviceSchema = z
  .strictObject({
    schedule: cronExpression.default("*/15 * * * *").describe("When every stack is checked, unless it has its own schedule (cron, five fields)."),
    timezone: timeZone.default("UTC").describe("The time zone of the schedules."),
    jitterSeconds: z.number().min(0).max(3600).default(30).describe("Each scheduled check starts after a random delay up to this long, so a fleet does not start at once."),
    runOnStart: z.boolean().default(true).describe("Check every stack when the service starts."),
    concurrency: z.number().int().min(1).max(256).optional().describe("Stacks checked at once (default: the number of CPU cores).").meta({ examples: [2] }),
    gitPollSeconds: z.number().int().min(0).max(86_400).default(60).describe("How often each repository's ref is polled (git ls-remote); 0 turns polling off."),
    stopGraceSeconds: z.number().min(0).max(3600).default(30).describe("On SIGTERM/SIGINT, how long runs in flight may finish before they are cancelled."),
    http: httpSchema.default({ host: "127.0.0.1", port: 8080, publicRead: true, allowedHosts: [], apiTokenEnv: "DRIFTWATCH_API_TOKEN", webhookSecretEnv: "DRIFTWATCH_WEBHOOK_SECRET" }),
  })
  .describe("driftwatch serve: schedules, Git-change triggers, HTTP.");

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
const CLOCK_PATTERN = /^([01]\d|2[0-3]):[0-5]\d$/;
const clock = z.string().regex(CLOCK_PATTERN, unless("must be a time of day as HH:MM (24-hour), e.g. 09:00"));

/** A calendar date YYYY-MM-DD that exists. */
export function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text);
}
const calendarDate = z.string().refine(isCalendarDate, { error: "must be a date as YYYY-MM-DD, e.g. 2026-12-20" });

const remediationWindowSchema = z
  .strictObject({
    days: z.array(z.enum(WEEKDAYS)).min(1, unless("must name at least one day")).describe("Days the window opens: mon, tue, wed, thu, fri, sat, sun.").meta({ examples: [["mon", "tue", "wed", "thu", "fri"]] }),
    from: clock.describe("Opens at (HH:MM).").meta({ examples: ["09:00"] }),
    to: clock.describe("Closes at (HH:MM); before `from`: the window runs past midnight.").meta({ examples: ["17:00"] }),
    tz: timeZone.default("UTC").describe("The window's time zone (default UTC)."),
  })
  .refine((w) => w.from !== w.to, { error: "from and to must differ" })
  .describe("A time when automatic remediation may run.");

const freezeSchema = z
  .strictObject({
    from: calendarDate.describe("First frozen day (YYYY-MM-DD).").meta({ examples: ["2026-12-20"] }),
    to: calendarDate.describe("Last frozen day (YYYY-MM-DD), inclusive.").meta({ examples: ["2027-01-03"] }),
    tz: timeZone.default("UTC").describe("The time zone the days are counted in (default UTC)."),
  })
  .refine((f) => f.from <= f.to, { error: "from must not be after to" })
  .describe("Days when nothing is remediated automatically.");

/** Every field optional: `defaults.remediation` and a stack's `remediation` are merged over the built-in defaults. */
export const remediationSchema = z
  .strictObject({
    mode: z
      .enum(["off", "auto", "approve"])
      .optional()
      .describe("off (default): never remediate; auto: apply the plan when every guard passes; approve: ask for an approval of the plan first.").meta({ examples: ["approve"] }),
    approvalHours: z.number().min(0.01).max(24 * 30).optional().describe("How long an approval request stays valid (default 24 hours).").meta({ examples: [8] }),
    backoff: z
      .strictObject({
        initialMinutes: z.number().min(0).max(24 * 60).optional().describe("Wait after the first failed remediation (default 5); doubled after each further one.").meta({ examples: [10] }),
        maxMinutes: z.number().min(0).max(7 * 24 * 60).optional().describe("The longest wait between attempts (default 360).").meta({ examples: [120] }),
        attempts: z.number().int().min(1).max(100).optional().describe("Failed remediations in a row before the stack needs attention (default 5).").meta({ examples: [3] }),
      })
      .optional()
      .describe("After a remediation fails, or leaves the stack divergent: wait, longer each time, then stop and alert."),
    allow: z
      .strictObject({
        deletes: z.boolean().optional().describe("May the plan delete resources (default false).").meta({ examples: [true] }),
        replaces: z.boolean().optional().describe("May the plan replace resources (default false).").meta({ examples: [true] }),
      })
      .optional()
      .describe("Which destructive changes a plan may make; by default it may neither delete nor replace."),
    maxChanges: z.number().int().min(1).max(10_000).optional().describe("At most this many resources touched by the plan (default 10).").meta({ examples: [5] }),
    protect: z.array(z.string().min(1)).optional().describe("Resource types never touched automatically, e.g. aws:rds/instance:Instance or aws_db_instance.").meta({ examples: [["aws:rds/instance:Instance", "aws_db_instance"]] }),
    windows: z.array(remediationWindowSchema).optional().describe("When remediation may run; none: any time.").meta({ examples: [[{ days: ["mon", "tue", "wed", "thu", "fri"], from: "09:00", to: "17:00" }]] }),
    freeze: z.array(freezeSchema).optional().describe("Change freezes: no remediation on these days.").meta({ examples: [[{ from: "2026-12-20", to: "2027-01-03" }]] }),
    requireSignedCommit: z
      .union([
        z.boolean(),
        z.strictObject({
          before: z
            .enum(["check", "remediate"])
            .optional()
            .describe("check (default): verify before any engine runs the commit's code, an unverified commit is the run's error; remediate: verify only before remediating from it.").meta({ examples: ["check"] }),
        }),
      ], unless("must be true, false, { before: check } or { before: remediate }"))
      .optional()
      .describe("Require commits signed by a key of `trustedKeys`: { before: check } (no unverified code runs at all) or { before: remediate }; true means { before: remediate } (default false).").meta({ examples: [{ before: "check" }] }),
    trustedKeys: z.string().min(1).optional().describe("An SSH allowed-signers file, or a file of ASCII-armored OpenPGP public keys (relative to this file), for git verify-commit.").meta({ examples: ["/etc/driftwatch/allowed_signers"] }),
    on: z.enum(["drift", "pending", "both"]).optional().describe("Which divergence is remediated: drift (default), pending (Git ahead), or both.").meta({ examples: ["both"] }),
  })
  .describe("Automatic remediation: the policy and its guard rails, evaluated on the remediation plan.");

const pathGlob = z.string().refine((glob) => parseGlob(glob) !== undefined, { error: 'is not a valid path glob (e.g. tags.*, ingress[*].port, **.port, tags["a.b"])' });

export const ignoreRulesSchema = z
  .array(
    z.strictObject({
      type: z.string().min(1).optional().describe("Only resources of this type (e.g. aws_instance, aws:ec2/instance:Instance); default: every type.").meta({ examples: ["aws_instance"] }),
      paths: z.array(pathGlob).min(1, unless("must name at least one property path glob")).describe("Property path globs never reported as drift and never reverted.").meta({ examples: [["tags.LastScanned", "metadata.annotations.*"]] }),
    }),
  )
  .describe("Properties Driftwatch ignores: not drift, not pending, and never reverted by remediation.").meta({ examples: [[{ type: "aws_instance", paths: ["tags.LastScanned"] }]] });

export const flappingSchema = z
  .strictObject({
    threshold: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("How many times one resource must start drifting within the window to be flagged as flapping (default 3; 0: never).").meta({ examples: [5] }),
    windowHours: z.number().positive().optional().describe("The window, in hours (default 24).").meta({ examples: [48] }),
  })
  .describe("Flapping: a resource that drifts, is put right, and drifts again is flagged in its episode, with an ignore rule suggested.");

const sandboxLevel = z
  .enum(SANDBOX_LEVELS)
  .describe(
    "How confined repository code runs: strict (Landlock files and TCP, no capabilities, a PID namespace; Linux 6.7+), " +
      "files (the same without TCP rules; Linux 5.13+) or off (unconfined: a committer's code can read whatever the service can).",
  );

const sandboxPaths = (what: string, example: string) =>
  z
    .array(z.string().min(1, unless("must not be empty")))
    .default([])
    .describe(`${what} Relative to this file's folder; \${env:NAME} and \${dataDir} are expanded.`)
    .meta({ examples: [[example]] });

const stackSandboxSchema = z
  .strictObject({
    level: sandboxLevel.optional().describe("This stack's level; default the top-level sandbox level.").meta({ examples: ["files"] }),
    readOnly: sandboxPaths("Files and folders this stack's engine may read besides its worktree, home, state and the toolchain.", "/etc/driftwatch/aws"),
    readWrite: sandboxPaths("Files and folders it may read and write, e.g. the local folder a stack's resources live in (created when missing).", "${dataDir}/world/demo-files"),
    connectPorts: z
      .array(z.number().int().min(1).max(65535))
      .default([])
      .describe("TCP ports it may connect to besides 443, 80 and the ports of URLs in its env, vars and backendConfig (Terraform, npm; Pulumi's network is not limited).").meta({ examples: [[5432]] }),
    memoryMB: z.number().int().min(64).optional().describe("The data-segment limit of each of its processes, in MiB (default 4096).").meta({ examples: [8192] }),
    cpuSeconds: z.number().int().min(1).optional().describe("The CPU time each of its processes may use, in seconds (default: the stack's timeout, at least 60).").meta({ examples: [1200] }),
  })
  .describe("What this stack's repository code may reach inside the OS sandbox (see docs/security.md).");

const stackFields = {
  name: z
    .string()
    .regex(STACK_NAME_PATTERN, unless("must start with a lowercase letter or digit and contain only a-z, 0-9, '.', '_' and '-'"))
    .describe("A unique name for the stack: lowercase letters, digits, '.', '_' and '-'.").meta({ examples: ["network"] }),
  source: sourceSchema,
  env: z
    .record(z.string().regex(ENV_NAME_PATTERN), z.string())
    .default({})
    .describe(
      "Environment variables for the engine process only (treated as secrets in all output). Values may use " +
        "${env:NAME}, ${env:NAME:-fallback} (when NAME is unset or empty) and ${dataDir}; write $${ for a literal ${.",
    ).meta({ examples: [{ AWS_PROFILE: "infra", AWS_REGION: "eu-west-1" }] }),
  timeoutSeconds: timeoutSeconds.optional().describe("This stack's run timeout in seconds; overrides defaults.timeoutSeconds.").meta({ examples: [1200] }),
  alerts: stackAlertsSchema.default({ pending: false, mute: false }),
  schedule: cronExpression.optional().describe("This stack's schedule (cron, five fields); default service.schedule.").meta({ examples: ["0 * * * *"] }),
  timezone: timeZone.optional().describe("The time zone of this stack's schedule; default service.timezone.").meta({ examples: ["Europe/Berlin"] }),
  remediation: remediationSchema.optional(),
  approvers: approversSchema.optional().describe("Who may approve this stack's plans from Slack; default defaults.approvers.").meta({ examples: [["U0123ALICE"]] }),
  actions: actionsSchema.optional(),
  ignore: ignoreRulesSchema.optional(),
  flapping: flappingSchema.optional(),
  sandbox: stackSandboxSchema.optional(),
  requiresEnv: z
    .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, unless("must be an environment variable name")))
    .min(1, unless("must name at least one environment variable"))
    .optional()
    .describe("Watch this stack only when at least one of these variables is set in Driftwatch's environment (e.g. cloud credentials); otherwise it is skipped, with a log line saying why.").meta({ examples: [["AWS_PROFILE", "AWS_ACCESS_KEY_ID"]] }),
};

/** The engines a stack may name. */
export const ENGINES = ["pulumi", "terraform", "cloudformation", "kubernetes"] as const;

const pulumiStackSchema = z
  .strictObject({
    ...stackFields,
    engine: z.literal("pulumi").describe("The IaC engine: pulumi, terraform, or cloudformation."),
    pulumi: pulumiSchema,
  })
  .describe("A Pulumi stack to watch.");

const terraformStackSchema = z
  .strictObject({
    ...stackFields,
    engine: z.literal("terraform").describe("The IaC engine: terraform (OpenTofu or HashiCorp Terraform), pulumi, or cloudformation."),
    terraform: terraformSchema.default({ varFiles: [], vars: {}, backendConfig: {} }),
  })
  .describe("A Terraform/OpenTofu root module to watch.");

const cloudformationStackSchema = z
  .strictObject({
    ...stackFields,
    engine: z.literal("cloudformation").describe("The IaC engine: cloudformation, pulumi, or terraform."),
    cloudformation: cloudformationSchema,
  })
  .describe("A CloudFormation stack to watch, its template in Git.");

const kubernetesStackSchema = z
  .strictObject({
    ...stackFields,
    engine: z.literal("kubernetes").describe("The engine: kubernetes (manifests in Git against a cluster), pulumi, terraform or cloudformation."),
    kubernetes: kubernetesSchema.default({ namespace: "default", render: "auto", fieldManager: "driftwatch", trustedManagers: ["kube-controller-manager", "horizontal-pod-autoscaler"], prune: true }),
  })
  .describe("A folder of Kubernetes manifests (or a Kustomize overlay) to watch against a cluster.");

const reportSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, unless("must be 1–64 letters, digits, - or _ (it names the report's files and URLs)"))
      .describe("The report's name, e.g. weekly.").meta({ examples: ["weekly"] }),
    schedule: cronExpression.describe('When the report is produced (cron, five fields), e.g. "0 9 * * mon".').meta({ examples: ["0 9 * * mon"] }),
    timezone: timeZone.optional().describe("The time zone of the schedule; default service.timezone.").meta({ examples: ["Europe/Berlin"] }),
    since: z
      .string()
      .refine((text) => parseSince(text) !== undefined, { error: `must be ${SINCE_HINT}` })
      .default("7d")
      .describe("The period each report covers, up to its tick: 24h, 7d, 4w, …"),
    stacks: z.array(z.string().min(1)).min(1).default(["*"]).describe("The stacks it covers: names or globs (* any characters, ? one); default all."),
    slack: z
      .strictObject({ channel: slackChannel.optional().describe("Where the digest goes (default: alerts.slack.channel).").meta({ examples: ["#platform"] }) })
      .optional()
      .describe("Post a digest of each report to Slack (needs alerts.slack)."),
    keep: z.number().int().min(1).max(1000).default(12).describe("How many of its reports are kept under <dataDir>/reports (older ones are deleted)."),
  })
  .describe("A report produced on a schedule by driftwatch serve: an HTML file served at /reports/<id>, and a Slack digest.");

export const stackSchema = z.discriminatedUnion("engine", [pulumiStackSchema, terraformStackSchema, cloudformationStackSchema, kubernetesStackSchema]).describe("One stack to watch.");

/** The engines a user may point Driftwatch at (engines.<name>.path). */
export const INSTALLED_ENGINES = ["pulumi", "tofu", "terraform", "kustomize"] as const;

const enginePath = (name: string) =>
  z
    .strictObject({
      path: z
        .string()
        .min(1, unless("must not be empty"))
        .describe(`The ${name} executable to run; relative to this file's folder. Its version is checked at start; below the supported floor Driftwatch refuses to start.`)
        .meta({ examples: [`/usr/local/bin/${name}`] }),
    })
    .describe(`Where ${name} is installed. Default: ${name} on PATH when recent enough, else built from source (needs Go) when a stack needs it.`);

const enginesSchema = z
  .strictObject(Object.fromEntries(INSTALLED_ENGINES.map((name) => [name, enginePath(name).optional()])) as Record<(typeof INSTALLED_ENGINES)[number], z.ZodOptional<ReturnType<typeof enginePath>>>)
  .default({})
  .describe("The engines this machine already has. Driftwatch needs only those its stacks use: each is taken from here, else from PATH, and built from source only when neither has it.");

/** The raw driftwatch.yaml. */
export const configFileSchema = z
  .strictObject({
    dataDir: z
      .string()
      .min(1, unless("must not be empty"))
      .default(".driftwatch")
      .describe("Where Driftwatch keeps its database, Git mirrors, worktrees and (unless cacheDir says otherwise) caches; relative to this file's folder."),
    cacheDir: z
      .string()
      .min(1, unless("must not be empty"))
      .optional()
      .describe(
        "Where the caches of program dependencies (npm) and Terraform provider plugins live; relative to this file's folder. " +
          "Default: <dataDir>/cache. Several Driftwatch processes (or configurations) may share one.",
      ).meta({ examples: ["/var/cache/driftwatch"] }),
    defaults: z
      .strictObject({
        timeoutSeconds: timeoutSeconds.default(600).describe("The run timeout in seconds for stacks that set none."),
        remediation: remediationSchema.optional(),
        approvers: approversSchema.optional().describe("Who may approve plans from Slack, for stacks that name none of their own.").meta({ examples: [["U0123ALICE", "S0PLATFORM"]] }),
        actions: actionsSchema.optional().describe("Who may use the other Slack buttons, for stacks that say nothing of their own."),
        ignore: ignoreRulesSchema.optional().describe("Ignore rules every stack has, before its own.").meta({ examples: [[{ type: "aws_instance", paths: ["tags.LastScanned"] }]] }),
        flapping: flappingSchema.optional().describe("Flapping detection for every stack; a stack's own settings win, field by field."),
      })
      .default({ timeoutSeconds: 600 })
      .describe("Settings every stack inherits unless it sets its own."),
    git: gitSchema.default({ timeoutSeconds: 300 }),
    engines: enginesSchema,
    database: z
      .strictObject({
        url: z
          .string()
          .min(1, unless("must not be empty"))
          .describe(
            "The PostgreSQL database every replica of driftwatch serve shares: postgres://user:password@host:5432/name (sslmode and the other libpq " +
              "parameters are understood). Write ${env:DATABASE_URL} rather than the password itself; it is masked in all output either way.",
          ).meta({ examples: ["${env:DATABASE_URL}"] }),
        poolSize: z.number().int().min(2).max(100).default(10).describe("The most connections one process holds to the database at once."),
        heartbeatSeconds: z
          .number()
          .int()
          .min(10)
          .max(3600)
          .default(30)
          .describe("A replica running a check says so this often; a check whose replica went silent this long is run again by another."),
      })
      .optional()
      .describe("Where runs, episodes, approvals and the audit log are kept. Absent: SQLite at <dataDir>/driftwatch.db (one machine)."),
    service: serviceSchema.default({
      schedule: "*/15 * * * *",
      timezone: "UTC",
      jitterSeconds: 30,
      runOnStart: true,
      gitPollSeconds: 60,
      stopGraceSeconds: 30,
      http: { host: "127.0.0.1", port: 8080, publicRead: true, allowedHosts: [], apiTokenEnv: "DRIFTWATCH_API_TOKEN", webhookSecretEnv: "DRIFTWATCH_WEBHOOK_SECRET" },
    }),
    alerts: alertsSchema.default({ log: true, failureRepeatMinutes: 60, deliveryTimeoutSeconds: 30, redact: { patterns: [] } }),
    sandbox: z
      .union([sandboxLevel, z.strictObject({ level: sandboxLevel.default("strict") })])
      .default("strict")
      .describe("The OS sandbox every process tree of repository code runs in (default strict); `sandbox: off` runs it unconfined, and every run says so."),
    stacks: z.array(stackSchema).default([]).describe("The stacks to watch."),
    reports: z
      .array(reportSchema)
      .default([])
      .superRefine((reports, ctx) => {
        const seen = new Set<string>();
        reports.forEach((report, index) => {
          if (seen.has(report.name)) ctx.addIssue({ code: "custom", path: [index, "name"], message: `another report is named ${report.name} already` });
          seen.add(report.name);
        });
      })
      .describe("Reports driftwatch serve produces on a schedule."),
  })
  .describe("Driftwatch configuration (driftwatch.yaml): the stacks to watch for drift and where to keep state.");

/** The file as written (what an editor completes). */
export type ConfigFileInput = z.input<typeof configFileSchema>;
/** The file after validation, with the schema's static defaults applied. */
export type ConfigFile = z.output<typeof configFileSchema>;
