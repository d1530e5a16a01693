// The service's HTTP side (fastify, one port): liveness and readiness, Prometheus metrics, the JSON API (same
// shapes as `check --json` and `history --json`), triggering checks (API token), the Git push webhook (HMAC),
// and the dashboard with the scheduled reports. Read-only routes are public unless `service.http.publicRead` is false.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { DriftwatchConfig, StackConfig } from "../config/types.ts";
import { ApprovalError, errorMessage } from "../core/errors.ts";
import type { StackResult } from "../core/types.ts";
import { computeReport } from "../reports/compute.ts";
import { fleetSummaryOf, type FleetSummary } from "../reports/summary.ts";
import { reportsDir } from "../reports/scheduled.ts";
import type { ApprovalState, OpenEpisodeSummary, RunSummary, Store } from "../store/api.ts";
import type { TriggerOutcome, TriggerReason } from "../scheduler/scheduler.ts";
import { bearerMatches, SLACK_SIGNATURE_MAX_AGE_MS, slackSignatureProblem, webhookAuthentication } from "./auth.ts";
import { readInteraction, type SlackAction } from "../notifiers/slack/interaction.ts";
import { badRequestPage, notFoundPage, runPage, stackPage, type StackRow } from "./dashboard.ts";
import { FleetReportCache } from "./fleet-report-cache.ts";
import { readStackStates } from "./stack-states.ts";
import { snoozedAt } from "../run/alert-plan.ts";
import { approvalsPage, auditPage, awaiting, parseStackFilter } from "./remediation-pages.ts";
import { REPORT_ID, reportsPage } from "./reports-page.ts";
import { parseStackQuery } from "./stack-query.ts";
import { stacksPage } from "./stacks-page.ts";
import { allowedHostNames, hostAllowed } from "./host-check.ts";
import type { ServiceMetrics } from "./metrics.ts";
import { reportProblems, runsRepositoryCode, type SandboxReport } from "../sandbox/report.ts";
import { deliveryKeys, WebhookDeliveries } from "./webhook-deliveries.ts";

export interface ServerDependencies {
  config: DriftwatchConfig;
  store: Store;
  metrics: ServiceMetrics;
  scheduler: {
    readonly running: boolean;
    phases(): Record<string, string>;
    trigger(stack: string, reason: TriggerReason): TriggerOutcome | Promise<TriggerOutcome>;
  };
  /** A push webhook's payload: returns the stacks of the repositories it named. */
  onPush(payload: unknown): Promise<string[]>;
  /**
   * The summary of the fleet report of every stack over a period (the home page's); default: computed on this
   * thread. The service computes it on a worker thread, so the page never holds the event loop.
   */
  computeFleetSummary?: (input: FleetReportRequest) => Promise<FleetSummary>;
  /** Applies a waiting remediation approval; throws ApprovalError when it cannot be used. */
  /** Applies a waiting approval; `trigger` is where it was given (api, slack), for history and the audit log. */
  approve(approvalId: string, approver: string, trigger: string): Promise<StackResult>;
  /** What the OS sandbox can enforce here, for /readyz and the dashboard; absent: not shown. */
  sandbox?: () => Promise<SandboxReport>;
  /** Carries out a press of a Slack button (never throws); absent when Slack interactivity is off. */
  slackActions?: { handle(action: SlackAction): Promise<void> };
  logger: Logger;
}

/** The period of a fleet report the dashboard asks for. */
export interface FleetReportRequest {
  from: Date;
  to: Date;
  generatedAt: Date;
}

const MAX_RUNS = 500;
/** The period of the home page's fleet summary. */
const SUMMARY_PERIOD_MS = 7 * 86_400_000;
/** What the audit log, approvals and reports pages list at most. */
const AUDIT_PAGE_LIMIT = 200;
const APPROVALS_PAGE_LIMIT = 200;
const REPORTS_PAGE_LIMIT = 100;
/** A stored report: self-contained (inline styles, SVG, no script), so it may load nothing at all. */
const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/** What the dashboard and the API show of an open episode: its age, who is on it, and a snooze while it holds. */
function openEpisodeOf(episode: OpenEpisodeSummary): NonNullable<StackRow["openEpisode"]> {
  const snoozed = snoozedAt(episode, new Date().toISOString());
  return {
    openedAt: episode.openedAt,
    seenCount: episode.seenCount,
    ...(episode.flapping ? { flapping: episode.flapping } : {}),
    ...(episode.acknowledged ? { acknowledged: episode.acknowledged } : {}),
    ...(snoozed ? { snooze: episode.snooze } : {}),
  };
}

export function buildServer(deps: ServerDependencies): FastifyInstance {
  const { config, store } = deps;
  const http = config.service.http;
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.logger.child({ component: "http" }) as FastifyBaseLogger,
    // Requests are not logged one by one; errors still are.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
  });
  const stacks = new Map(config.stacks.map((s) => [s.name, s]));

  // Every route, health and webhook included: a Host naming something else is a DNS rebinding attempt or a
  // misconfiguration, and either way this server does not answer for that name (see host-check.ts).
  const hostNames = allowedHostNames(http, config.alerts);
  app.addHook("onRequest", async (request, reply) => {
    if (hostAllowed(request.headers.host, hostNames)) return;
    request.log.warn({ host: request.headers.host?.slice(0, 200) }, "refused a request for a host name this server does not answer to (add it to service.http.allowedHosts if it is yours)");
    return reply.code(421).send({ error: "this server does not answer to the host name in the request; its operator can add it to service.http.allowedHosts" });
  });

  // Every query parameter the API reads is one value: a repeated one (`?stack=a&stack=b`) is refused, naming it,
  // rather than reaching a route as a list it does not take. (The pages answer their own filters: stack-query.ts.)
  app.addHook("preValidation", async (request, reply) => {
    if (!request.url.startsWith("/api/")) return;
    const repeated = Object.entries((request.query ?? {}) as Record<string, unknown>).find(([, value]) => Array.isArray(value));
    if (repeated) return reply.code(400).send({ error: `the query parameter '${repeated[0].slice(0, 100)}' may be given once` });
  });

  // The webhook and Slack's interactions need the exact bytes for their signatures.
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "buffer" }, (_req, body, done) => done(null, body));

  const unauthorized = (reply: FastifyReply, why: string) => reply.code(401).header("www-authenticate", "Bearer").send({ error: why });

  /** Read-only routes: public, or the API token when publicRead is off. */
  const readGuard = async (request: FastifyRequest, reply: FastifyReply) => {
    if (http.publicRead) return;
    if (!http.apiToken || !bearerMatches(request.headers.authorization, http.apiToken)) return unauthorized(reply, "an API token is required");
  };

  const rowOf = (stack: StackConfig, phases: Record<string, string>, lastRun: RunSummary | undefined, episode: OpenEpisodeSummary | undefined): StackRow => ({
    name: stack.name,
    engine: stack.engine,
    phase: phases[stack.name] ?? "idle",
    ...(lastRun ? { lastRun } : {}),
    ...(episode ? { openEpisode: openEpisodeOf(episode) } : {}),
  });

  const row = async (stack: StackConfig, phases: Record<string, string>): Promise<StackRow> => {
    const [[lastRun], episode] = await Promise.all([store.listRuns({ stack: stack.name, limit: 1 }), store.openEpisode(stack.name)]);
    return rowOf(stack, phases, lastRun, episode);
  };

  /** Every configured stack's row in two queries, whatever the number of stacks. */
  const allRows = async (phases: Record<string, string>): Promise<StackRow[]> => {
    const { lastRuns, openEpisodes } = await readStackStates(store, config.stacks.map((s) => s.name));
    return config.stacks.map((s) => rowOf(s, phases, lastRuns.get(s.name), openEpisodes.get(s.name)));
  };

  const stackJson = (stack: StackConfig, r: StackRow) => ({
    name: stack.name,
    engine: stack.engine,
    schedule: stack.schedule,
    state: r.phase,
    lastRun: r.lastRun ?? null,
    openEpisode: r.openEpisode ? { ...r.openEpisode, openSeconds: Math.round((Date.now() - Date.parse(r.openEpisode.openedAt)) / 1000) } : null,
  });

  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (request, reply) => {
    const problems: string[] = [];
    try {
      await store.listRuns({ limit: 0 });
    } catch (error) {
      // The details (a file path, an SQLite message) are for the operator's log, not for whoever asks.
      request.log.error({ err: error }, "readiness: the run history store cannot be read");
      problems.push("store: cannot be read");
    }
    if (!deps.scheduler.running) problems.push("scheduler: not running");
    // Stacks whose engines will not run here (the kernel lacks what their sandbox level needs): not ready.
    if (deps.sandbox) problems.push(...reportProblems(await deps.sandbox()).map((problem) => `sandbox: ${problem}`));
    return problems.length ? reply.code(503).send({ status: "not ready", problems }) : { status: "ready" };
  });

  app.get("/metrics", { preHandler: readGuard }, async (_request, reply) => {
    const chunks = await deps.metrics.scrape();
    // A stream taken chunk by chunk as the client reads: the fleet gauges of a large fleet are never whole in memory.
    return reply.header("content-type", deps.metrics.contentType).send(Readable.from(chunks, { objectMode: false }));
  });

  app.get("/api/stacks", { preHandler: readGuard }, async () => {
    const phases = deps.scheduler.phases();
    const rows = await allRows(phases);
    return { stacks: config.stacks.map((s, i) => stackJson(s, rows[i]!)) };
  });

  app.get<{ Params: { name: string } }>("/api/stacks/:name", { preHandler: readGuard }, async (request, reply) => {
    const stack = stacks.get(request.params.name);
    if (!stack) return reply.code(404).send({ error: `no stack named ${request.params.name}` });
    const summary = stackJson(stack, await row(stack, deps.scheduler.phases()));
    const last = summary.lastRun ? await store.getRun(summary.lastRun.runId) : undefined;
    return { ...summary, changes: last?.changes ?? [] };
  });

  app.get<{ Querystring: { stack?: string; limit?: string; before?: string } }>("/api/runs", { preHandler: readGuard }, async (request, reply) => {
    const { stack, before } = request.query;
    const limit = request.query.limit === undefined ? 50 : Number(request.query.limit);
    if (!Number.isInteger(limit) || limit < 0 || limit > MAX_RUNS) return reply.code(400).send({ error: `limit must be a whole number from 0 to ${MAX_RUNS}` });
    if (before !== undefined && Number.isNaN(Date.parse(before))) return reply.code(400).send({ error: "before must be an ISO 8601 time" });
    return { runs: await store.listRuns({ limit, ...(stack ? { stack } : {}), ...(before ? { before: new Date(before).toISOString() } : {}) }) };
  });

  app.get<{ Params: { id: string } }>("/api/runs/:id", { preHandler: readGuard }, async (request, reply) => {
    const run = await store.getRun(request.params.id);
    return run ?? reply.code(404).send({ error: `no run ${request.params.id}` });
  });

  app.get<{ Querystring: { stack?: string; limit?: string } }>("/api/audit", { preHandler: readGuard }, async (request, reply) => {
    const limit = request.query.limit === undefined ? 50 : Number(request.query.limit);
    if (!Number.isInteger(limit) || limit < 0 || limit > MAX_RUNS) return reply.code(400).send({ error: `limit must be a whole number from 0 to ${MAX_RUNS}` });
    return { entries: await store.listAudit({ limit, ...(request.query.stack ? { stack: request.query.stack } : {}) }) };
  });

  app.get<{ Querystring: { stack?: string; state?: string; limit?: string } }>("/api/approvals", { preHandler: readGuard }, async (request, reply) => {
    const limit = request.query.limit === undefined ? 50 : Number(request.query.limit);
    if (!Number.isInteger(limit) || limit < 0 || limit > MAX_RUNS) return reply.code(400).send({ error: `limit must be a whole number from 0 to ${MAX_RUNS}` });
    const state = request.query.state as ApprovalState | undefined;
    return { approvals: await store.listApprovals({ limit, ...(request.query.stack ? { stack: request.query.stack } : {}), ...(state ? { state } : {}) }) };
  });

  // Approving applies infrastructure changes: always the API token, whatever publicRead says.
  app.post<{ Params: { id: string }; Body: unknown }>("/api/approvals/:id", async (request, reply) => {
    if (!http.apiToken) return reply.code(403).send({ error: `approving is off: set ${http.apiTokenEnv} to enable it` });
    if (!bearerMatches(request.headers.authorization, http.apiToken)) return unauthorized(reply, "a valid API token is required");
    let approver = "api";
    if (Buffer.isBuffer(request.body) && request.body.length > 0) {
      try {
        const body = JSON.parse(request.body.toString("utf8")) as { approver?: unknown };
        if (typeof body.approver === "string" && body.approver.trim() !== "") approver = body.approver.trim().slice(0, 100);
      } catch {
        return reply.code(400).send({ error: "the body is not JSON" });
      }
    }
    try {
      const result = await deps.approve(request.params.id, approver, "api");
      return reply.code(result.remediation?.decision === "applied" ? 200 : 409).send(result);
    } catch (error) {
      if (error instanceof ApprovalError) return reply.code((await store.getApproval(request.params.id)) ? 409 : 404).send({ error: error.message });
      throw error;
    }
  });

  app.get<{ Querystring: { name?: string; limit?: string } }>("/api/reports", { preHandler: readGuard }, async (request, reply) => {
    const limit = request.query.limit === undefined ? REPORTS_PAGE_LIMIT : Number(request.query.limit);
    if (!Number.isInteger(limit) || limit < 0 || limit > MAX_RUNS) return reply.code(400).send({ error: `limit must be a whole number from 0 to ${MAX_RUNS}` });
    const { name } = request.query;
    return { reports: await store.listReports({ limit, ...(name ? { name } : {}) }) };
  });

  app.get<{ Params: { id: string } }>("/api/reports/:id", { preHandler: readGuard }, async (request, reply) => {
    const { id } = request.params;
    const record = REPORT_ID.test(id) ? await store.getReport(id) : undefined;
    return record ?? reply.code(404).send({ error: `no report ${id.slice(0, 200)}` });
  });

  app.post<{ Params: { name: string } }>("/api/stacks/:name/check", async (request, reply) => {
    if (!http.apiToken) return reply.code(403).send({ error: `triggering is off: set ${http.apiTokenEnv} to enable it` });
    if (!bearerMatches(request.headers.authorization, http.apiToken)) return unauthorized(reply, "a valid API token is required");
    const outcome = await deps.scheduler.trigger(request.params.name, "api");
    if (outcome === "unknown-stack") return reply.code(404).send({ error: `no stack named ${request.params.name}` });
    if (outcome === "stopping") return reply.code(503).send({ error: "the service is stopping" });
    if (outcome === "unavailable") return reply.code(503).send({ error: "the check could not be queued: the database did not answer (see the service's log)" });
    return reply.code(202).send({ stack: request.params.name, outcome });
  });

  const deliveries = new WebhookDeliveries(store);
  app.post("/api/hooks/git", async (request, reply) => {
    if (!http.webhookSecret) return reply.code(403).send({ error: `the webhook is off: set ${http.webhookSecretEnv} to enable it` });
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.from(typeof request.body === "string" ? request.body : "");
    const authentication = webhookAuthentication(request.headers, body, http.webhookSecret);
    if (!authentication) return unauthorized(reply, "bad or missing webhook signature");
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString("utf8"));
    } catch {
      return reply.code(400).send({ error: "the body is not JSON" });
    }
    // A delivery already taken (a replay, or a redelivery of one that was handled) is answered as delivered, so
    // the sender does not count it as a failure, and starts nothing.
    const keys = deliveryKeys(request.headers, body, authentication === "signature");
    if (!(await deliveries.claim(keys))) return reply.code(200).send({ stacks: [], duplicate: true });
    try {
      return reply.code(202).send({ stacks: await deps.onPush(payload) });
    } catch (error) {
      await deliveries.release(keys).catch((releaseError: unknown) => request.log.warn({ err: errorMessage(releaseError) }, "could not forget a webhook delivery that failed: its sender's retry is taken for a replay"));
      throw error;
    }
  });

  // Slack's interactivity request URL: a press of a button on one of our messages. Signed by Slack with the app's
  // signing secret; answered at once (Slack gives three seconds), the work done after, its result posted to Slack.
  app.post("/api/slack/interactions", async (request, reply) => {
    const slack = config.alerts.slack;
    if (!slack?.signingSecret || !deps.slackActions) {
      return reply.code(403).send({ error: `Slack interactivity is off: set ${slack?.signingSecretEnv ?? "alerts.slack.signingSecretEnv"} to the Slack app's signing secret to enable it` });
    }
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const problem = slackSignatureProblem(request.headers, body, slack.signingSecret);
    if (problem) {
      request.log.warn({ problem }, "refused a Slack interaction");
      return unauthorized(reply, problem);
    }
    // A signature is valid for five minutes either side of its timestamp; the same bytes again within that time are a
    // replay (to this replica or another), never carried out twice.
    if (!(await store.claimRequest(`slack:${String(request.headers["x-slack-signature"])}`, 2 * SLACK_SIGNATURE_MAX_AGE_MS))) {
      request.log.warn("refused a Slack interaction: the same signed request was taken already (a replay)");
      return unauthorized(reply, "this request was taken already (a replay)");
    }
    const read = readInteraction(body.toString("utf8"));
    if (!read.ok) return reply.code(400).send({ error: read.reason });
    for (const action of read.actions) void deps.slackActions.handle(action);
    return reply.code(200).send();
  });

  // --- dashboard ---
  const html = (reply: FastifyReply, body: string, code = 200) => reply.code(code).header("content-type", "text/html; charset=utf-8").send(body);

  const stackNames = config.stacks.map((s) => s.name);
  const computeFleet =
    deps.computeFleetSummary ?? (async (input: FleetReportRequest) => fleetSummaryOf(await computeReport({ store, stacks: config.stacks, ...input })));
  const fleetReports = new FleetReportCache((now) => computeFleet({ from: new Date(now.getTime() - SUMMARY_PERIOD_MS), to: now, generatedAt: now }), {
    onError: (error) => deps.logger.error({ err: error }, "the dashboard's fleet summary could not be computed"),
  });
  /** The summary of the fleet's report; a failure to compute it costs the summary, not the page. */
  const fleetReport = async (request: FastifyRequest): Promise<FleetSummary | undefined> => {
    try {
      return await fleetReports.get();
    } catch (error) {
      request.log.error({ err: error }, "the dashboard's fleet summary could not be computed");
      return undefined;
    }
  };

  app.get<{ Querystring: Record<string, unknown> }>("/", { preHandler: readGuard }, async (request, reply) => {
    const parsed = parseStackQuery(request.query);
    if (!parsed.ok) return html(reply, badRequestPage(parsed.error, "/", "stacks"), 400);
    const fleet = await fleetReport(request);
    const stale = new Set(fleet?.posture.stale ?? []);
    const phases = deps.scheduler.phases();
    const rows = (await allRows(phases)).map((r) => ({ ...r, stale: stale.has(r.name) }));
    const sandbox = await deps.sandbox?.();
    return html(reply, stacksPage(rows, { query: parsed.query, ...(fleet ? { fleet } : {}), ...(sandbox ? { sandbox } : {}) }));
  });

  app.get<{ Params: { name: string } }>("/stacks/:name", { preHandler: readGuard }, async (request, reply) => {
    const stack = stacks.get(request.params.name);
    if (!stack) return html(reply, notFoundPage("No such stack.", { within: "stacks" }), 404);
    const r = await row(stack, deps.scheduler.phases());
    const runs = await store.listRuns({ stack: stack.name, limit: 60 });
    const now = Date.now();
    const waiting = (await store.listApprovals({ stack: stack.name, state: "pending", limit: 1 })).find((a) => awaiting(a, now));
    const refused = (await deps.sandbox?.())?.refused.find((problem) => problem.stacks.includes(stack.name))?.reason;
    const sandbox = runsRepositoryCode(stack) ? { level: stack.sandbox.level, ...(refused ? { refused } : {}) } : undefined;
    return html(reply, stackPage(r, runs, r.lastRun ? await store.getRun(r.lastRun.runId) : undefined, { now, ...(waiting ? { awaitingApproval: waiting } : {}), ...(sandbox ? { sandbox } : {}) }));
  });

  app.get<{ Params: { id: string } }>("/runs/:id", { preHandler: readGuard }, async (request, reply) => {
    const run = await store.getRun(request.params.id);
    return run ? html(reply, runPage(run)) : html(reply, notFoundPage("No such run.", { within: "stacks" }), 404);
  });

  app.get<{ Querystring: Record<string, unknown> }>("/audit", { preHandler: readGuard }, async (request, reply) => {
    const filter = parseStackFilter(request.query);
    if (!filter.ok) return html(reply, badRequestPage(filter.error, "/audit", "audit"), 400);
    const entries = await store.listAudit({ limit: AUDIT_PAGE_LIMIT, ...(filter.stack === undefined ? {} : { stack: filter.stack }) });
    return html(reply, auditPage(entries, { stacks: stackNames, limit: AUDIT_PAGE_LIMIT, ...(filter.stack === undefined ? {} : { stack: filter.stack }) }));
  });

  app.get<{ Querystring: Record<string, unknown> }>("/approvals", { preHandler: readGuard }, async (request, reply) => {
    const filter = parseStackFilter(request.query);
    if (!filter.ok) return html(reply, badRequestPage(filter.error, "/approvals", "approvals"), 400);
    const stack = filter.stack === undefined ? {} : { stack: filter.stack };
    // Every plan waiting for a person, however old the others: they are what this page is for.
    const waiting = await store.listApprovals({ ...stack, state: "pending", limit: APPROVALS_PAGE_LIMIT });
    const recent = await store.listApprovals({ ...stack, limit: APPROVALS_PAGE_LIMIT });
    const seen = new Set(waiting.map((a) => a.id));
    const approvals = [...waiting, ...recent.filter((a) => !seen.has(a.id))];
    return html(reply, approvalsPage(approvals, { stacks: stackNames, ...stack }));
  });

  // Browsers ask for it on every page that names none (a stored report): nothing, rather than a 404 in their console.
  app.get("/favicon.ico", async (_request, reply) => reply.code(204).header("cache-control", "max-age=86400").send());

  app.get("/reports", { preHandler: readGuard }, async (_request, reply) => {
    return html(reply, reportsPage(await store.listReports({ limit: REPORTS_PAGE_LIMIT }), config.reports));
  });

  // A stored report's HTML: only an id of the expected shape that the store knows names a file, and the path is
  // made of that id alone.
  app.get<{ Params: { id: string } }>("/reports/:id", { preHandler: readGuard }, async (request, reply) => {
    const { id } = request.params;
    const record = REPORT_ID.test(id) ? await store.getReport(id) : undefined;
    if (!record || record.id !== id) return html(reply, notFoundPage("No such report.", { within: "reports" }), 404);
    let body: Buffer;
    try {
      body = await readFile(join(reportsDir(config.dataDir), `${id}.html`));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      request.log.warn({ report: id }, "a recorded report's file is missing");
      return html(reply, notFoundPage("This report's file is gone (deleted by hand, or pruned).", { within: "reports" }), 404);
    }
    return reply.code(200).header("content-type", "text/html; charset=utf-8").header("content-security-policy", REPORT_CSP).header("x-content-type-options", "nosniff").send(body);
  });

  return app;
}
