// The entry of the worker thread a report is computed on (off-thread.ts): it opens the database read-only, computes
// the report, posts it back, and ends. Nothing runs at import time besides reading its one message.
import { parentPort, workerData } from "node:worker_threads";
import { openSqliteStore } from "../store/sqlite/index.ts";
import { computeReport } from "./compute.ts";
import type { WorkerRequest, WorkerReply } from "./off-thread.ts";

function run(request: WorkerRequest): WorkerReply {
  const store = openSqliteStore(request.database, { readOnly: true });
  try {
    const report = computeReport({
      store,
      stacks: request.stacks,
      from: new Date(request.from),
      to: new Date(request.to),
      selection: request.selection,
      ...(request.name ? { name: request.name } : {}),
      generatedAt: new Date(request.generatedAt),
    });
    return { ok: true, report };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  } finally {
    store.close();
  }
}

if (parentPort && workerData) parentPort.postMessage(run(workerData as WorkerRequest));
