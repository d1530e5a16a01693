// The run history store: every run Driftwatch makes, with the changes it found. Implementations live beside this
// file (sqlite/); the rest of Driftwatch depends on this interface only.
import type { StackResult } from "../core/types.ts";

/** One run as `history` lists it: the result without its changes, counted instead. */
export type RunSummary = Omit<StackResult, "changes"> & {
  driftCount: number;
  pendingCount: number;
};

export interface ListRunsOptions {
  /** Only runs of this stack. */
  stack?: string;
  /** At most this many runs (a whole number ≥ 0); default 50. */
  limit?: number;
}

/**
 * Records results as given: the store does not redact (the pipeline masks secrets before recording).
 * Property values round-trip as JSON: `desired`/`actual` of any JSON type, including null, come back deep-equal;
 * an `undefined` `desired` or `actual` is stored and read back as `null` (as `diffProperties` reports absence).
 */
export interface Store {
  /** Records a run and its resource changes in one transaction: all of it or nothing. Throws on failure. */
  recordRun(result: StackResult): void;
  /** Newest first (by `startedAt`, then by recording order). */
  listRuns(options?: ListRunsOptions): RunSummary[];
  /** The run with its changes in recorded order, property values restored; undefined for an unknown id. */
  getRun(runId: string): StackResult | undefined;
  /** Closes the database. Calling it again does nothing. */
  close(): void;
}
