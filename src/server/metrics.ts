// Prometheus metrics of the service (prom-client), following its conventions: base units, _total counters,
// one gauge series per stack and status. Values come from run results as they are recorded, and from the
// store at scrape time for what changes with the clock (how long an episode has been open).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { StackConfig } from "../config/types.ts";
import type { StackResult, Verdict } from "../core/types.ts";
import type { Store } from "../store/api.ts";

const STATUSES: readonly (Verdict | "unknown")[] = ["in-sync", "drifted", "pending", "drifted+pending", "error", "unknown"];

export interface ServiceMetrics {
  readonly registry: Registry;
  /** Records a finished run. */
  observe(stack: StackConfig, result: StackResult): void;
  /** A scheduled tick skipped because the stack was busy. */
  skipped(): void;
}

export async function createMetrics(stacks: readonly StackConfig[], store: Pick<Store, "openEpisode" | "listRuns">): Promise<ServiceMetrics> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const status = new Gauge({
    name: "driftwatch_stack_status",
    help: "1 for the stack's current status (from its last run), 0 for the others; unknown before the first run.",
    labelNames: ["stack", "engine", "status"] as const,
    registers: [registry],
  });
  const drifted = new Gauge({
    name: "driftwatch_drifted_resources",
    help: "Resources that drifted, as of the stack's last run.",
    labelNames: ["stack"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "driftwatch_check_duration_seconds",
    help: "How long a check of one stack took.",
    buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800],
    registers: [registry],
  });
  const checks = new Counter({
    name: "driftwatch_checks_total",
    help: "Checks run, by outcome (the run's verdict).",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const lastCheck = new Gauge({
    name: "driftwatch_last_check_timestamp_seconds",
    help: "When the stack's last check finished (Unix time).",
    labelNames: ["stack"] as const,
    registers: [registry],
  });
  new Gauge({
    name: "driftwatch_drift_episode_open_seconds",
    help: "How long the stack's open drift episode has been open; 0 when there is none.",
    labelNames: ["stack"] as const,
    registers: [registry],
    async collect() {
      const now = Date.now();
      for (const s of stacks) {
        const episode = await store.openEpisode(s.name);
        this.set({ stack: s.name }, episode ? Math.max(0, (now - Date.parse(episode.openedAt)) / 1000) : 0);
      }
    },
  });
  const skips = new Counter({
    name: "driftwatch_scheduler_skipped_total",
    help: "Scheduled checks skipped because the stack's previous check had not finished.",
    registers: [registry],
  });

  const setStatus = (stack: StackConfig, current: Verdict | "unknown") => {
    for (const s of STATUSES) status.set({ stack: stack.name, engine: stack.engine, status: s }, s === current ? 1 : 0);
  };

  // What the store already knows, so a restarted service does not report "unknown" for checked stacks.
  for (const stack of stacks) {
    const [last] = await store.listRuns({ stack: stack.name, limit: 1 });
    setStatus(stack, last?.verdict ?? "unknown");
    drifted.set({ stack: stack.name }, last?.driftCount ?? 0);
    if (last) lastCheck.set({ stack: stack.name }, Date.parse(last.finishedAt) / 1000);
  }

  return {
    registry,
    observe(stack, result) {
      setStatus(stack, result.verdict);
      drifted.set({ stack: stack.name }, result.changes.filter((c) => c.kind === "drift").length);
      duration.observe(result.durationMs / 1000);
      checks.inc({ outcome: result.verdict });
      lastCheck.set({ stack: stack.name }, Date.parse(result.finishedAt) / 1000);
    },
    skipped() {
      skips.inc();
    },
  };
}
