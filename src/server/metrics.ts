// Prometheus metrics of the service, following prom-client's conventions: base units, _total counters, one gauge
// series per stack and status. Two kinds:
//
//   per process   what this process did (its checks by outcome, their durations, skipped ticks) and prom-client's
//                 process/Node.js metrics. In a fleet (PostgreSQL) each series carries `replica` (host:pid, as the
//                 runs it records name it): sum them across replicas. A single process has no such label, as before.
//   fleet gauges  the stacks' state (status, drifted resources, last check, open episode), read from the store at
//                 each scrape in two queries whatever the number of stacks. Only the process that holds the lead
//                 exports them (a single process always does); `driftwatch_leader` says which one does, so a
//                 query over every replica counts each stack once.
//
// The per-process series live in a prom-client Registry. The fleet gauges do not: 10,000 stacks make 90,000 series,
// which prom-client would keep between scrapes (a labels object, a key and a value each: about 16 MB, and its
// exposition string at once). They are written at each scrape straight from the store's read, a few hundred stacks
// at a time as the response is sent, and nothing of them is kept once it is.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Logger } from "pino";
import type { StackConfig } from "../config/types.ts";
import { errorMessage } from "../core/errors.ts";
import type { StackResult, Verdict } from "../core/types.ts";
import type { Store } from "../store/api.ts";
import { readStackStates, type StackStates } from "./stack-states.ts";

const STATUSES: readonly (Verdict | "unknown")[] = ["in-sync", "drifted", "pending", "drifted+pending", "error", "unknown"];

export interface ServiceMetrics {
  /** The exposition's content type (Prometheus text format 0.0.4). */
  readonly contentType: string;
  /**
   * One scrape: reads the store (one read shared by the scrapes in flight at once), then the exposition in chunks,
   * the fleet gauges rendered as each chunk is taken (send it as a stream: it is never whole in memory).
   */
  scrape(): Promise<Iterable<string>>;
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
  state?: FleetState;
}

type FleetState = StackStates & { now: number };

/** Stacks whose series make one chunk of the exposition (about 60 KB of driftwatch_stack_status). */
const CHUNK_STACKS = 100;

/** A fleet gauge: its name, help, and the sample lines of one stack (empty for none). */
interface FleetGauge {
  name: string;
  help: string;
  lines(stack: StackConfig, label: string, state: FleetState): string;
}

const FLEET_GAUGES: readonly FleetGauge[] = [
  {
    name: "driftwatch_stack_status",
    help: "1 for the stack's current status (from its last run), 0 for the others; unknown before the first run.",
    lines(stack, label, { lastRuns }) {
      const current = lastRuns.get(stack.name)?.verdict ?? "unknown";
      const engine = labelValue(stack.engine);
      let text = "";
      for (const s of STATUSES) text += `driftwatch_stack_status{stack="${label}",engine="${engine}",status="${s}"} ${s === current ? 1 : 0}\n`;
      return text;
    },
  },
  {
    name: "driftwatch_drifted_resources",
    help: "Resources that drifted, as of the stack's last run.",
    lines: (stack, label, { lastRuns }) => `driftwatch_drifted_resources{stack="${label}"} ${sampleValue(lastRuns.get(stack.name)?.driftCount ?? 0)}\n`,
  },
  {
    name: "driftwatch_last_check_timestamp_seconds",
    help: "When the stack's last check finished (Unix time).",
    lines(stack, label, { lastRuns }) {
      const last = lastRuns.get(stack.name);
      return last ? `driftwatch_last_check_timestamp_seconds{stack="${label}"} ${sampleValue(Date.parse(last.finishedAt) / 1000)}\n` : "";
    },
  },
  {
    name: "driftwatch_drift_episode_open_seconds",
    help: "How long the stack's open drift episode has been open; 0 when there is none.",
    lines(stack, label, { openEpisodes, now: at }) {
      const opened = openEpisodes.get(stack.name)?.openedAt;
      return `driftwatch_drift_episode_open_seconds{stack="${label}"} ${sampleValue(opened === undefined ? 0 : Math.max(0, (at - Date.parse(opened)) / 1000))}\n`;
    },
  },
];

/** The fleet gauges' part of the exposition: each gauge's HELP and TYPE, and its samples when there is a state. */
function* fleetGauges(stacks: readonly StackConfig[], state: FleetState | undefined): Generator<string> {
  for (const gauge of FLEET_GAUGES) {
    yield `\n# HELP ${gauge.name} ${gauge.help}\n# TYPE ${gauge.name} gauge\n`;
    if (!state) continue;
    for (let i = 0; i < stacks.length; i += CHUNK_STACKS) {
      let text = "";
      for (let j = i; j < Math.min(i + CHUNK_STACKS, stacks.length); j += 1) text += gauge.lines(stacks[j]!, labelValue(stacks[j]!.name), state);
      yield text;
    }
  }
}

/** A label value as the text format writes it (prom-client's escaping). */
function labelValue(value: string): string {
  return /[\\\n"]/.test(value) ? value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"') : value;
}

/** A sample's value as prom-client writes it. */
function sampleValue(value: number): string {
  if (Number.isNaN(value)) return "Nan";
  if (!Number.isFinite(value)) return value < 0 ? "-Inf" : "+Inf";
  return `${value}`;
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

  // The fleet gauges of one scrape come from one read of the store, shared by scrapes that overlap it.
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

  // Set by each scrape from its read (not a collect of its own, so that a scrape reads the store once).
  const leader = new Gauge<string>({
    name: "driftwatch_leader",
    help: "1 on the process that exports the fleet gauges (the replica holding the fleet's lead; a single process always), 0 on the others.",
    labelNames: ownLabels,
    registers: [registry],
  });

  return {
    contentType: registry.contentType,
    async scrape() {
      const read = await fleet();
      leader.set(own, read.leading ? 1 : 0);
      const head = await registry.metrics();
      return (function* () {
        yield head;
        yield* fleetGauges(stacks, read.state);
      })();
    },
    observe(result) {
      duration.observe(own, result.durationMs / 1000);
      checks.inc({ outcome: result.verdict, ...own });
    },
    skipped() {
      skips.inc(own);
    },
  };
}
