// The entry of the worker thread a report is computed on (off-thread.ts): it opens the database read-only, computes
// the report, posts it back (or only its summary), and ends. Nothing runs at import time besides reading its one
// message.
import { parentPort, workerData } from "node:worker_threads";
import { openStore } from "../store/open.ts";
import { computeReport } from "./compute.ts";
import { fleetSummaryOf } from "./summary.ts";
import type { WorkerRequest, WorkerReply } from "./off-thread.ts";

async function run(request: WorkerRequest): Promise<WorkerReply> {
  const store = await openStore(request.database, { readOnly: true, poolSize: 2 });
  try {
    const report = await computeReport({
      store,
      stacks: request.stacks,
      from: new Date(request.from),
      to: new Date(request.to),
      selection: request.selection,
      ...(request.name ? { name: request.name } : {}),
      generatedAt: new Date(request.generatedAt),
    });
    return { ok: true, report: request.summary ? fleetSummaryOf(report) : report };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  } finally {
    await store.close();
  }
}

if (parentPort && workerData) {
  const port = parentPort;
  void run(workerData as WorkerRequest).then((reply) => port.postMessage(reply));
}
