// What a one-shot check or converge shows on a terminal while it runs (stderr, when it is one): how many stacks,
// then one line per stack as it finishes, with its verdict and time. The results themselves go to stdout.
import type { StackResult } from "../core/types.ts";

/** Whether `stream` is a terminal (a person is watching it). */
export function isTerminal(stream: NodeJS.WritableStream): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}

export class TerminalProgress {
  readonly #out: NodeJS.WritableStream;
  readonly #doing: string;
  #total = 0;
  #done = 0;

  constructor(out: NodeJS.WritableStream, doing: "checking" | "converging") {
    this.#out = out;
    this.#doing = doing;
  }

  start(stacks: number): void {
    this.#total = stacks;
    if (stacks > 0) this.#out.write(`${this.#doing} ${stacks} ${stacks === 1 ? "stack" : "stacks"}…\n`);
  }

  finished(result: StackResult): void {
    this.#done += 1;
    const seconds = `${(result.durationMs / 1000).toFixed(1)} s`;
    const what = result.error ? `${result.verdict} (${result.error.kind})` : result.verdict;
    this.#out.write(`  [${this.#done}/${this.#total}] ${result.stack}: ${what}, ${seconds}\n`);
  }
}
