import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import { describe, expect, it } from "vitest";
import { EventSink } from "./event-sink.ts";

const event = (sequence: number, message = ""): EngineEvent => ({ sequence, timestamp: 0, diagnosticEvent: { message, color: "never", severity: "info" } }) as EngineEvent;

describe("EventSink", () => {
  it("keeps events in order while they fit", () => {
    const sink = new EventSink(10_000);
    for (let i = 0; i < 3; i++) sink.push(event(i, "fine"));
    expect(sink.events.map((e) => e.sequence)).toEqual([0, 1, 2]);
    expect(sink.overflowed).toBe(false);
    expect(sink.signal.aborted).toBe(false);
  });

  it("stops the operation once the events pass the limit, and keeps nothing more", () => {
    const sink = new EventSink(1_000);
    sink.push(event(0, "small"));
    sink.push(event(1, "x".repeat(2_000)));
    sink.push(event(2, "small again"));
    expect(sink.overflowed).toBe(true);
    expect(sink.signal.aborted).toBe(true);
    expect(sink.events.map((e) => e.sequence)).toEqual([0]);
  });
});
