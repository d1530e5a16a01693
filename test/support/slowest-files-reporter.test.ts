import { describe, expect, it } from "vitest";
import { slowestLines } from "./slowest-files-reporter.ts";

describe("the slowest files at the end of a run", () => {
  it("lists the ten slowest, slowest first, with their seconds", () => {
    const files = Array.from({ length: 12 }, (_, i) => ({ name: `test/f${i}.test.ts`, seconds: i * 10.04 }));
    const lines = slowestLines(files);
    expect(lines).toHaveLength(10);
    expect(lines[0]).toBe("  110.4 s  test/f11.test.ts");
    expect(lines[9]).toBe("   20.1 s  test/f2.test.ts");
  });
});
