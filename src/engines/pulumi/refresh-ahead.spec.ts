import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import { describe, expect, it } from "vitest";
import { RefreshAhead } from "./refresh-ahead.ts";

/** A question the test answers (or fails) when it likes, as the engine would. */
interface Question {
  target: string[];
  stop: AbortSignal;
  answer: () => void;
  fail: (error: Error) => void;
}

function questions() {
  const asked: Question[] = [];
  const ask = (target: string[], stop: AbortSignal) =>
    new Promise<readonly EngineEvent[]>((resolve, reject) => {
      const events = target.map((urn) => ({ resOutputsEvent: { metadata: { urn } } }) as unknown as EngineEvent);
      asked.push({ target, stop, answer: () => resolve(events), fail: reject });
      stop.addEventListener("abort", () => reject(new Error("stopped")));
    });
  return { asked, ask };
}
const urns = (events: readonly EngineEvent[]) => events.map((e) => e.resOutputsEvent!.metadata.urn);
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe("RefreshAhead", () => {
  it("asks at once, puts what comes meanwhile into the next question, and leaves what was never asked", async () => {
    const { asked, ask } = questions();
    const failures: string[][] = [];
    const ahead = new RefreshAhead(ask, (_, target) => failures.push([...target]));
    ahead.offer("a");
    ahead.offer("b");
    ahead.offer("c");
    ahead.offer("a");
    expect(asked.map((q) => q.target)).toEqual([["a"]]);
    asked[0]!.answer();
    await settled();
    expect(asked.map((q) => q.target)).toEqual([["a"], ["b", "c"]]);
    ahead.offer("d");
    const closing = ahead.close();
    ahead.offer("e");
    asked[1]!.answer();
    expect(urns(await closing)).toEqual(["a", "b", "c"]);
    // d waited for a question the pass's end left to the one after it; e came after the close.
    expect(asked).toHaveLength(2);
    expect(failures).toEqual([]);
  });

  it("reports a failed question and gives no answer for it", async () => {
    const { asked, ask } = questions();
    const failures: string[][] = [];
    const ahead = new RefreshAhead(ask, (_, target) => failures.push([...target]));
    ahead.offer("a");
    asked[0]!.fail(new Error("the CLI exited 255"));
    await settled();
    ahead.offer("b");
    asked[1]!.answer();
    expect(urns(await ahead.close())).toEqual(["b"]);
    expect(failures).toEqual([["a"]]);
  });

  it("stops the question in flight when cancelled, and has ended it when cancel returns", async () => {
    const { asked, ask } = questions();
    const ahead = new RefreshAhead(ask, () => {});
    ahead.offer("a");
    ahead.offer("b");
    await ahead.cancel();
    expect(asked).toHaveLength(1);
    expect(asked[0]!.stop.aborted).toBe(true);
    expect(urns(await ahead.close())).toEqual([]);
  });
});
