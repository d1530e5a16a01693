// Prometheus metrics of the service (prom-client), following its conventions: base units, _total counters,
// one gauge series per stack and status. Two kinds:
//
//   per process   what this process did (its checks by outcome, their durations, skipped ticks) and prom-client's
//                 process/Node.js metrics. In a fleet (PostgreSQL) each series carries `replica` (host:pid, as the
//                 runs it records name it): sum them across replicas. A single process has no such label, as before.
//   fleet gauges  the stacks' state (status, drifted resources, last check, open episode), read from the store at
//                 each scrape in two queries whatever the number of stacks. Only the process that holds the lead
//                 exports them (a single process always does); `driftwatch_leader` says which one does, so a
//                 query over every replica counts each stack once.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Logger } from "pino";
import type { StackConfig } from "../config/types.ts";
import { errorMessage } from "../core/errors.ts";
import type { StackResult, Verdict } from "../core/types.ts";
import type { Store } from "../store/api.ts";
import { readStackStates, type StackStates } from "./stack-states.ts";

const STATUSES: readonly (Verdict | "unknown")[] = ["in-sync", "drifted", "pending", "drifted+pending", "error", "unknown"];

export interface ServiceMetrics {
  readonly registry: Registry;
  /** Records a finished run of this process. */
  observe(result: StackResult): void;
  /** A scheduled tick skipped because the stack was busy. */
  skipped(): void;
}

export interface MetricsOptions {
  stacks: readonly StackConfig[];
  store: Pick<Store, "latestRuns" | "openEpisodeSummaries">;
  logger: Logger;
  /** In a fleet: this replica (host:pid), the `replica` label of every per-process series. Absent: one process, no label. */
  replica?: string;
  /** Whether this process exports the fleet gauges now (it holds the fleet's lead); default: always. */
  leading?: () => boolean;
  /** The clock of episode ages (epoch ms); default Date.now. */
  now?: () => number;
}

/** What one scrape exports of the fleet: nothing unless leading, nothing when the store could not be read. */
interface FleetRead {
  leading: boolean;
  state?: StackStates & { now: number };
}

export function createMetrics(options: MetricsOptions): ServiceMetrics {
  const { stacks, store, logger, replica } = options;
  const leading = options.leading ?? (() => true);
  const now = options.now ?? Date.now;
  const registry = new Registry();

  // Per process: the replica's name on each series in a fleet.
  const own: Record<string, string> = replica === undefined ? {} : { replica };
  const ownLabels: string[] = replica === undefined ? [] : ["replica"];
  collectDefaultMetrics({ register: registry, ...(replica === undefined ? {} : { labels: own }) });
  const duration = new Histogram<string>({
    name: "driftwatch_check_duration_seconds",
    help: "How long a check of one stack took (checks this process ran).",
    labelNames: ownLabels,
    buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800],
    registers: [registry],
  });
  const checks = new Counter<string>({
    name: "driftwatch_checks_total",
    help: "Checks this process ran, by outcome (the run's verdict).",
    labelNames: ["outcome", ...ownLabels],
    registers: [registry],
  });
  const skips = new Counter<string>({
    name: "driftwatch_scheduler_skipped_total",
    help: "Scheduled checks skipped because the stack's previous check had not finished.",
    labelNames: ownLabels,
    registers: [registry],
  });
  if (replica !== undefined) {
    // Labelled series exist once used: start them at zero, as the unlabelled ones of a single process do.
    duration.zero(own);
    skips.inc(own, 0);
  }

  // The fleet gauges of one scrape come from one read of the store, shared by every gauge's collect (prom-client
  // collects them at once) and by scrapes that overlap it.
  const names = stacks.map((s) => s.name);
  let reading: Promise<FleetRead> | undefined;
  const readFleet = async (): Promise<FleetRead> => {
    if (!leading()) return { leading: false };
    try {
      return { leading: true, state: { ...(await readStackStates(store, names)), now: now() } };
    } catch (error) {
      logger.warn({ err: errorMessage(error) }, "cannot read the stacks' state from the store: this scrape has no fleet gauges");
      return { leading: true };
    }
  };
  const fleet = (): Promise<FleetRead> =>
    (reading ??= readFleet().finally(() => {
      reading = undefined;
    }));

  new Gauge<string>({
    name: "driftwatch_leader",
    help: "1 on the process that exports the fleet gauges (the replica holding the fleet's lead; a single process always), 0 on the others.",
    labelNames: ownLabels,
    registers: [registry],
    async collect() {
      this.set(own, (await fleet()).leading ? 1 : 0);
    },
  });
  /**
   * A fleet gauge: filled from the store's state when this process exports them (each scrape sets every configured
   * stack's series again, so they are updated in place rather than rebuilt), emptied when it does not.
   */
  const fleetGauge = (name: string, help: string, labelNames: string[], fill: (gauge: Gauge<string>, state: NonNullable<FleetRead["state"]>) => void) =>
    new Gauge<string>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const { state } = await fleet();
        if (state) fill(this, state);
        else this.reset();
      },
    });

  fleetGauge(
    "driftwatch_stack_status",
    "1 for the stack's current status (from its last run), 0 for the others; unknown before the first run.",
    ["stack", "engine", "status"],
    (gauge, { lastRuns }) => {
      for (const stack of stacks) {
        const current = lastRuns.get(stack.name)?.verdict ?? "unknown";
        for (const s of STATUSES) gauge.set({ stack: stack.name, engine: stack.engine, status: s }, s === current ? 1 : 0);
      }
    },
  );
  fleetGauge("driftwatch_drifted_resources", "Resources that drifted, as of the stack's last run.", ["stack"], (gauge, { lastRuns }) => {
    for (const stack of stacks) gauge.set({ stack: stack.name }, lastRuns.get(stack.name)?.driftCount ?? 0);
  });
  fleetGauge("driftwatch_last_check_timestamp_seconds", "When the stack's last check finished (Unix time).", ["stack"], (gauge, { lastRuns }) => {
    for (const stack of stacks) {
      const last = lastRuns.get(stack.name);
      if (last) gauge.set({ stack: stack.name }, Date.parse(last.finishedAt) / 1000);
      else gauge.remove({ stack: stack.name });
    }
  });
  fleetGauge(
    "driftwatch_drift_episode_open_seconds",
    "How long the stack's open drift episode has been open; 0 when there is none.",
    ["stack"],
    (gauge, { openEpisodes, now: at }) => {
      for (const stack of stacks) {
        const opened = openEpisodes.get(stack.name)?.openedAt;
        gauge.set({ stack: stack.name }, opened === undefined ? 0 : Math.max(0, (at - Date.parse(opened)) / 1000));
      }
    },
  );

  return {
    registry,
    observe(result) {
      duration.observe(own, result.durationMs / 1000);
      checks.inc({ outcome: result.verdict, ...own });
    },
    skipped() {
      skips.inc(own);
    },
  };
}
