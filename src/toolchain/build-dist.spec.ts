import { describe, expect, it } from "vitest";
import { moduleJavaScript } from "./build-dist.ts";

describe("dist/ from src/", () => {
  it("strips types in place, so every line stays where it was, and renames relative .ts imports", () => {
    const source = [
      "#!/usr/bin/env node",
      'import { a, type B } from "./a.ts";',
      'import type { C } from "../c.ts";',
      'export * from "./d.ts";',
      'import "./side-effect.ts";',
      "const x: number = 1;",
      'const lazy = await import("./lazy.ts");',
      'const text = "from ./not-an-import.ts";',
      'import { z } from "zod";',
      "export function f(b: B): C | undefined { return undefined as C | undefined; }",
    ].join("\n");
    const out = moduleJavaScript(source);
    const lines = out.split("\n");
    expect(lines).toHaveLength(10);
    expect(lines[0]).toBe("#!/usr/bin/env node");
    expect(lines[1]).toMatch(/^import \{ a,\s+\} from "\.\/a\.js";$/);
    expect(lines[2]!.trim()).toBe("");
    expect(lines[3]).toBe('export * from "./d.js";');
    expect(lines[4]).toBe('import "./side-effect.js";');
    expect(lines[5]).toMatch(/^const x\s+= 1;$/);
    expect(lines[6]).toBe('const lazy = await import("./lazy.js");');
    expect(lines[7]).toBe('const text = "from ./not-an-import.ts";');
    expect(lines[8]).toBe('import { z } from "zod";');
    expect(lines[9]).toMatch(/^export function f\(b\s*\)\s*\{ return undefined\s*; \}$/);
  });

  it("refuses what Node cannot strip (an enum), rather than shipping it half-translated", () => {
    expect(() => moduleJavaScript("enum E { A }\n")).toThrow();
  });
});
