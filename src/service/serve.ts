// `driftwatch serve`: the always-on service. One runner (store, Git source, engines, alerts) for the process's
// life, the scheduler deciding when each stack is checked, the Git watcher noticing new commits, the HTTP server,
// and a graceful stop: no new runs, in-flight runs get the grace period, then they are cancelled and recorded as
// interrupted. Runs a process that is gone left "running" (a crash) are marked interrupted at start (not those of
// a live one, such as a `check` running next to the service), and so are the
// remediation applies it left unfinished (automatic remediation of those stacks then waits for a person).
// On PostgreSQL the service is one replica of a fleet: checks go through the shared queue (scheduler/fleet.ts),
// and the replica holding the lead (scheduler/leader.ts) polls Git and exports the fleet gauges of /metrics;
// webhooks, the API and /metrics work on every replica.
import { availableParallelism } from "node:os";
import type { Logger } from "pino";
import type { DriftwatchConfig } from "../config/types.ts";
import { StartupError } from "../core/errors.ts";
import { processId, processIsGone } from "../core/liveness.ts";
import type { SecretMasker } from "../core/redact.ts";
import { secretMaskerFor } from "../config/secrets.ts";
import { ScheduledReports } from "../reports/scheduled.ts";
import { computeFleetSummaryOffThread } from "../reports/off-thread.ts";
import { createRunner, type Runner } from "../run/runner.ts";
import type { StackResult } from "../core/types.ts";
import type { SlackActions } from "./slack-actions.ts";
import { GitWatch } from "../scheduler/git-watch.ts";
import { type CheckScheduler, Scheduler, type StopSummary, type TriggerReason } from "../scheduler/scheduler.ts";
import { buildServer } from "../server/app.ts";
import { reportProblems, sandboxReport } from "../sandbox/report.ts";
import { createMetrics } from "../server/metrics.ts";
import type { EngineToolchain } from "../toolchain/manifest.ts";
import type { Clock } from "../scheduler/clock.ts";

export interface ServeOptions {
  config: DriftwatchConfig;
  toolchain: EngineToolchain;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  /** Masks what runs record and report; default: every secret of `config` and `env`. */
  masker?: SecretMasker;
  /** The clock of the checks' schedules and of scheduled reports (tests: ticks without waiting for them); default the system's. */
  clock?: Clock;
}

export interface Service {
  /** Where the HTTP server listens, e.g. http://127.0.0.1:8080/. */
  readonly url: string;
  readonly scheduler: CheckScheduler;
  readonly runner: Runner;
  readonly gitWatch: GitWatch;
  readonly reports: ScheduledReports;
  /** The graceful stop; calling it again returns the same promise. */
  stop(): Promise<StopSummary>;
}

/** A finished fetch is reused this long, so stacks of one repository triggered together share it. */
const FETCH_REUSE_MS = 5_000;

/** Why the HTTP server could not listen, in one line naming the setting to change; other errors as they are. */
function listenFailure(error: unknown, config: DriftwatchConfig): unknown {
  const { host, port } = config.service.http;
  const where = `${host}:${port}`;
  const settings = `service.http.host/port in ${config.file}, DRIFTWATCH_HTTP_HOST/PORT, or --host/--port`;
  switch ((error as NodeJS.ErrnoException).code) {
    case "EADDRINUSE":
      return new StartupError(`cannot listen on ${where}: another process is using that port; stop it, or choose another port (${settings}; --port 0 takes any free one)`);
    case "EACCES":
      return new StartupError(`cannot listen on ${where}: permission denied (ports below 1024 need privileges); choose another port (${settings})`);
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
      return new StartupError(`cannot listen on ${where}: this machine has no such address; choose another host (${settings})`);
    default:
      return error;
  }
}

export async function startService(options: ServeOptions): Promise<Service> {
  const { config, logger } = options;
  const runner = await createRunner({ ...options, fetchMaxAgeMs: FETCH_REUSE_MS });
  for (const run of await runner.store.interruptRunningRuns("Driftwatch stopped before the run finished", processIsGone)) {
    logger.warn({ stack: run.stack, runId: run.runId }, "a run left unfinished by an earlier process is marked interrupted");
  }
  await runner.settleInterruptedApplies();
  // Fail closed, loudly: stacks whose sandbox level this kernel cannot enforce do not run, and say so at each run.
  const sandbox = () => sandboxReport(runner.sandboxes, config.stacks);
  const sandboxAtStart = await sandbox();
  for (const problem of reportProblems(sandboxAtStart)) logger.error({ component: "sandbox" }, `sandbox: ${problem}`);
  if (sandboxAtStart.unconfined.length > 0) {
    logger.warn({ component: "sandbox", stacks: sandboxAtStart.unconfined }, "sandbox: off for these stacks: their repository code runs unconfined, as the service's user");
  }
  const database = config.database;
  // The queue and the PostgreSQL client are loaded for a fleet only: a SQLite service does not carry them (~26 MB).
  const fleet = database.kind === "postgres" ? { FleetScheduler: (await import("../scheduler/fleet.ts")).FleetScheduler, Leadership: (await import("../scheduler/leader.ts")).Leadership } : undefined;
  // On PostgreSQL one replica at a time (the leader) polls Git and exports the fleet gauges.
  const leadership =
    database.kind === "postgres" && fleet
      ? new fleet.Leadership({ databaseUrl: database.url, intervalMs: Math.max(1000, Math.min(config.service.gitPollMs || 10_000, 10_000)), logger })
      : undefined;
  const metrics = createMetrics({
    stacks: config.stacks,
    store: runner.store,
    logger: logger.child({ component: "metrics" }),
    // The replica's name on its own series is the one the runs it records carry (`process`, host:pid).
    ...(leadership ? { replica: processId(), leading: () => leadership.leading } : {}),
  });
  const concurrency = config.service.concurrency ?? availableParallelism();
  const run = async (stack: Parameters<Runner["run"]>[0], reason: TriggerReason, signal: AbortSignal, fetchedAfter?: number) => {
    const result = await runner.run(stack, "detect", { signal, trigger: reason, ...(fetchedAfter ? { fetchedAfter } : {}) });
    metrics.observe(result);
  };
  // On PostgreSQL every replica shares the work through a queue of checks.
  const scheduler: CheckScheduler =
    database.kind === "postgres" && fleet
      ? new fleet.FleetScheduler({
          stacks: config.stacks,
          concurrency,
          jitterMs: config.service.jitterMs,
          databaseUrl: database.url,
          poolSize: Math.max(2, Math.min(database.poolSize, concurrency + 2)),
          heartbeatSeconds: database.heartbeatSeconds,
          logger: logger.child({ component: "queue" }),
          ...(options.clock ? { clock: options.clock } : {}),
          run,
          onRetry: async (stack) => {
            for (const left of await runner.store.interruptRunningRuns("the replica running the check stopped before it finished", () => true, { stack: stack.name })) {
              logger.warn({ stack: left.stack, runId: left.runId }, "a run a stopped replica left unfinished is marked interrupted");
            }
          },
        })
      : new Scheduler({ stacks: config.stacks, concurrency, jitterMs: config.service.jitterMs, logger, onSkip: () => metrics.skipped(), run, ...(options.clock ? { clock: options.clock } : {}) });
  const gitWatch = new GitWatch({
    stacks: config.stacks,
    source: runner.source,
    intervalMs: config.service.gitPollMs,
    trigger: (stack, reason, commit) => void Promise.resolve(scheduler.trigger(stack, reason, { commit })).catch(() => undefined),
    ...(leadership ? { polls: () => leadership.leading } : {}),
    logger: logger.child({ component: "git-watch" }),
  });
  const approve = (id: string, approver: string, trigger: string) => runner.approve(id, approver, { trigger });
  const slackActions = await slackActionsFor(config, runner, scheduler, approve, logger);
  const app = buildServer({ config, store: runner.store, metrics, scheduler, onPush: (payload) => gitWatch.onPush(payload),
    computeFleetSummary: (period) => computeFleetSummaryOffThread({ database: config.database, stacks: config.stacks, ...period }),
    approve,
    sandbox,
    ...(slackActions ? { slackActions } : {}),
    logger,
  });

  let address: string;
  try {
    address = await app.listen({ host: config.service.http.host, port: config.service.http.port });
  } catch (error) {
    await runner.close();
    throw listenFailure(error, config);
  }
  try {
    await scheduler.start(config.service.runOnStart);
    await leadership?.start();
  } catch (error) {
    // The queue or the leader's connection could not start (the database went away meanwhile): nothing half-running.
    await scheduler.stop(0).catch(() => undefined);
    await leadership?.stop();
    await app.close();
    await runner.close();
    throw error;
  }
  const reports = new ScheduledReports({
    config,
    store: runner.store,
    database: config.database,
    alerting: runner.alerting,
    masker: options.masker ?? secretMaskerFor(config, options.env ?? process.env),
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  await reports.start();
  void gitWatch.start().catch((error: unknown) => logger.error({ err: String(error) }, "git watch failed to start"));
  const url = `${address.replace("0.0.0.0", "127.0.0.1")}/`;
  logger.info({ url, stacks: config.stacks.length }, "driftwatch serving");

  let stopping: Promise<StopSummary> | undefined;
  return {
    url,
    scheduler,
    runner,
    gitWatch,
    reports,
    stop() {
      stopping ??= (async () => {
        logger.info({ graceSeconds: config.service.stopGraceMs / 1000 }, "stopping: no new runs; waiting for the runs in flight");
        gitWatch.stop();
        await leadership?.stop();
        await reports.stop();
        const summary = await scheduler.stop(config.service.stopGraceMs);
        await app.close();
        // A press taken before the server closed finishes (an approval being applied among them).
        await slackActions?.idle();
        await runner.close();
        logger.info(summary, "stopped");
        return summary;
      })();
      return stopping;
    },
  };
}

/**
 * What carries out presses of Slack buttons, when the Slack app's signing secret is configured (otherwise messages
 * have no buttons and the endpoint is off). The Slack client is loaded only then.
 */
async function slackActionsFor(
  config: DriftwatchConfig,
  runner: Runner,
  scheduler: CheckScheduler,
  approve: (id: string, approver: string, trigger: string) => Promise<StackResult>,
  logger: Logger,
): Promise<SlackActions | undefined> {
  const slack = config.alerts.slack;
  if (!slack?.signingSecret) return undefined;
  const { SlackTransport } = await import("../notifiers/slack/client.ts");
  const { createSlackActions } = await import("./slack-actions.ts");
  return createSlackActions({
    config,
    store: runner.store,
    slack: SlackTransport.fromSettings(slack, logger.child({ component: "slack-actions" })),
    trigger: (stack, reason) => scheduler.trigger(stack, reason),
    approve: (id, approver) => approve(id, approver, "slack"),
    reject: (id, by) => runner.reject(id, by, "slack"),
    notify: (stack, event) => runner.alerting.notify(stack, event),
    logger: logger.child({ component: "slack-actions" }),
  });
}
