// Work that several callers use at once (a repository's fetch, a commit's checkout): started by the first, and
// stopped as soon as nobody needs it any more (every caller's run timed out or Driftwatch is stopping), so a
// stalled remote holds nothing once its last caller gave up, and the next caller starts afresh.

export class SharedWork<T> {
  readonly result: Promise<T>;
  readonly #controller = new AbortController();
  #users = 0;
  #settled = false;

  constructor(work: (signal: AbortSignal) => Promise<T>) {
    this.result = work(this.#controller.signal);
    const settle = () => {
      this.#settled = true;
    };
    this.result.then(settle, settle); // also keeps a failure nobody waits for from being unhandled
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** Stopped before it settled because its last user left: a later caller must start it anew. */
  get abandoned(): boolean {
    return this.#controller.signal.aborted;
  }

  get users(): number {
    return this.#users;
  }

  /** Counts one more user; the returned function (idempotent) counts it out, stopping unfinished work nobody uses. */
  enter(): () => void {
    this.#users += 1;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#users -= 1;
      if (this.#users === 0 && !this.#settled) this.#controller.abort();
    };
  }
}

/** `promise`, unless `signal` aborts first: then rejects with `stopped(signal)` (the promise runs on). */
export function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined, stopped: (signal: AbortSignal) => Error): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(stopped(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(stopped(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
