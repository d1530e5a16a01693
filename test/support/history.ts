// Run history with controlled timestamps: each run is recorded and its alert transition applied exactly as the
// pipeline does (planAlerts, then applyAlertTransition), so episodes open and close as they would have.
import type { StackConfig } from "../../src/config/types.ts";
import { verdictOf, type FlappingResource, type ResourceChange, type RunError, type Verdict } from "../../src/core/types.ts";
import { planAlerts } from "../../src/run/alert-plan.ts";
import type { Store } from "../../src/store/api.ts";

export interface RecordedRun {
  startedAt: string;
  durationMs?: number;
  changes?: ResourceChange[];
  error?: RunError;
  flapping?: FlappingResource[];
}

function verdictOfRun(run: RecordedRun): Verdict {
  const changes = run.changes ?? [];
  return run.error ? "error" : verdictOf({ drift: changes.filter((c) => c.kind === "drift"), pending: changes.filter((c) => c.kind === "pending") });
}

let counter = 0;

/** Records the runs of one stack in order; returns their run ids. */
export async function recordHistory(store: Store, stack: StackConfig, runs: readonly RecordedRun[]): Promise<string[]> {
  const runIds: string[] = [];
  for (const run of runs) {
    const runId = `r-${stack.name}-${++counter}`;
    const durationMs = run.durationMs ?? 30_000;
    const result = {
      runId,
      stack: stack.name,
      engine: stack.engine,
      verdict: verdictOfRun(run),
      commit: "0123456789abcdef0123456789abcdef01234567",
      trigger: "schedule",
      changes: run.changes ?? [],
      ...(run.error ? { error: run.error } : {}),
      ...(run.flapping ? { flapping: run.flapping } : {}),
      startedAt: new Date(run.startedAt).toISOString(),
      finishedAt: new Date(Date.parse(run.startedAt) + durationMs).toISOString(),
      durationMs,
    };
    await store.recordRun(result);
    const plan = planAlerts({
      stack,
      result,
      open: await store.openEpisode(stack.name),
      failure: await store.failureAlertState(stack.name),
      failureRepeatMs: 3_600_000,
    });
    if (plan) await store.applyAlertTransition({ ...plan, notifiers: [] });
    runIds.push(runId);
  }
  return runIds;
}

export function drift(address: string, type: string, path: string, desired: unknown = "a", actual: unknown = "b"): ResourceChange {
  return { kind: "drift", address, type, action: "update", properties: [{ path, desired, actual }] };
}

export function pending(address: string, type: string): ResourceChange {
  return { kind: "pending", address, type, action: "create", properties: [] };
}
