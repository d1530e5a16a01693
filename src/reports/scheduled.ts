// Reports `serve` produces on a schedule. At each tick of a report's cron: compute it over the period ending at
// the tick (on a worker thread: off-thread.ts), write its HTML under <dataDir>/reports, record it and enqueue its digest in one transaction (so a
// tick is produced once, and its digest is delivered once, through the outbox, whatever Slack does), then forget
// the oldest beyond `keep`. A tick missed while the service was down is produced once at start: only the latest
// one, and only if it came after the schedule was first armed (a report added to the configuration today does not
// produce last week's tick).
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import type { DatabaseConfig, DriftwatchConfig, ReportConfig } from "../config/types.ts";
import { errorMessage } from "../core/errors.ts";
import { writeOutputFile } from "../core/output-file.ts";
import { preparePrivateDir } from "../core/private-dir.ts";
import type { SecretMasker } from "../core/redact.ts";
import type { ReportDigestEvent } from "../core/alerts.ts";
import type { Alerting } from "../run/alerting.ts";
import { type Clock, type CronTask, systemClock } from "../scheduler/clock.ts";
import type { ReportRecord, Store } from "../store/api.ts";
import { digestOf } from "./digest.ts";
import { computeReportOffThread } from "./off-thread.ts";
import { renderReportHtml } from "./render-html.ts";
import { latestTick } from "./schedule.ts";

export interface ScheduledReportsOptions {
  config: DriftwatchConfig;
  store: Store;
  /** The store's database, which the worker thread reads. */
  database: DatabaseConfig;
  alerting: Pick<Alerting, "notifiers" | "redact" | "kick">;
  masker: SecretMasker;
  logger: Logger;
  /** The clock of the ticks and of the reports' times (tests); default the system's. */
  clock?: Clock;
}

/** Where a report's HTML lives. */
export function reportsDir(dataDir: string): string {
  return join(dataDir, "reports");
}

/** `weekly-20261130T0900Z`: the name and the tick, safe in a file name and a URL. */
export function reportId(name: string, tick: Date): string {
  return `${name}-${tick.toISOString().replace(/[-:]/g, "").replace(/\d\d\.\d{3}Z$/, "Z")}`;
}

export class ScheduledReports {
  readonly #options: ScheduledReportsOptions;
  readonly #clock: Clock;
  readonly #tasks: CronTask[] = [];
  readonly #log: Logger;
  /** Reports being produced, by id: a tick and a catch-up never compute the same one twice at once. */
  readonly #producing = new Map<string, Promise<ReportRecord | undefined>>();
  #stopped = false;

  constructor(options: ScheduledReportsOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger.child({ component: "reports" });
  }

  #now(): Date {
    return this.#clock.now();
  }

  /** Produces what was missed while the service was down (resolves when done), then follows the schedules. */
  async start(): Promise<void> {
    for (const report of this.#options.config.reports) {
      const { expression, timezone } = report.schedule;
      this.#tasks.push(this.#clock.schedule(expression, timezone, `report:${report.name}`, () => void this.#onTick(report)));
    }
    await Promise.all(this.#options.config.reports.map((report) => this.#catchUp(report)));
  }

  /** No more ticks; waits for the reports being produced (so the store they record into is still open). */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const task of this.#tasks.splice(0)) task.stop();
    await Promise.allSettled([...this.#producing.values()]);
  }

  async #onTick(report: ReportConfig): Promise<void> {
    const tick = latestTick(report.schedule.expression, report.schedule.timezone, this.#now());
    if (tick) await this.produce(report, tick);
  }

  async #catchUp(report: ReportConfig): Promise<void> {
    const now = this.#now();
    const armedAt = Date.parse(await this.#options.store.armReportSchedule(report.name, now.toISOString()));
    const due = latestTick(report.schedule.expression, report.schedule.timezone, now);
    if (!due || due.getTime() <= armedAt) return;
    const [last] = await this.#options.store.listReports({ name: report.name, limit: 1 });
    if (last && Date.parse(last.tickAt) >= due.getTime()) return;
    this.#log.info({ report: report.name, tick: due.toISOString() }, "producing a report whose tick was missed while the service was down");
    await this.produce(report, due);
  }

  /**
   * Produces the report of one tick: undefined when it exists already or could not be produced (logged; the
   * service goes on, and the next tick tries again).
   */
  produce(report: ReportConfig, tick: Date): Promise<ReportRecord | undefined> {
    const id = reportId(report.name, tick);
    const running = this.#producing.get(id);
    if (running) return running;
    const producing = this.#produce(report, tick, id).finally(() => this.#producing.delete(id));
    this.#producing.set(id, producing);
    return producing;
  }

  async #produce(report: ReportConfig, tick: Date, id: string): Promise<ReportRecord | undefined> {
    const { config, store, alerting, masker } = this.#options;
    const log = this.#log.child({ report: report.name, reportId: id });
    try {
      if (this.#stopped || (await store.getReport(id))) return undefined;
      const from = new Date(tick.getTime() - report.sinceMs);
      const selection = report.stacks.includes("*") ? [] : report.stacks;
      const started = Date.now();
      // Masked as data, before rendering and digesting (see `driftwatch report`).
      const fleet = masker.document(await computeReportOffThread({
        database: this.#options.database,
        stacks: config.stacks,
        from,
        to: tick,
        selection,
        name: report.name,
        generatedAt: this.#now(),
      }));
      const baseUrl = config.alerts.dashboardUrl?.replace(/\/+$/, "");
      const dir = reportsDir(config.dataDir);
      preparePrivateDir(dir);
      // The file first: a record always has its file. A file without a record (a crash in between) is rewritten
      // by the next attempt at the same tick.
      writeOutputFile(join(dir, `${id}.html`), renderReportHtml(fleet, baseUrl ? { baseUrl } : {}), `reports[${report.name}]`, 0o600);
      const record: ReportRecord = {
        id,
        name: report.name,
        tickAt: tick.toISOString(),
        periodFrom: fleet.period.from,
        periodTo: fleet.period.to,
        createdAt: this.#now().toISOString(),
        digest: digestOf(fleet),
      };
      const notifiers = alerting.notifiers.filter((n) => n !== "slack" || report.slack);
      const event: ReportDigestEvent = {
        type: "report-digest",
        report: {
          id,
          name: report.name,
          ...(baseUrl ? { url: `${baseUrl}/reports/${encodeURIComponent(id)}` } : {}),
          ...(report.slack?.channel ? { channel: report.slack.channel } : {}),
        },
        digest: record.digest,
      };
      const recorded = await store.recordReport(record, notifiers.length > 0 ? { event: alerting.redact(event), notifiers } : undefined);
      if (!recorded) return undefined;
      for (const old of await store.pruneReports(report.name, report.keep)) rmSync(join(dir, `${old}.html`), { force: true });
      log.info({ stacks: fleet.posture.stacks, ms: Date.now() - started }, "report produced");
      alerting.kick();
      return record;
    } catch (error) {
      log.error({ err: errorMessage(error) }, "could not produce the report");
      return undefined;
    }
  }
}
