// Where one run's time goes, phase by phase. Each moment is charged to the innermost phase being timed, so a phase
// timed inside another (a Pulumi program's dependency install inside the engine's detect) is not counted twice.

/** git: fetch, worktree, signature check, cleanup. install: program dependencies. engine: the engine's own work. store: recording the run and its alerts. */
export const PHASES = ["git", "install", "engine", "store"] as const;

export type Phase = (typeof PHASES)[number];

/** Milliseconds per phase. */
export type PhaseTimings = Record<Phase, number>;

export class PhaseTimer {
  private readonly totals: PhaseTimings = { git: 0, install: 0, engine: 0, store: 0 };
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
