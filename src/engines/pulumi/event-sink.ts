// The engine events of one Pulumi operation, kept for reading into drift and pending, and bounded: a program can
// make its engine emit events without end (a log line per resource, diagnostics as large as it likes), and the
// service holds every event of an operation. Past MAX_EVENT_BYTES of them the operation is stopped.
import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";

/** The most of one operation's events (their JSON) Driftwatch keeps. */
export const MAX_EVENT_BYTES = 64 * 1024 * 1024;

export class EventSink {
  readonly events: EngineEvent[] = [];
  readonly #stop = new AbortController();
  readonly #limit: number;
  #bytes = 0;

  constructor(limit = MAX_EVENT_BYTES) {
    this.#limit = limit;
  }

  /** Aborted when the events passed the limit: the operation is to stop. */
  get signal(): AbortSignal {
    return this.#stop.signal;
  }

  get overflowed(): boolean {
    return this.#stop.signal.aborted;
  }

  /** Keeps an event, unless the events are past the limit already (then the operation is stopped). */
  readonly push = (event: EngineEvent): void => {
    if (this.overflowed) return;
    this.#bytes += JSON.stringify(event).length;
    if (this.#bytes > this.#limit) this.#stop.abort();
    else this.events.push(event);
  };
}
