// The home page's fleet report, computed at most every few seconds however many browsers refresh it. Computing it
// reads every run of the last days (in the service on a worker thread: reports/off-thread.ts), so a report is
// reused for a while, longer the more it cost: at most 1/COST_FACTOR of the time goes to it, but never longer than
// MAX_AGE (30 s), so the summary follows the table within about half a minute even on a busy machine, where a
// computation that took 3 s would otherwise be reused for a minute. A report past its time
// is still shown at once while the next one is computed in the background (only the very first request waits),
// and one computation serves every request that arrives during it. The stack table is read fresh on every
// request; the summary says when its report was made. What is kept is what `compute` returns (the service keeps
// the summary's part of the report, not its per-stack parts).

export interface FleetReportCacheOptions {
  /** A report younger than this is always reused. */
  minAgeMs?: number;
  /** A report is reused for at least COST_FACTOR times what it took to compute. */
  costFactor?: number;
  /** ...and never longer than this. */
  maxAgeMs?: number;
  /** The time reports are dated and aged by, in ms (default Date.now). */
  clock?: () => number;
  /** What a computation's cost is measured with, in ms (default performance.now). */
  stopwatch?: () => number;
  /** A background computation failed (the previous report stays in use). */
  onError?: (error: unknown) => void;
}

export class FleetReportCache<R> {
  readonly #compute: (now: Date) => Promise<R>;
  readonly #minAgeMs: number;
  readonly #costFactor: number;
  readonly #maxAgeMs: number;
  readonly #clock: () => number;
  readonly #stopwatch: () => number;
  readonly #onError: (error: unknown) => void;
  #entry: { report: R; at: number; costMs: number } | undefined;
  #computing: Promise<R> | undefined;

  constructor(compute: (now: Date) => Promise<R>, options: FleetReportCacheOptions = {}) {
    this.#compute = compute;
    this.#minAgeMs = options.minAgeMs ?? 4_000;
    this.#costFactor = options.costFactor ?? 20;
    this.#maxAgeMs = options.maxAgeMs ?? 30_000;
    this.#clock = options.clock ?? Date.now;
    this.#stopwatch = options.stopwatch ?? (() => performance.now());
    this.#onError = options.onError ?? (() => {});
  }

  /** The current report: the cached one (fresh, or stale while the next is computed), else the first one computed. */
  async get(): Promise<R> {
    const now = this.#clock();
    const entry = this.#entry;
    const reuseMs = Math.min(this.#maxAgeMs, Math.max(this.#minAgeMs, entry ? entry.costMs * this.#costFactor : 0));
    if (entry && now - entry.at < reuseMs) return entry.report;
    const next = this.#refresh(now);
    if (!entry) return next;
    next.catch(this.#onError);
    return entry.report;
  }

  #refresh(now: number): Promise<R> {
    this.#computing ??= (async () => {
      const started = this.#stopwatch();
      try {
        const report = await this.#compute(new Date(now));
        this.#entry = { report, at: now, costMs: this.#stopwatch() - started };
        return report;
      } finally {
        this.#computing = undefined;
      }
    })();
    return this.#computing;
  }
}
