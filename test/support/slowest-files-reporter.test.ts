import { describe, expect, it } from "vitest";
import { slowestLines } from "./slowest-files-reporter.ts";

describe("the slowest files at the end of a run", () => {
  it("lists the ten slowest, slowest first, with their seconds and CPU seconds", () => {
    const files = Array.from({ length: 12 }, (_, i) => ({ name: `test/f${i}.test.ts`, seconds: i * 10.04, cpuSeconds: i * 5 }));
    const lines = slowestLines(files, 10);
    expect(lines).toHaveLength(10);
    expect(lines[0]).toBe("  110.4 s   55.0 s CPU  test/f11.test.ts");
    expect(lines[9]).toBe("   20.1 s   10.0 s CPU  test/f2.test.ts");
    expect(slowestLines([{ name: "test/x.test.ts", seconds: 1 }])).toEqual(["    1.0 s               test/x.test.ts"]);
  });
});
