// Where one run's time goes, phase by phase. Each moment is charged to the innermost phase being timed, so a phase
// timed inside another (a Pulumi program's dependencies inside the engine's detect, the worktree inside the Git
// source's acquire) is not counted twice, and a moment outside every phase is nobody's.

/**
 * - git: fetching the mirror, resolving the ref, the commit's signature check;
 * - worktree: checking the commit out into the run's worktree, and removing it after the run;
 * - dependencies: a Pulumi program's npm dependencies (linking and verifying the cache entry, or installing it);
 * - engine: the engine's own work: its processes (init, plan, show; stack select, preview) and what waits on them;
 * - parse: reading the engine's answer into drift and pending, the ignore rules, masking the result's secrets;
 * - store: recording the run (its start, the flapping history, the run itself) and its alerts.
 */
export const PHASES = ["git", "worktree", "dependencies", "engine", "parse", "store"] as const;

export type Phase = (typeof PHASES)[number];

/** Milliseconds per phase. */
export type PhaseTimings = Record<Phase, number>;

export class PhaseTimer {
  private readonly totals = Object.fromEntries(PHASES.map((phase) => [phase, 0])) as PhaseTimings;
  /** The phases being timed, innermost last. */
  private readonly open: Phase[] = [];
  private since = 0;
  private readonly now: () => number;

  /** `now`: the clock, in ms (default performance.now). */
  constructor(now: () => number = () => performance.now()) {
    this.now = now;
  }

  /** Runs `work` as `phase`. One timer's sections run one after another or nested, never side by side. */
  async time<T>(phase: Phase, work: () => T | Promise<T>): Promise<T> {
    this.charge();
    this.open.push(phase);
    try {
      return await work();
    } finally {
      this.charge();
      this.open.pop();
    }
  }

  /** The milliseconds charged to each phase so far, rounded. */
  timings(): PhaseTimings {
    const rounded = { ...this.totals };
    for (const phase of PHASES) rounded[phase] = Math.round(rounded[phase]);
    return rounded;
  }

  private charge(): void {
    const now = this.now();
    const current = this.open.at(-1);
    if (current) this.totals[current] += now - this.since;
    this.since = now;
  }
}

/** `work` timed as `phase` when there is a timer; just `work` otherwise. */
export function timed<T>(timer: PhaseTimer | undefined, phase: Phase, work: () => Promise<T>): Promise<T> {
  return timer ? timer.time(phase, work) : work();
}
