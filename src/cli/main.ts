#!/usr/bin/env node
// The driftwatch command: a thin table of commands over src/run, with one error boundary.
// Exit codes: 0 all in sync, 2 drift or pending somewhere, 1 any error. What only one command uses (serve's HTTP
// server and scheduler, doctor, init) is imported when that command runs, so `check` does not start by loading it.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { loadConfig } from "../config/load.ts";
import { secretMaskerFor } from "../config/secrets.ts";
import type { StarterEngine } from "../config/starter.ts";
import type { DriftwatchConfig } from "../config/types.ts";
import { ApprovalError, ConfigError, StartupError, UsageError } from "../core/errors.ts";
import { fileSystemProblem } from "../core/private-dir.ts";
import { createLogger } from "../core/logger.ts";
import type { StackResult } from "../core/types.ts";
import { check, converge, requireKnownStacks, selectStacks } from "../run/check.ts";
import { createRunner } from "../run/runner.ts";
import type { Store } from "../store/api.ts";
import { StoreError } from "../store/errors.ts";
import { migrateDatabase, openStore } from "../store/open.ts";
import { isPostgresUrl, redactDatabaseUrl } from "../store/postgres/url.ts";
import { readToolchainManifest, ToolchainNotProvisionedError } from "../toolchain/manifest.ts";
import { manifestPath, repoRoot, toolsDir } from "../toolchain/paths.ts";
import { ProvisionError } from "../toolchain/errors.ts";
import { buildsOnlyProgress, streamProgress } from "../toolchain/progress.ts";
import { engineToolchain, withConfiguredEngines } from "../toolchain/engine-toolchain.ts";
import type { EngineToolchain } from "../toolchain/manifest.ts";
import { versionString } from "../toolchain/semver.ts";
import { loadPinnedVersions } from "../toolchain/versions.ts";
import { computeReport } from "../reports/compute.ts";
import { parseInstant, parseSince, SINCE_HINT } from "../reports/period.ts";
import { renderReport, REPORT_FORMATS, type ReportFormat } from "../reports/render.ts";
import { isGlob, stacksMatching } from "../reports/selection.ts";
import { checkOutFile, renderResultsAs, RESULTS_FORMATS, resultsFormat, type ResultsOutputOptions, writeResultsFile } from "./ci-output.ts";
import { exitCodeFor, renderApprovals, renderAudit, renderHistory, renderResults } from "./render.ts";
import { isTerminal, TerminalProgress } from "./terminal-progress.ts";

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  /**
   * Aborted when Driftwatch is asked to stop (the first SIGTERM or SIGINT of the real process): `serve` stops
   * gracefully; `check`, `converge` and `approve` cancel their engines cleanly (locks released) and record the
   * runs as interrupted. Absent: never.
   */
  stop?: AbortSignal;
}

/** Aborted by the first SIGTERM or SIGINT; a second one ends the process the usual way. */
function stopOnSignal(): AbortSignal {
  const controller = new AbortController();
  const stop = () => {
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
    controller.abort();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  return controller.signal;
}

/** Resolves when `signal` aborts (never when there is none). */
function aborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) resolve();
    else signal?.addEventListener("abort", () => resolve(), { once: true });
  });
}

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];
const LOG_FORMATS = ["pretty", "json"] as const;

function positiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number >= 1");
  return n;
}

function toolchain(env: NodeJS.ProcessEnv) {
  return readToolchainManifest(env.DRIFTWATCH_TOOLCHAIN ?? manifestPath());
}

/**
 * The engines, for the commands that run them. Started through `npm start`/`npm test` (DRIFTWATCH_TOOLCHAIN set by
 * the bootstrap), every engine is provisioned already; installed as a package, those the configuration's stacks use
 * are found (engines.<name>.path, PATH) or, failing that, built into the user's cache on first use. Either way an
 * engine the configuration names by path is the one used.
 */
async function engines(io: CliIo, config: DriftwatchConfig): Promise<EngineToolchain> {
  const options = { paths: config.engines, versions: loadPinnedVersions(), progress: buildsOnlyProgress(io.stderr), tools: toolsDir(io.env), env: io.env };
  if (io.env.DRIFTWATCH_TOOLCHAIN) return withConfiguredEngines(toolchain(io.env), options);
  return engineToolchain({ ...options, stacks: config.stacks });
}

/** Driftwatch's version and Node's, and the engines' of the provisioned toolchain in a clone (or where to see them). */
function versionText(env: NodeJS.ProcessEnv): string {
  const { version } = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string };
  const lines = [`driftwatch ${version}`, `node ${versionString(process.version) ?? process.version}`];
  if (!env.DRIFTWATCH_TOOLCHAIN) lines.push("engines: those the configuration's stacks use, found or built at their first use ('driftwatch doctor' lists them)");
  else {
    try {
      const tools = toolchain(env);
      lines.push(`pulumi ${tools.pulumi.version}`, ...tools.terraform.clis.map((cli) => `${cli.flavor} ${cli.version}`), `kustomize ${tools.kubernetes.kustomize.version}`);
    } catch (error) {
      lines.push(`engines: ${error instanceof ToolchainNotProvisionedError ? "not provisioned yet (npm run provision)" : `unknown (${error instanceof Error ? error.message : String(error)})`}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

function portNumber(text: string): number | undefined {
  const n = Number(text);
  return text.trim() !== "" && Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
}

/** Where serve listens: --host/--port, else DRIFTWATCH_HTTP_HOST/DRIFTWATCH_HTTP_PORT (a container's), else service.http. */
function listenAddress(config: DriftwatchConfig, opts: { host?: string; port?: number }, env: NodeJS.ProcessEnv): { host: string; port: number } {
  const envPort = env.DRIFTWATCH_HTTP_PORT || undefined;
  const fromEnv = envPort === undefined ? undefined : portNumber(envPort);
  if (envPort !== undefined && fromEnv === undefined) throw new UsageError(`DRIFTWATCH_HTTP_PORT=${envPort}: expected a port number 0-65535`);
  return {
    host: opts.host ?? (env.DRIFTWATCH_HTTP_HOST || config.service.http.host),
    port: opts.port ?? fromEnv ?? config.service.http.port,
  };
}

/** The period of `report`: --since (default 7d) up to --to or now, or --from to --to or now. */
function reportPeriod(opts: { since?: string; from?: string; to?: string }): { from: Date; to: Date } {
  if (opts.since !== undefined && opts.from !== undefined) throw new UsageError("report: give --since or --from, not both");
  const instant = (text: string, option: string) => {
    const date = parseInstant(text);
    if (!date) throw new UsageError(`report: ${option} ${text} is not an ISO 8601 time (e.g. 2026-11-01 or 2026-11-01T09:00:00Z)`);
    return date;
  };
  const to = opts.to === undefined ? new Date() : instant(opts.to, "--to");
  let from: Date;
  if (opts.from !== undefined) from = instant(opts.from, "--from");
  else {
    const ms = parseSince(opts.since ?? "7d");
    if (ms === undefined) throw new UsageError(`report: --since ${opts.since}: expected ${SINCE_HINT}`);
    from = new Date(to.getTime() - ms);
  }
  if (from.getTime() >= to.getTime()) throw new UsageError(`report: the period must end after it starts (from ${from.toISOString()} to ${to.toISOString()})`);
  return { from, to };
}

export function buildProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command("driftwatch")
    .description("GitOps drift monitor: is the real world what Git declares?")
    .option("-c, --config <file>", "configuration file", "driftwatch.yaml")
    .addOption(
      new Option("--log-level <level>", "what goes to stderr; default DRIFTWATCH_LOG_LEVEL, else info for serve, and for the rest warn on a terminal and nothing in a pipe").choices(LOG_LEVELS),
    )
    .option("-v, --verbose", "log progress too (--log-level info)")
    .addOption(new Option("--log-format <format>", "log lines for people (pretty, the default on a terminal) or JSON (the default otherwise)").choices(LOG_FORMATS))
    .option("-V, --version", "print the version of driftwatch and of the engines it runs")
    .exitOverride()
    .showHelpAfterError("(driftwatch --help lists the commands and options)")
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  // Like commander's own --version, with text read only when asked for (the engines' come from the toolchain).
  program.on("option:version", () => {
    io.stdout.write(versionText(io.env));
    throw new CommanderError(0, "driftwatch.version", "");
  });

  const context = (command: Command) => {
    const opts = command.optsWithGlobals<{ config: string; logLevel?: string; verbose?: boolean; logFormat?: (typeof LOG_FORMATS)[number] }>();
    const config = loadConfig(opts.config, { env: io.env });
    const masker = secretMaskerFor(config, io.env);
    // A one-shot command's stdout is its answer. On a terminal, stderr shows its progress and what needs attention;
    // in a pipe it stays empty unless logs are asked for (a level, --verbose, --log-format json). The service logs
    // its progress.
    const fromEnv = io.env.DRIFTWATCH_LOG_LEVEL || undefined;
    if (fromEnv && !LOG_LEVELS.includes(fromEnv)) throw new UsageError(`DRIFTWATCH_LOG_LEVEL=${fromEnv} is not a log level (${LOG_LEVELS.join(", ")})`);
    const oneShotLevel = isTerminal(io.stderr) || opts.logFormat === "json" ? "warn" : "silent";
    const level = opts.logLevel ?? (opts.verbose ? "info" : undefined) ?? fromEnv ?? (command.name() === "serve" ? "info" : oneShotLevel);
    const logger = createLogger({ level, destination: io.stderr, masker, ...(opts.logFormat ? { pretty: opts.logFormat === "pretty" } : {}) });
    return { config, logger, masker };
  };

  /** For the commands that run stacks: say, once, which stacks are left out and why. */
  const sayWhatIsSkipped = ({ config, logger }: ReturnType<typeof context>) => {
    for (const skipped of config.skipped) logger.info({ stack: skipped.name }, skipped.reason);
  };

  /**
   * check and converge: run the operation over the chosen stacks, print the results, set the exit code. With --out
   * the document goes to that file and stdout gets the table (for the CI log), unless the document is the table.
   */
  const runStacks = async (operation: typeof check, command: Command, only: string[], concurrency: number, output: ResultsOutputOptions) => {
    const format = resultsFormat(output, command.name());
    if (output.out) checkOutFile(output.out, command.name()); // before the engines, not after a long run
    const loaded = context(command);
    const { config, logger, masker } = loaded;
    requireKnownStacks(config, only, command.name()); // before the engines, which a first use may have to build
    sayWhatIsSkipped(loaded);
    const progress = isTerminal(io.stderr) ? new TerminalProgress(io.stderr, command.name() === "converge" ? "converging" : "checking") : undefined;
    const toolchain = await engines(io, config);
    progress?.start(selectStacks(config, only, command.name()).length);
    const results = await operation({ config, toolchain, logger, masker, only, concurrency, env: io.env, ...(io.stop ? { signal: io.stop } : {}), ...(progress ? { onResult: (r: StackResult) => progress.finished(r) } : {}) });
    const document = renderResultsAs(format, results, command.name());
    if (!output.out) io.stdout.write(document);
    else {
      if (format !== "text") io.stdout.write(renderResults(results));
      writeResultsFile(output.out, document, command.name());
    }
    setExitCode(exitCodeFor(results));
  };
  const formatOption = () => new Option("--format <format>", "text (a table), json, junit (JUnit XML for CI test reports) or markdown (a job summary)").choices(RESULTS_FORMATS);
  const outOption = () => new Option("--out <file>", "write the --format document to this file (atomically); stdout still gets the table");

  program
    .command("check")
    .description("check stacks once for drift (the world changed) and pending changes (Git is ahead)")
    .argument("[stacks...]", "stack names (default: all)")
    .option("--json", "print one JSON document instead of a table (--format json)")
    .addOption(formatOption())
    .addOption(outOption())
    .option("--concurrency <n>", "stacks checked at once", positiveInt, availableParallelism())
    .action((stacks: string[], opts: ResultsOutputOptions & { concurrency: number }, command: Command) =>
      runStacks(check, command, stacks, opts.concurrency, opts),
    );

  program
    .command("converge")
    .description(
      "apply Git's desired state to a stack, say what was applied, then check it again (pulumi: up --refresh; terraform: " +
        "plan -out and apply of that saved plan; cloudformation: a drift-aware change set, else a plain update; " +
        "kubernetes: server-side apply of each planned object at the resourceVersion planned, prunes last)",
    )
    .argument("<stack>", "stack name")
    .option("--json", "print one JSON document instead of a table (--format json)")
    .addOption(formatOption())
    .addOption(outOption())
    .action((stack: string, opts: ResultsOutputOptions, command: Command) => runStacks(converge, command, [stack], 1, opts));

  program
    .command("approve")
    .description("apply a remediation plan that waits for approval (only if a fresh plan is still the same)")
    .argument("<approval>", "the approval id (from the alert, `driftwatch approvals` or the audit log)")
    .option("--as <name>", "who approves, for the audit log", io.env.USER ?? "cli")
    .option("--json", "print one JSON document instead of a table")
    .action(async (id: string, opts: { as: string; json?: boolean }, command: Command) => {
      const { config, logger, masker } = context(command);
      const runner = await createRunner({ config, toolchain: await engines(io, config), logger, masker, env: io.env });
      try {
        const result = await runner.approve(id, opts.as, { trigger: "approve", ...(io.stop ? { signal: io.stop } : {}) });
        io.stdout.write(opts.json ? `${JSON.stringify({ results: [result] }, null, 2)}\n` : renderResults([result]));
        setExitCode(result.remediation?.decision === "applied" ? exitCodeFor([result]) : 1);
      } finally {
        await runner.close();
      }
    });

  program
    .command("serve")
    .description("run the service: scheduled checks, Git-change triggers, HTTP API, metrics and dashboard")
    .option("--host <address>", "listen address (default: DRIFTWATCH_HTTP_HOST, else service.http.host)")
    .option("--port <n>", "port (default: DRIFTWATCH_HTTP_PORT, else service.http.port; 0 for any free one)", (text: string) => {
      const n = portNumber(text);
      if (n === undefined) throw new InvalidArgumentError("expected a port number 0-65535");
      return n;
    })
    .action(async (opts: { host?: string; port?: number }, command: Command) => {
      const loaded = context(command);
      const { config, logger, masker } = loaded;
      sayWhatIsSkipped(loaded);
      const http = { ...config.service.http, ...listenAddress(config, opts, io.env) };
      const { startService } = await import("../service/serve.ts");
      const service = await startService({ config: { ...config, service: { ...config.service, http } }, toolchain: await engines(io, config), logger, masker, env: io.env });
      io.stdout.write(`driftwatch is watching ${config.stacks.length} stacks; dashboard: ${service.url}\n`);
      await aborted(io.stop);
      const summary = await service.stop();
      setExitCode(summary.cancelled > 0 ? 1 : 0);
    });

  program
    .command("doctor")
    .description("the engines Driftwatch runs and where each came from, and what this machine lets it enforce: the OS sandbox's kernel support, and which stacks can run here (exit 1 when some cannot)")
    .option("--json", "print one JSON document instead of text")
    .action(async (opts: { json?: boolean }, command: Command) => {
      const { config } = context(command);
      const tools = await engines(io, config);
      const [{ Sandboxes }, { baseEngineEnv }, { reportProblems, sandboxReport }, { doctorDocument, renderDoctor }] = await Promise.all([
        import("../sandbox/sandboxes.ts"),
        import("../run/engine-env.ts"),
        import("../sandbox/report.ts"),
        import("./doctor.ts"),
      ]);
      const sandboxes = new Sandboxes({ toolchain: tools, engineEnv: baseEngineEnv(tools, io.env), serviceEnv: io.env, dataDir: config.dataDir, protectedFiles: [] });
      const report = await sandboxReport(sandboxes, config.stacks);
      const document = doctorDocument(config, tools, report);
      io.stdout.write(opts.json ? `${JSON.stringify(document, null, 2)}\n` : renderDoctor(document, reportProblems(report)));
      setExitCode(report.refused.length > 0 ? 1 : 0);
    });

  /** A read-only listing from the store: `{ <key>: [...] }` as JSON, or a table. */
  const listing = <T>(name: string, description: string, key: string, defaultLimit: number, list: (store: Store, options: { stack?: string; limit: number }) => Promise<T[]>, render: (items: T[]) => string) =>
    program
      .command(name)
      .description(description)
      .argument("[stack]", "only this stack")
      .option("--json", "print one JSON document instead of a table")
      .option("--limit <n>", "how many", positiveInt, defaultLimit)
      .action(async (stack: string | undefined, opts: { json?: boolean; limit: number }, command: Command) => {
        const { config } = context(command);
        if (stack) requireKnownStacks(config, [stack], name, true);
        const store = await openStore(config.database);
        try {
          const items = await list(store, { ...(stack ? { stack } : {}), limit: opts.limit });
          io.stdout.write(opts.json ? `${JSON.stringify({ [key]: items }, null, 2)}\n` : render(items));
        } finally {
          await store.close();
        }
        setExitCode(0);
      });

  listing("history", "list past runs, newest first", "runs", 20, (store, options) => store.listRuns(options), renderHistory);
  listing("approvals", "remediation approvals, newest first: pending, applied, refused, rejected, failed, void, expired", "approvals", 20, (store, options) => store.listApprovals(options), renderApprovals);
  listing(
    "audit",
    "remediation decisions (and actions taken from Slack), newest first: trigger, commit, plan fingerprint, every guard, outcome",
    "entries",
    50,
    (store, options) => store.listAudit(options),
    renderAudit,
  );

  program
    .command("report")
    .description("the fleet's drift posture over a period: episodes, time in drift and to detect, checks, errors, what drifts, remediation")
    .argument("[stacks...]", "stack names or globs such as 'prod-*' (default: all)")
    .option("--since <period>", `the period up to now: ${SINCE_HINT}`)
    .option("--from <time>", "the period's start (ISO 8601), instead of --since")
    .option("--to <time>", "the period's end (ISO 8601; default now)")
    .addOption(new Option("--format <format>", "text, markdown (job summaries, wikis), html (one self-contained file) or json").choices(REPORT_FORMATS).default("text"))
    .option("--out <file>", "write the report to this file (atomically) instead of stdout")
    .action(async (patterns: string[], opts: { since?: string; from?: string; to?: string; format: ReportFormat; out?: string }, command: Command) => {
      const { config, masker } = context(command);
      const { from, to } = reportPeriod(opts);
      if (opts.out) checkOutFile(opts.out, "report");
      const names = patterns.filter((p) => !isGlob(p));
      if (names.length) requireKnownStacks(config, names, "report", true);
      for (const glob of patterns.filter(isGlob)) {
        if (stacksMatching(config.stacks, [glob]).length === 0) throw new UsageError(`report: no configured stack matches '${glob}'`);
      }
      const store = await openStore(config.database);
      let text: string;
      try {
        // Masked as data, before rendering: a secret inside a name is masked, and the markup around it stays whole.
        const report = masker.document(await computeReport({ store, stacks: config.stacks, from, to, selection: patterns }));
        text = renderReport(report, opts.format, config.alerts.dashboardUrl ? { baseUrl: config.alerts.dashboardUrl } : {});
      } finally {
        await store.close();
      }
      if (opts.out) writeResultsFile(opts.out, text, "report");
      else io.stdout.write(text);
      setExitCode(0);
    });

  const db = program.command("db").description("the database runs, episodes, approvals and the audit log are kept in");
  db.command("migrate")
    .description("bring the configured database to this Driftwatch's schema (for deploy pipelines; serve also migrates at start)")
    .action(async (_opts: unknown, command: Command) => {
      const { config } = context(command);
      const { location, from, to } = await migrateDatabase(config.database);
      io.stdout.write(from === to ? `${location}: schema version ${to}, up to date\n` : `${location}: schema version ${from} → ${to}\n`);
      setExitCode(0);
    });
  db.command("copy")
    .description("copy a SQLite database (history, episodes, approvals, audit log) into an empty PostgreSQL database, in one transaction")
    .option("--from <file>", "the SQLite file (default: <dataDir>/driftwatch.db)")
    .option("--to <url>", "the PostgreSQL URL (default: the configured database.url); DATABASE_URL-style, masked in all output")
    .action(async (opts: { from?: string; to?: string }, command: Command) => {
      const { config, masker } = context(command);
      const from = opts.from === undefined ? join(config.dataDir, "driftwatch.db") : resolve(opts.from);
      const to = opts.to ?? (config.database.kind === "postgres" ? config.database.url : undefined);
      if (to === undefined) throw new UsageError("db copy: give --to postgres://… (or set database.url in the configuration)");
      if (!isPostgresUrl(to)) throw new UsageError("db copy: --to must be a PostgreSQL URL: postgres://user:password@host:5432/database");
      const { copySqliteToPostgres } = await import("../store/copy.ts");
      const copied = await copySqliteToPostgres(from, to);
      const total = copied.reduce((n, t) => n + t.rows, 0);
      const lines = copied.map((t) => `  ${t.table.padEnd(20)} ${t.rows}`);
      io.stdout.write(masker.text(`copied ${total} rows from ${from} to ${redactDatabaseUrl(to)}\n${lines.join("\n")}\n`));
      setExitCode(0);
    });

  program
    .command("health")
    .description("exit 0 when this configuration's serve answers on /healthz, at the address serve takes (a container's HEALTHCHECK)")
    .action(async (_opts: unknown, command: Command) => {
      const { config } = context(command);
      const { host, port } = listenAddress(config, {}, io.env);
      const target = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
      const url = `http://${target.includes(":") ? `[${target}]` : target}:${port}/healthz`;
      const answer = await fetch(url, { signal: AbortSignal.timeout(5_000) }).catch((error: unknown) => error as Error);
      if (answer instanceof Error) throw new StartupError(`health: ${url} did not answer (${answer.cause instanceof Error ? answer.cause.message : answer.message})`);
      if (!answer.ok) throw new StartupError(`health: ${url} answered ${answer.status}`);
      io.stdout.write(`ok: ${url}\n`);
      setExitCode(0);
    });

  program
    .command("provision")
    .description(
      "find or build every engine (pulumi, tofu, terraform when installed, kustomize) and the provider mirror into the tool cache, and print the toolchain.json recording them: " +
        "for an image or a machine that must not build at run time (set DRIFTWATCH_TOOLCHAIN to that file)",
    )
    .action(async () => {
      const { provision } = await import("../toolchain/provision.ts");
      await provision({ versions: loadPinnedVersions(), progress: streamProgress(io.stderr), withTestTools: false, env: io.env });
      io.stdout.write(`${manifestPath(toolsDir(io.env))}\n`);
      setExitCode(0);
    });

  program
    .command("init")
    .description("write a commented starter configuration (and driftwatch.schema.json for editors) next to --config")
    .argument("[engines...]", `the engines to start with: ${["pulumi", "terraform", "cloudformation", "kubernetes"].join(", ")} (default: all)`)
    .action(async (engines: string[], _opts: unknown, command: Command) => {
      const [{ isStarterEngine, starterConfig }, { jsonSchemaText }] = await Promise.all([import("../config/starter.ts"), import("../config/write-json-schema.ts")]);
      const unknown = engines.filter((e) => !isStarterEngine(e));
      if (unknown.length) throw new UsageError(`init: unknown engine ${unknown.map((e) => `'${e}'`).join(", ")} (expected pulumi, terraform, cloudformation or kubernetes)`);
      const file = resolve(command.optsWithGlobals<{ config: string }>().config);
      const schema = join(dirname(file), "driftwatch.schema.json");
      for (const path of [file, schema]) if (existsSync(path)) throw new UsageError(`init: ${path} already exists; nothing was written (move it away, or give another path with --config)`);
      const write = (path: string, text: string) => {
        try {
          writeFileSync(path, text, { flag: "wx" });
        } catch (error) {
          throw new StartupError(`init: cannot write ${path}: ${fileSystemProblem(error)} (or give --config a file in a writable folder)`);
        }
      };
      write(file, starterConfig(engines as StarterEngine[]));
      try {
        write(schema, jsonSchemaText());
      } catch (error) {
        rmSync(file, { force: true }); // nothing half-written
        throw error;
      }
      io.stdout.write(`wrote ${file} and ${schema}\nnext: edit the stacks, then run driftwatch --config ${file} check\n`);
      setExitCode(0);
    });

  return program;
}

/** Runs the CLI and returns its exit code. The one error boundary: every failure is a message and exit 1. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 1;
    if (
      error instanceof ConfigError ||
      error instanceof UsageError ||
      error instanceof ToolchainNotProvisionedError ||
      error instanceof ProvisionError ||
      error instanceof StoreError ||
      error instanceof ApprovalError ||
      error instanceof StartupError
    ) {
      io.stderr.write(`driftwatch: ${error.message}\n`);
      return 1;
    }
    io.stderr.write(`driftwatch: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

/** The driftwatch command of this process: its arguments, streams, environment and signals. */
export async function main(): Promise<void> {
  process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, stop: stopOnSignal() });
}

if (import.meta.main) await main();
