import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { globalRegistry, type z } from "zod";
import { configKeys, configReference, meaningful } from "./config-reference.ts";
import { configFileSchema } from "./schema.ts";
import { configReferencePath } from "./write-config-reference.ts";

/** Every schema in the tree under `schema` (objects' keys, lists' items, unions' options, wrappers' inner ones). */
function* schemasUnder(schema: z.ZodType, seen = new Set<z.ZodType>()): Generator<z.ZodType> {
  if (seen.has(schema)) return;
  seen.add(schema);
  yield schema;
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
  const children: unknown[] = [];
  if (def.shape) children.push(...Object.values(def.shape as Record<string, unknown>));
  for (const field of ["innerType", "element", "valueType", "in", "out", "left", "right"]) if (def[field]) children.push(def[field]);
  if (Array.isArray(def.options)) children.push(...(def.options as unknown[]));
  for (const child of children) yield* schemasUnder(child as z.ZodType, seen);
}

describe("docs/configuration.md", () => {
  it("is what the schema produces (run `node src/config/write-config-reference.ts` after changing it)", () => {
    expect(readFileSync(configReferencePath, "utf8")).toBe(configReference());
  });

  it("gives every key an example or a default worth showing, and every key's description", () => {
    const keys = configKeys();
    expect(keys.length).toBeGreaterThan(150);
    const bare = keys.filter((key) => !key.container && key.example === undefined && !meaningful(key.default)).map((key) => key.path);
    expect(bare).toEqual([]);
    expect(keys.filter((key) => key.description === "").map((key) => key.path)).toEqual([]);
  });

  it("has only examples the schema accepts", () => {
    let checked = 0;
    for (const schema of schemasUnder(configFileSchema)) {
      for (const example of (globalRegistry.get(schema)?.examples as unknown[] | undefined) ?? []) {
        const parsed = schema.safeParse(example);
        expect(parsed.success, `${JSON.stringify(example)}: ${parsed.error?.message ?? ""}`).toBe(true);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(70);
  });
});
