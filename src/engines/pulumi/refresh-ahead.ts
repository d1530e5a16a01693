// The engine's verdict on a resource, asked as soon as the one pass shows it cannot tell that resource's drift (a
// masked secret: see verdictNeeded in one-pass.ts) instead of after the pass. A preview-only refresh costs a whole
// CLI run (about a second for one dynamic resource: its start, the state, the provider's); asked while the pass is
// still running the program, most of it is hidden behind the pass. Neither takes the stack's lock.
//
// One question at a time: resources offered while one is in flight go into the next. Closing stops asking; what
// was never asked, or whose question failed, is left to the question the engine asks after the pass, with
// whatever else the pass could not tell, so a failure here costs time and never an answer.
import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";

/** A preview-only refresh of `target` (URNs), stopped when `stop` aborts; its events. */
export type RefreshQuestion = (target: string[], stop: AbortSignal) => Promise<readonly EngineEvent[]>;

export class RefreshAhead {
  readonly #ask: RefreshQuestion;
  readonly #onFailure: (error: unknown, target: readonly string[]) => void;
  readonly #stop = new AbortController();
  readonly #offered = new Set<string>();
  #waiting: string[] = [];
  readonly #events: EngineEvent[] = [];
  #inFlight: Promise<void> | undefined;
  #closed = false;

  constructor(ask: RefreshQuestion, onFailure: (error: unknown, target: readonly string[]) => void) {
    this.#ask = ask;
    this.#onFailure = onFailure;
  }

  /** A resource whose drift only the engine's verdict tells: asked now, or in the question after the one in flight. */
  offer(urn: string): void {
    if (this.#closed || this.#offered.has(urn)) return;
    this.#offered.add(urn);
    this.#waiting.push(urn);
    this.#next();
  }

  #next(): void {
    if (this.#closed || this.#inFlight || this.#waiting.length === 0) return;
    const target = this.#waiting;
    this.#waiting = [];
    this.#inFlight = this.#ask(target, this.#stop.signal)
      .then(
        (events) => {
          for (const event of events) this.#events.push(event);
        },
        (error: unknown) => this.#onFailure(error, target),
      )
      .finally(() => {
        this.#inFlight = undefined;
        this.#next();
      });
  }

  /** Stops asking, waits for the question in flight, and gives the events of every question that was answered. */
  async close(): Promise<readonly EngineEvent[]> {
    this.#closed = true;
    while (this.#inFlight) await this.#inFlight;
    return this.#events;
  }

  /** Stops the question in flight (the pass failed) and waits until it has ended. */
  async cancel(): Promise<void> {
    this.#stop.abort();
    await this.close();
  }
}
