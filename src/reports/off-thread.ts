// Computing a report without holding the service's event loop: on a worker thread with its own read-only
// connection to the database (SQLite's WAL lets it read while the service writes; on PostgreSQL, a small pool of
// its own). A report over a large fleet
// takes seconds (bench/report.ts); meanwhile the service keeps answering health probes, webhooks and the API.
import { Worker } from "node:worker_threads";
import type { DatabaseConfig } from "../config/types.ts";
import type { ReportInput, ReportStack } from "./compute.ts";
import type { FleetReport } from "./model.ts";
import type { FleetSummary } from "./summary.ts";

export interface WorkerRequest {
  /** The database the worker opens for reading. */
  database: DatabaseConfig;
  stacks: ReportStack[];
  from: string;
  to: string;
  selection: string[];
  name?: string;
  generatedAt: string;
  /** Only the report's summary (summary.ts) comes back, not the whole report. */
  summary?: boolean;
}

export type WorkerReply = { ok: true; report: FleetReport | FleetSummary } | { ok: false; error: string };

/** A report the worker could not compute; `message` says why (the worker's error). */
export class ReportComputeError extends Error {
  override name = "ReportComputeError";
}

/** computeReport's input, with the database the worker opens instead of a store. */
export type OffThreadInput = Omit<ReportInput, "store"> & { database: DatabaseConfig };

/** The worker's module beside this one: .ts when run from source, .js in the installed package (dist/). */
function workerEntry(): URL {
  return new URL(`./report-worker${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url);
}

/** computeReport on a worker thread; rejects with ReportComputeError. */
export function computeReportOffThread(input: OffThreadInput): Promise<FleetReport> {
  return offThread(input, false) as Promise<FleetReport>;
}

/** The summary of computeReport's report (summary.ts), computed on a worker thread that sends back only it. */
export function computeFleetSummaryOffThread(input: OffThreadInput): Promise<FleetSummary> {
  return offThread(input, true);
}

function offThread(input: OffThreadInput, summary: boolean): Promise<FleetReport | FleetSummary> {
  const request: WorkerRequest = {
    database: input.database,
    // Only what a report reads: plain data that crosses to the worker as is.
    stacks: input.stacks.map((s) => ({ name: s.name, engine: s.engine, schedule: { ...s.schedule } })),
    from: input.from.toISOString(),
    to: input.to.toISOString(),
    selection: [...(input.selection ?? [])],
    ...(input.name ? { name: input.name } : {}),
    generatedAt: (input.generatedAt ?? new Date()).toISOString(),
    ...(summary ? { summary } : {}),
  };
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerEntry(), { workerData: request });
    let settled = false;
    worker.once("message", (reply: WorkerReply) => {
      settled = true;
      if (reply.ok) resolve(reply.report);
      else reject(new ReportComputeError(reply.error));
    });
    worker.once("error", (error) => {
      settled = true;
      reject(new ReportComputeError(error.message, { cause: error }));
    });
    worker.once("exit", (code) => {
      if (!settled) reject(new ReportComputeError(`the report's worker thread ended (exit code ${code}) without a report`));
    });
  });
}
